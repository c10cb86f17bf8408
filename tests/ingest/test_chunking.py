"""Chunks of the real corpus: verbatim slices, unique ids, size cap, clause paths, records, no bare headings."""

from __future__ import annotations

import re

import pytest
from helpers import DOC_IDS, RENHUAI, make_settings

from ingest.chunking import ChunkSettings, chunk_document, split_long
from ingest.pipeline import prepare_documents
from policyqa.service import chunk_settings

LABEL = re.compile(r"(第[一二三四五六七八九十百零]+[章条]|[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\(\d{1,2}\)"
                   r"|\d{1,3}[.、]?|[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])\s*")


@pytest.fixture(scope="module", params=[400, 120], ids=["max400", "max120"])
def prepared(request, corpus_dir):
    settings = make_settings(data_dir="unused", corpus_dir=corpus_dir, chunk_max_chars=request.param)
    report = prepare_documents([corpus_dir], chunk_settings(settings))
    assert report.ok, report.errors
    return request.param, {d.doc_id: d for d in report.documents}, report.chunks


def test_default_chunk_settings_come_from_settings():
    assert chunk_settings(make_settings()) == ChunkSettings()  # the same defaults on both sides
    assert ChunkSettings() == ChunkSettings(max_chars=400, min_chars=20, whole_clauses=True, context="parent")


def test_all_documents_are_chunked(prepared):
    _, docs, chunks = prepared
    assert sorted(docs) == DOC_IDS
    assert {c.doc_id for c in chunks} == set(DOC_IDS)


def test_chunk_text_is_a_verbatim_slice(prepared):
    _, docs, chunks = prepared
    for c in chunks:
        assert docs[c.doc_id].text[c.start:c.end] == c.text, c.chunk_id
        assert c.text == c.text.strip() and c.text


def test_chunk_ids_unique(prepared):
    _, _, chunks = prepared
    ids = [c.chunk_id for c in chunks]
    assert len(ids) == len(set(ids))
    for c in chunks:
        assert c.chunk_id == c.clause_id or re.fullmatch(re.escape(c.clause_id) + r"~\d+", c.chunk_id)


def test_chunks_respect_max_size(prepared):
    max_chars, _, chunks = prepared
    too_long = [(c.chunk_id, len(c.text)) for c in chunks if len(c.text) > max_chars]
    assert not too_long


def test_small_cap_really_splits_long_clauses(prepared):
    max_chars, _, chunks = prepared
    split = [c for c in chunks if "~" in c.chunk_id]
    assert split, "some clauses of this corpus are longer than the cap and must be split"
    if max_chars == 120:
        assert len(split) > 50


def test_chunks_cover_the_document_in_order(prepared):
    """Nothing of a document is lost between chunks, and chunks do not overlap."""
    _, docs, chunks = prepared
    for doc_id, doc in docs.items():
        mine = [c for c in chunks if c.doc_id == doc_id]
        assert all(a.end <= b.start for a, b in zip(mine, mine[1:], strict=False)), doc_id
        covered = bytearray(len(doc.text))
        for c in mine:
            covered[c.start:c.end] = b"\x01" * (c.end - c.start)
        lost = [i for i, ch in enumerate(doc.text) if not covered[i] and not ch.isspace()]
        assert not lost, f"{doc_id}: text not in any chunk at {lost[:3]}: {doc.text[lost[0]:lost[0] + 20]!r}"


def test_every_chunk_has_its_clause_path(prepared):
    _, docs, chunks = prepared
    for c in chunks:
        clauses = {cl.clause_id: cl for cl in docs[c.doc_id].clauses}
        assert c.clause_id in clauses
        assert c.clause_path and c.clause_path == clauses[c.clause_id].path
        assert docs[c.doc_id].title in c.index_text and c.clause_path in c.index_text and c.text in c.index_text


