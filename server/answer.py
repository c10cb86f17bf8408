"""Extractive answers with citations, and refusal when the documents do not say.

No LLM: responsibility questions are answered from the structured records (牵头/协助); other questions
by the sentences of the top clauses that share the most terms with the question (numbers preferred
when the question asks for one). Each claim is followed by its citation number.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

from policyqa.models import Chunk, Document, ResponsibilityRecord
from retrieval.search import SearchHit
from retrieval.tokenize import STOPWORDS, content_terms, glossary

RESPONSIBILITY_ZH = re.compile(r"(牵头|负责|谁|哪个(股室|部门|单位|科室|处室)|哪些(股室|部门|单位)|责任单位|协助|配合)")
RESPONSIBILITY_EN = re.compile(r"\b(lead|leads|leading|responsible|in charge|which office|which department|who)\b", re.I)
NUMERIC_Q = re.compile(r"(几|多少|多久|什么时候|何时|哪年|哪一年|时间|日期|截止|期限|周期|电话|邮箱|how many|how much|"
                       r"how long|when|deadline|date|phone|e-?mail|number|year)", re.I)
DOC_NUMBER_Q = re.compile(r"(文号|发文字号|字号|document number|reference number)", re.I)
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
                "start": self.chunk.start, "end": self.chunk.end, "page": self.chunk.page}


@dataclass
class Answer:
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    answerability: float = 0.0
    generator: str = "extractive"  # what wrote the text: "extractive" (this module) or "llm" (server.generate)


def is_english(text: str) -> bool:
    letters = sum(ch.isascii() and ch.isalpha() for ch in text)
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return letters > cjk * 2


def norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def question_groups(question: str) -> list[tuple[float, list[str]]]:
    """The question as weighted groups of alternatives: a Chinese term is its own group; an English word
    becomes its glossary translations (or itself, weighing less, when the glossary has no entry)."""
    groups: list[tuple[float, list[str]]] = []
    english = set(re.findall(r"[a-z][a-z\-']+", question.lower()))
    for term in content_terms(question):
        if re.search(r"[a-z]", term):  # English words are handled below
            continue
        groups.append((float(min(len(term), 4)), [term]))
    for word in sorted(english):
        if word in STOPWORDS:
            continue
        translated = glossary().get(word)
        groups.append((3.0, translated) if translated else (1.0, [word]))
    return groups


def question_terms(question: str) -> list[str]:
    return [alt for _, alts in question_groups(question) for alt in alts]


def coverage(groups: list[tuple[float, list[str]]], text: str) -> float:
    """Weighted share of the question's groups that the text contains."""
    total = sum(w for w, _ in groups)
    if not total:
        return 0.0
    text = norm(text).lower()
    return sum(w for w, alts in groups if any(a in text for a in alts)) / total


def term_overlap(terms: list[str], text: str) -> float:
    """Share of the terms found in the text; longer terms weigh more."""
    return coverage([(float(min(len(t), 4)), [t]) for t in terms], text)


# The dense cosine of e5 models sits in a narrow band, lower for English questions over Chinese text.
DENSE_BAND = {"zh": (0.80, 0.95), "en": (0.72, 0.86)}


def answerability(question: str, hits: list[SearchHit]) -> float:
    """How well the best clauses cover the question: lexical coverage blended with dense similarity
    (rescaled from its band to 0-1)."""
    if not hits:
        return 0.0
    groups = question_groups(question)
    cov = max(coverage(groups, h.chunk.index_text) for h in hits[:3])
    low, high = DENSE_BAND["en" if is_english(question) else "zh"]
    dense = max(0.0, min(1.0, (max(h.dense_score for h in hits[:3]) - low) / (high - low)))
    return round(0.6 * cov + 0.4 * dense, 4)


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


def best_sentences(question: str, hits: list[SearchHit], documents: dict[str, Document],
                   limit: int = 2) -> list[tuple[float, int, str]]:
    """(score, hit index, sentence) of the sentences that best match the question, best first.

    A term found in many of the candidate sentences (the document's own name, say) tells little, so
    terms are weighted by how rare they are among the candidates.
    """
    groups = question_groups(question)
    wants_number = bool(NUMERIC_Q.search(question))
    sentences = [(i, m.group(0).strip()) for i, hit in enumerate(hits[:3])
                 for m in SENTENCE.finditer(hit.chunk.text) if len(m.group(0).strip()) >= 6]
    if not sentences:
        return []
    normed = [norm(s).lower() for _, s in sentences]
    # Words of the title locate the document ("蒲城...征求意见稿"), not the sentence within it.
    titles = norm(" ".join(documents[h.chunk.doc_id].title for h in hits[:3])).lower()
    weighted = []
    for w, alts in groups:
        df = sum(1 for text in normed if any(a in text for a in alts))
        in_title = 0.25 if any(a in titles for a in alts) else 1.0
        weighted.append((w * in_title * math.log(1 + len(sentences) / (df or 1)), alts))
    candidates = []
    for (i, sentence), text in zip(sentences, normed, strict=True):
        score = coverage(weighted, text) + 0.1 / (i + 1) - len(sentence) / 2000
        if wants_number and re.search(r"\d|[一二三四五六七八九十两]+[所年个项名次人万]", sentence):
            score += 0.15
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

    number_hit = next((h for h in hits[:3] if DOC_NUMBER_Q.search(question)
                       and documents[h.chunk.doc_id].doc_number
                       and documents[h.chunk.doc_id].doc_number in h.chunk.text), None)
    if number_hit:
        doc = documents[number_hit.chunk.doc_id]
        n = cite(number_hit)
        text = (f"The document number (文号) of {doc.title} is {doc.doc_number} [{n}]." if english
                else f"《{doc.title}》的文号是{doc.doc_number}[{n}]。")
        return Answer(text, False, [Citation(1, number_hit.chunk, doc, number_hit.score)], score)

    asks_who = RESPONSIBILITY_EN.search(question) if english else RESPONSIBILITY_ZH.search(question)
    found = best_record(question, hits) if asks_who else None
    if found:
        hit, record = found
        text = responsibility_answer(record, cite(hit), english)
    else:
        parts = []
        picked = best_sentences(question, hits, documents)
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
