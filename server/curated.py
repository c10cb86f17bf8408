"""Approved answers: an editor's answer to a question, with the clauses it cites, served to later questions
that mean the same. Kept in SQLite (<data_dir>/curated.db, WAL).

Each cited clause is stored with a hash of its text when it was approved. An approved answer is served only
while every cited clause is in the index with that same text: a clause deleted or changed since (a new version
of the document) makes the entry stale, listed for review and never served, so the question gets the normal
answer from the documents as they are now.

"Means the same" is the cosine of the embedder's query vectors of the normalised questions (what the search
embeds too, so the query cache usually has the vector) at or above POLICYQA_CURATED_THRESHOLD; the default was
chosen on the eval sets (`python -m evals.curated_threshold`, evals/curated_threshold.json): no pair of eval
questions with different evidence or other answer terms reaches it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from answer.citations import Answer, Citation
from policyqa.models import Chunk
from policyqa.service import AskResult, QAService
from retrieval.filters import SearchFilters
from retrieval.index import Index


def matching_text(normalised: str) -> str:
    """What is embedded to compare questions: the normalised question with one ending question mark, Latin
    letters in lower case. A question retyped without its "?" or in other case means the same, but its
    vector moved by up to 0.09 (evals/curated_threshold.py); for most questions this is the normalised text
    itself, whose vector the search has cached."""
    text = normalised.strip().rstrip("?？!！。.;；,， ") + "?"
    return text.lower() if text.isascii() else text


class CuratedError(ValueError):
    """An approved answer that cannot be stored; the message says what to fix."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Curated:
    id: str
    question: str
    answer: str
    citations: list[dict]  # {"chunk_id", "hash"}: the clause's text hash when approved
    created_at: str
    source: str  # where the editor took it from: feedback, log or written

    def problems(self, chunks: dict[str, Chunk]) -> list[str]:
        """Why it must not be served now: cited clauses gone from the index or changed since approval."""
        out = []
        for c in self.citations:
            chunk = chunks.get(c["chunk_id"])
            if chunk is None:
                out.append(f"{c['chunk_id']} is no longer in the index (its document was deleted or re-divided)")
            elif text_hash(chunk.text) != c["hash"]:
                out.append(f"{c['chunk_id']} has changed since the answer was approved")
        return out


class CuratedStore:
    def __init__(self, path: Path, threshold: float) -> None:
        self.path, self.threshold = path, threshold
        self._lock = threading.Lock()
        self._vectors: dict[tuple[str, str], np.ndarray] = {}  # (embedder, id) -> unit query vector
        self._by_id: tuple[Index | None, dict[str, Chunk]] = (None, {})
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS curated (id TEXT PRIMARY KEY, question TEXT, answer TEXT, "
                       "citations TEXT, created_at TEXT, source TEXT)")
        self._entries = self._read()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def _read(self) -> list[Curated]:
        with self._connect() as db:
            rows = db.execute("SELECT id, question, answer, citations, created_at, source FROM curated "
                              "ORDER BY rowid").fetchall()
        return [Curated(i, q, a, json.loads(c), at, s) for i, q, a, c, at, s in rows]

    def chunks(self, index: Index) -> dict[str, Chunk]:
        """The index's chunks by id (built once per loaded index)."""
        known, by_id = self._by_id
        if known is not index:
            by_id = {c.chunk_id: c for c in index.chunks}
            self._by_id = (index, by_id)
        return by_id

    def entries(self) -> list[Curated]:
        return list(self._entries)

    def add(self, question: str, answer: str, chunk_ids: list[str], index: Index, source: str = "written") -> Curated:
        chunks = self.chunks(index)
        missing = [c for c in chunk_ids if c not in chunks]
        if missing:
            raise CuratedError(f"not in the index: {', '.join(missing)}; cite chunk_id values of /api/ask or "
                               "/api/search citations")
        entry = Curated(uuid.uuid4().hex[:12], question, answer,
                        [{"chunk_id": c, "hash": text_hash(chunks[c].text)} for c in dict.fromkeys(chunk_ids)],
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), source)
        with self._lock, self._connect() as db:
            db.execute("INSERT INTO curated VALUES (?, ?, ?, ?, ?, ?)",
                       (entry.id, entry.question, entry.answer, json.dumps(entry.citations), entry.created_at,
                        entry.source))
            self._entries = self._entries + [entry]
        return entry

    def delete(self, entry_id: str) -> bool:
        with self._lock, self._connect() as db:
            gone = db.execute("DELETE FROM curated WHERE id = ?", (entry_id,)).rowcount == 1
            self._entries = [e for e in self._entries if e.id != entry_id]
        return gone

    def match(self, service: QAService, question: str) -> tuple[Curated, float] | None:
        """The fresh approved answer whose question is most like `question`, if it reaches the threshold."""
        entries = self._entries
        if not entries:
            return None
        name = service.embedder.name
        todo = [e for e in entries if (name, e.id) not in self._vectors]
        if todo:  # entries new to this embedder: embedded once, as the questions are
            vectors = unit(service.embedder.embed_queries([matching_text(service.analyse(e.question).normalised)
                                                          for e in todo]))
            self._vectors.update({(name, e.id): v for e, v in zip(todo, vectors, strict=True)})
        asked = unit(service.embedder.embed_queries([matching_text(service.analyse(question).normalised)]))[0]
        chunks = self.chunks(service.index)
        scored = sorted(((float(self._vectors[name, e.id] @ asked), e) for e in entries), key=lambda p: -p[0])
        for similarity, entry in scored:
            if similarity < self.threshold:
                return None
            if not entry.problems(chunks):  # a stale one is passed over: the next fresh one may still fit
                return entry, similarity
        return None

    def answer(self, service: QAService, question: str) -> AskResult | None:
        """The approved answer to serve for `question`, with its citations from the index as it is now."""
        started = time.perf_counter()
        found = self.match(service, question)
        if found is None:
            return None
        entry, similarity = found
        chunks, docs = self.chunks(service.index), service.index.documents
        citations = [Citation.of(n, chunks[c["chunk_id"]], docs, similarity)
                     for n, c in enumerate(entry.citations, start=1)]
        answer = Answer(entry.answer, False, citations, answerability=1.0, generator="approved", question=question)
        return AskResult(answer, [], (time.perf_counter() - started) * 1000, approved=entry.id)


def ask_with_approved(store: CuratedStore | None, service: QAService, question: str, top_k: int | None = None,
                      filters: SearchFilters | None = None) -> AskResult:
    """The approved answer for `question` when there is a fresh one, else the service's answer. A question
    with filters (its own, or a scoped key's collections) is answered from the documents: an approved answer
    was approved for the whole index and might cite what the filters leave out."""
    if store is not None and filters is None:
        found = store.answer(service, question)
        if found is not None:
            return found
    return service.ask(question, top_k, filters=filters)


def unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