def test_table_row_chunks_carry_their_record(prepared):
    _, docs, chunks = prepared
    records = docs[RENHUAI].records
    assert len(records) == 10
    for r in records:
        holders = [c for c in chunks if c.clause_id == r.clause_id]
        assert holders, r.clause_id
        for c in holders:
            assert c.records == [r]
            assert r.render() in c.index_text
            assert r.task in c.text
    course = next(c for c in chunks if c.chunk_id == f"{RENHUAI}#三.3")
    assert course.records[0].lead == ["教研室"] and course.records[0].assisting == ["基教股"]
    # only table rows carry records
    assert all(c.clause_id in {r.clause_id for r in records} for c in chunks if c.records)


def heading_spans(doc, start, end):
    """(from, to) of each clause heading (number + title) that starts inside [start, end)."""
    spans = []
    for c in doc.clauses:
        if c.clause_id.endswith("#preamble") or not (start <= c.start < end):
            continue
        m = LABEL.match(doc.text, c.start)
        if not m:
            continue
        pos = m.end()
        if c.heading and doc.text.startswith(c.heading, pos):
            pos += len(c.heading)
        spans.append((c.start, pos))
    return spans


def test_no_chunk_is_only_a_bare_heading(prepared):
    """A heading alone ("(二)持续深化办学改革,提升学校管理水平") answers nothing; it must travel with its body."""
    _, docs, chunks = prepared
    bare = []
    for c in chunks:
        doc = docs[c.doc_id]
        rest = list(doc.text[c.start:c.end])
        for a, b in heading_spans(doc, c.start, c.end):
            for i in range(max(a, c.start), min(b, c.end)):
                rest[i - c.start] = " "
        if not re.sub(r"[\s。,,;;::]", "", "".join(rest)):
            bare.append(c.chunk_id)
    assert not bare, f"{len(bare)} bare-heading chunks: {bare}"


def test_bare_heading_detector_catches_a_heading_alone():
    """The detector above is not vacuous: on a synthetic document it flags a heading-only chunk."""
    from ingest.structure import parse_clauses
    from policyqa.models import Document

    text = "一、总体要求\n全面落实。\n二、主要工作\n(一)优化学校资源配置,加快教育发展步伐\n1.优化布局。制定专项规划。\n"
    doc = Document(doc_id="d", title="t", text=text)
    doc.clauses = parse_clauses("d", text)
    s = text.index("(一)")
    e = text.index("\n1.")
    assert heading_spans(doc, s, e) == [(s, e)]  # the whole "(一)…步伐" span is heading
    item = text.index("1.优化布局")
    assert heading_spans(doc, item, len(text)) == [(item, item + len("1.优化布局"))]


def test_split_long_pieces_cover_text_and_end_at_sentences():
    text = "第一句话讲目标。" * 30 + "最后一句没有句号"
    pieces = split_long(text, 50)
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 50 for _, p in pieces)
    assert all(text[o:o + len(p)] == p for o, p in pieces)
    assert all(p.endswith("。") for _, p in pieces[:-1])


def test_tiny_clauses_merge_forward(corpus_dir):
    from ingest.pipeline import load_document

    doc = load_document(corpus_dir / f"{RENHUAI}.txt")
    chunks = chunk_document(doc, ChunkSettings(max_chars=400, min_chars=20))
    ids = [c.chunk_id for c in chunks]
    # "四、工作内容" has no text of its own: it opens the chunk of its first item instead of standing alone
    assert f"{RENHUAI}#四" not in ids
    first = next(c for c in chunks if c.chunk_id == f"{RENHUAI}#四.(一)")
    assert first.text.startswith("四、工作内容\n(一)实施学校治理现代化工程。")


