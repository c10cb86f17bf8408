"""The answer and its citations: the one shape every caller (HTTP, CLI, OpenAI route, evals) sees."""

from __future__ import annotations

from dataclasses import dataclass, field

from answer.laws import LawVersion, Reference, references, version_info
from policyqa.models import Chunk, Document


@dataclass
class Citation:
    n: int
    chunk: Chunk
    document: Document
    score: float
    version: LawVersion | None = None  # a law's status and version; None for other documents
    cites: list[Reference] = field(default_factory=list)  # indexed documents the cited one refers to

    @classmethod
    def of(cls, n: int, chunk: Chunk, documents: dict[str, Document], score: float) -> Citation:
        """A citation of a chunk of the index, with its law version and references."""
        doc = documents[chunk.doc_id]
        return cls(n, chunk, doc, score, version_info(doc, documents), references(doc, chunk, documents))

    def to_dict(self) -> dict:
        d, v = self.document, self.version
        newer = v.newer if v else None
        return {"n": self.n, "chunk_id": self.chunk.chunk_id, "doc_id": d.doc_id, "doc_title": d.title,
                "doc_number": d.doc_number, "issuer": d.issuer, "date": d.date,
                "clause_path": self.chunk.clause_path, "text": self.chunk.text, "score": round(self.score, 4),
                "start": self.chunk.start, "end": self.chunk.end, "page": self.chunk.page,
                "status": v.status if v else None, "version_date": v.version_date if v else None,
                "newer_version": {"doc_id": newer.doc_id, "title": newer.title,
                                  "version_date": newer.extra.get("version_date") or newer.date} if newer else None,
                "cites": [{"doc_id": r.document.doc_id, "title": r.document.title, "article": r.article or None,
                           "clause_id": r.clause_id or None} for r in self.cites]}


@dataclass
class Answer:
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    answerability: float = 0.0  # the refusal model's probability that the documents answer the question
    generator: str = "extractive"  # what wrote the text: "extractive" (answer.compose) or "llm" (answer.generate)
    question: str = ""  # the question as the service read it (normalised)
