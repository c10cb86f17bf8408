"""The answer and its citations: the one shape every caller (HTTP, CLI, OpenAI route, evals) sees."""

from __future__ import annotations

from dataclasses import dataclass, field

from policyqa.models import Chunk, Document


@dataclass
class Citation:
    n: int
    chunk: Chunk
    document: Document
    score: float

    def to_dict(self) -> dict:
        d = self.document
        return {"n": self.n, "chunk_id": self.chunk.chunk_id, "doc_id": d.doc_id, "doc_title": d.title,
                "doc_number": d.doc_number, "issuer": d.issuer, "date": d.date,
                "clause_path": self.chunk.clause_path, "text": self.chunk.text, "score": round(self.score, 4),
                "start": self.chunk.start, "end": self.chunk.end, "page": self.chunk.page}


@dataclass
class Answer:
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    answerability: float = 0.0  # the refusal model's probability that the documents answer the question
    generator: str = "extractive"  # what wrote the text: "extractive" (answer.compose) or "llm" (answer.generate)
    question: str = ""  # the question as the service read it (normalised)
