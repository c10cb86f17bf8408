"""The same retrieval over Milvus Lite (pymilvus) as over FAISS, and the LangChain retriever adapter."""

from __future__ import annotations

from helpers import make_settings

from policyqa import service
from policyqa.service import QAService
from retrieval.embedders import make_embedder
from retrieval.filters import SearchFilters
from retrieval.langchain_adapter import PolicyQARetriever

QUESTION = "实施特色创新课程构建工程 牵头股室"


def build(tmp_path, corpus_dir, **kw):
    settings = make_settings(data_dir=tmp_path / kw.pop("name"), corpus_dir=corpus_dir, embedder="hashing", **kw)
    embedder = make_embedder("hashing")
    outcome = service.ingest(settings, [corpus_dir], embedder)
    assert outcome.report.ok
    return QAService(settings, embedder)


def test_milvus_lite_gives_the_same_results_as_faiss(tmp_path, corpus_dir):
    faiss_qa = build(tmp_path, corpus_dir, name="faiss")
    milvus_qa = build(tmp_path, corpus_dir, name="milvus", vector_store="milvus")
    assert (tmp_path / "milvus" / "index" / "dense.milvus.json").exists()
    assert milvus_qa.index.manifest["vector_store"] == "milvus"
    a = [h.chunk.chunk_id for h in faiss_qa.search(QUESTION, 5, "dense")]
    b = [h.chunk.chunk_id for h in milvus_qa.search(QUESTION, 5, "dense")]
    assert a == b
    # BM25 is Milvus's own there (its jieba analyzer, k1 1.2): the same clause first, the rest may differ
    for mode in ("bm25", "hybrid"):
        assert faiss_qa.search(QUESTION, 1, mode)[0].chunk.chunk_id == milvus_qa.search(QUESTION, 1, mode)[0].chunk.chunk_id
    only = SearchFilters(doc_ids=["pucheng-quality-plan-2021-2023"])
    hits = milvus_qa.search(QUESTION, 5, "dense", only)
    assert hits and {h.chunk.doc_id for h in hits} == {"pucheng-quality-plan-2021-2023"}


def test_milvus_rebuild_swaps_collections(tmp_path, corpus_dir):
    qa = build(tmp_path, corpus_dir, name="m2", vector_store="milvus")
    first = qa.index.dense.collection
    service.ingest(qa.settings, [corpus_dir], qa.embedder, rebuild=True)
    second = QAService(qa.settings, qa.embedder).index.dense
    assert second.collection != first
    # the old collection stays for replicas that have not reloaded yet, and goes with the next build
    assert second.client.has_collection(first)
    service.ingest(qa.settings, [corpus_dir], qa.embedder, rebuild=True)
    third = QAService(qa.settings, qa.embedder).index.dense
    assert not third.client.has_collection(first) and third.client.has_collection(second.collection)


def test_langchain_retriever_returns_cited_documents(tmp_path, corpus_dir):
    qa = build(tmp_path, corpus_dir, name="lc")
    docs = PolicyQARetriever(service=qa, top_k=3).invoke(QUESTION)
    assert len(docs) == 3
    top = docs[0]
    assert top.metadata["doc_id"] and top.metadata["clause_path"]
    text = qa.index.documents[top.metadata["doc_id"]].text
    assert text[top.metadata["start"]:top.metadata["end"]] == top.page_content
