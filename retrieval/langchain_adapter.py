"""A LangChain retriever over PolicyQA search, so LangChain applications can use it directly:

    from retrieval.langchain_adapter import PolicyQARetriever
    retriever = PolicyQARetriever(service=QAService(get_settings()), top_k=5)
    docs = retriever.invoke("哪个股室牵头实施特色创新课程构建工程?")
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.filters import SearchFilters


class PolicyQARetriever(BaseRetriever):
    """Each result is a LangChain Document: the verbatim clause text with its citation metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    service: Any  # policyqa.service.QAService (not imported here to keep the adapter light)
    top_k: int = 5
    mode: str = "hybrid"
    filters: SearchFilters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun
                                ) -> list[LCDocument]:
        hits = self.service.search(query, self.top_k, self.mode, self.filters)
        docs = self.service.index.documents
        out = []
        for hit in hits:
            c, d = hit.chunk, docs[hit.chunk.doc_id]
            out.append(LCDocument(page_content=c.text, id=c.chunk_id, metadata={
                "chunk_id": c.chunk_id, "doc_id": d.doc_id, "doc_title": d.title, "doc_number": d.doc_number,
                "issuer": d.issuer, "date": d.date, "clause_path": c.clause_path, "start": c.start, "end": c.end,
                "score": hit.score, "signals": hit.signals}))
        return out