def test_every_article_is_its_own_chunk():
    """An article is what a law is cited by: a one-sentence article is not merged into the next one (its
    sentence looks like a heading), and a chapter of short articles is not kept whole as one chunk."""
    from helpers import EXTCORPUS, LAWCORPUS

    from ingest.pipeline import load_document

    law = load_document(LAWCORPUS / "08_national_defense_education_law.txt")
    chunks = chunk_document(law, ChunkSettings())
    day = next(c for c in chunks if "全民国防教育日。" in c.text and c.text.startswith("第十二条"))
    assert day.text == "第十二条 每年九月的第三个星期六为全民国防教育日。"
    assert day.clause_id.endswith("第十二条")
    measures = load_document(EXTCORPUS / "03_moe_tiyu_meiyu_jianzhi_jiaoshi_banfa_2017.txt")
    for c in chunk_document(measures, ChunkSettings()):
        assert len(re.findall(r"(?:^|\n)第[一二三四五六七八九十]+条", c.text)) <= 1, c.text[:80]


def test_a_lists_last_short_items_stay_with_it():
    """A short last item ("(十一)学校有未依法履行职责的其他情形。") belongs to its article's list: it is not carried
    into the next article's chunk, which would cite it under the wrong number; a bare heading still opens the
    chunk of what it heads."""
    from helpers import EXTCORPUS

    from ingest.pipeline import load_document

    regulation = load_document(EXTCORPUS / "12_ningbo_xuexiao_anquan_tiaoli_2020.txt")
    chunks = chunk_document(regulation, ChunkSettings())
    for c in chunks:  # an article's chunk starts with it (after its chapter's heading), no other article's end
        article = re.search(r"第[一二三四五六七八九十]+条", c.clause_id)
        first = re.search(r"(?:^|\n)(第[一二三四五六七八九十]+条)", c.text)
        if article and first:
            assert first.group(1) == article.group(0), (c.chunk_id, c.text[:60])
            assert re.fullmatch(r"(第[一二三四五六七八九十]+章[^\n]*\n)?", c.text[:first.start(1)]), c.text[:60]
    last_item = next(c for c in chunks if "(十一)学校有未依法履行职责的其他情形。" in c.text)
    assert "第三十一条" in last_item.clause_id and "第三十二条" not in last_item.text
    chapter = next(c for c in chunks if c.text.startswith("第三章"))  # the chapter heading opens its first article
    assert "第三十条" in chapter.clause_id


def test_an_articles_paragraph_after_its_list_is_cited_under_the_article():
    """教师法 第十一条 lists six degrees, then says what one without them must do: that paragraph is the article's own
    chunk, cited as 第十一条, not part of the chunk of item (六)."""
    from helpers import LAWCORPUS

    from ingest.pipeline import load_document

    law = load_document(LAWCORPUS / "13_teachers_law.txt")
    chunks = chunk_document(law, ChunkSettings())
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    exam = next(c for c in chunks if "必须通过国家教师资格考试" in c.text)
    assert exam.clause_id.endswith("第十一条") and exam.text.startswith("不具备本法规定的教师资格学历的公民")
    sixth = next(c for c in chunks if c.clause_id.endswith("第十一条.(六)"))
    assert sixth.text.endswith("中等学校毕业及其以上学历。")


def test_an_article_is_indexed_under_its_own_section():
    """民法典 第一千零七十四条 (grandparents' duty to raise a grandchild) is in 第五编 婚姻家庭 › 第三章 家庭关系 ›
    第二节 父母子女关系和其他近亲属关系: its indexed text names that section, not the chapter's first (夫妻关系), and the
    article before the section's heading does not end with it."""
    from helpers import LAWCORPUS

    from ingest.pipeline import load_document

    code = load_document(LAWCORPUS / "01_civil_code.txt")
    chunks = chunk_document(code, ChunkSettings())
    grandparents = next(c for c in chunks if c.text.startswith("第一千零七十四条"))
    assert "第二节 父母子女关系和其他近亲属关系" in grandparents.index_text
    assert "夫妻关系" not in grandparents.index_text
    assert grandparents.clause_path.startswith("第五编婚姻家庭 › 第三章家庭关系 › 第二节")
    residence = next(c for c in chunks if c.text.startswith("第二十五条"))
    assert residence.text.endswith("经常居所视为住所。")
    for c in chunks:
        assert not re.search(r"\n第[一二三四五六七八九十]+(节|编|分编)\s*\S+$", c.text), c.chunk_id
