"""Extractive answers with citations, and refusal when the documents do not say.

No LLM: responsibility questions are answered from the structured records (牵头/协助); other questions
by the sentences of the top clauses that share the most terms with the question (numbers preferred
when the question asks for one). Each claim is followed by its citation number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from policyqa.models import Chunk, Document, ResponsibilityRecord
from retrieval.search import SearchHit
from retrieval.tokenize import content_terms, glossary

RESPONSIBILITY_ZH = re.compile(r"(牵头|负责|谁|哪个(股室|部门|单位|科室|处室)|哪些(股室|部门|单位)|责任单位|协助|配合)")
RESPONSIBILITY_EN = re.compile(r"\b(lead|leads|leading|responsible|in charge|which office|which department|who)\b", re.I)
NUMERIC_Q = re.compile(r"(几|多少|多久|什么时候|何时|哪年|哪一年|时间|日期|截止|期限|周期|电话|邮箱|how many|how much|"
                       r"how long|when|deadline|date|phone|e-?mail|number|year)", re.I)
SENTENCE = re.compile(r"[^。;!?\n]+[。;!?]?")
REFUSAL_ZH = "文件中没有找到能回答这个问题的依据。"
REFUSAL_EN = "The documents do not answer this question."


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
                "start": self.chunk.start, "end": self.chunk.end}


@dataclass
class Answer:
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    answerability: float = 0.0


def is_english(text: str) -> bool:
    letters = sum(ch.isascii() and ch.isalpha() for ch in text)
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return letters > cjk * 2


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def question_terms(question: str) -> list[str]:
    """Terms to look for in the clauses: content words, plus glossary Chinese for English words."""
    terms = content_terms(question)
    if is_english(question):
        for word in re.findall(r"[a-z][a-z\-]+", question.lower()):
            terms += [t for t in glossary().get(word, []) if t not in terms]
    return terms


def term_overlap(terms: list[str], text: str) -> float:
    """Share of the question's terms found in the text; longer terms weigh more."""
    if not terms:
        return 0.0
    text = norm(text)
    total = sum(min(len(t), 4) for t in terms)
    return sum(min(len(t), 4) for t in terms if t in text) / total


def answerability(question: str, hits: list[SearchHit]) -> float:
    """How well the best clauses cover the question: lexical coverage blended with dense similarity.

    The dense cosine of e5 models sits in a narrow band (about 0.75-0.95), so it is rescaled from that
    band to 0-1 before blending.
    """
    if not hits:
        return 0.0
    terms = question_terms(question)
    coverage = max(term_overlap(terms, h.chunk.index_text) for h in hits[:3])
    dense = max(0.0, min(1.0, (max(h.dense_score for h in hits[:3]) - 0.75) / 0.2))
    return round(0.6 * coverage + 0.4 * dense, 4)


def best_record(question: str, hits: list[SearchHit]) -> tuple[SearchHit, ResponsibilityRecord] | None:
    terms = question_terms(question)
    scored = []
    for rank, hit in enumerate(hits):
        for record in hit.chunk.records:
            overlap = term_overlap(terms, record.task)
            chars = len(set(norm(question)) & set(record.task)) / max(len(set(record.task)), 1)
            scored.append((overlap + 0.5 * chars - 0.02 * rank, hit, record))
    if not scored:
        return None
    score, hit, record = max(scored, key=lambda s: s[0])
    return (hit, record) if score > 0.15 else None


def responsibility_answer(record: ResponsibilityRecord, n: int, english: bool) -> str:
    lead, assist = "、".join(record.lead), "、".join(record.assisting)
    if english:
        text = f"The lead office for “{record.task}” is {lead}"
        return text + (f", assisted by {assist} [{n}]." if assist else f" [{n}].")
    return f"“{record.task}”由{lead}牵头" + (f",{assist}协助[{n}]。" if assist else f"[{n}]。")


def best_sentences(question: str, hits: list[SearchHit], limit: int = 2) -> list[tuple[float, int, str]]:
    """(score, hit index, sentence) of the sentences that best match the question, best first."""
    terms = question_terms(question)
    wants_number = bool(NUMERIC_Q.search(question))
    candidates = []
    for i, hit in enumerate(hits[:3]):
        for m in SENTENCE.finditer(hit.chunk.text):
            sentence = m.group(0).strip()
            if len(sentence) < 6:
                continue
            score = term_overlap(terms, sentence) + 0.15 / (i + 1)
            if wants_number and re.search(r"\d|[一二三四五六七八九十]+[所年个项名次]", sentence):
                score += 0.2
            candidates.append((score, i, sentence))
    candidates.sort(key=lambda c: -c[0])
    return candidates[:limit]


def compose_answer(question: str, hits: list[SearchHit], documents: dict[str, Document],
                   threshold: float) -> Answer:
    english = is_english(question)
    score = answerability(question, hits)
    if score < threshold:
        see_also = [Citation(i + 1, h.chunk, documents[h.chunk.doc_id], h.score) for i, h in enumerate(hits[:3])]
        return Answer(REFUSAL_EN if english else REFUSAL_ZH, True, see_also, score)

    cited: list[SearchHit] = []

    def cite(hit: SearchHit) -> int:
        if hit not in cited:
            cited.append(hit)
        return cited.index(hit) + 1

    asks_who = RESPONSIBILITY_EN.search(question) if english else RESPONSIBILITY_ZH.search(question)
    found = best_record(question, hits) if asks_who else None
    if found:
        hit, record = found
        text = responsibility_answer(record, cite(hit), english)
    else:
        parts = []
        picked = best_sentences(question, hits)
        if len(picked) == 2 and picked[1][0] < picked[0][0] * 0.6:
            picked = picked[:1]  # the second sentence adds little: keep the answer short
        for _, i, sentence in picked:
            n = cite(hits[i])
            parts.append(f"“{sentence}”[{n}]" if english else f"{sentence.rstrip('。;')}[{n}]。")
        if english:
            first = cited[0]
            doc = documents[first.chunk.doc_id]
            text = f"According to {doc.title} ({first.chunk.clause_path}): " + " ".join(parts)
        else:
            text = "".join(parts)
    citations = [Citation(i + 1, h.chunk, documents[h.chunk.doc_id], h.score) for i, h in enumerate(cited)]
    return Answer(text, False, citations, score)
