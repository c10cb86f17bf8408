"""Which sentences of the retrieved clauses answer the question.

A sentence's score is a weighted sum of general signals, with no rule for any phrase:
- semantic: cosine of the question and the sentence under a sentence encoder (USE multilingual);
- lexical: how much of the question the sentence covers, each term weighted by how rare it is among the
  candidate sentences (the document's own name, found everywhere, tells little);
- clause: how well search ranked the clause the sentence comes from;
- value: the sentence holds the kind of value the question asks for (a sum, a date, a count in its unit).
Structure, not wording, marks sentences that answer nothing: a clause's bare heading, a repeated title,
a signature or date line, the sentence of a cover notice that issues the document. The weights are chosen on the dev sets (evals/answer_folds.py) and stored in
answer/data/answer_model.json with the command that chose them.
"""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from threading import Lock

import numpy as np

from answer.question import Question, coverage, norm
from ingest.metadata import DOC_NUMBER, JOINT_ISSUER
from policyqa.models import Chunk, Document
from retrieval.cache import EmbeddingCache
from retrieval.search import SearchHit

WEIGHTS_FILE = Path(__file__).with_name("data") / "answer_weights.json"
SENTENCE = re.compile(r"[^。;!?\n]+[。;!?]?")
MIN_SENTENCE = 6  # characters: shorter pieces are labels ("(一)"), not statements
# A signature, a date line, the addressee line, a line that is only a document number ("(国办发〔2015〕71号)") or a
# notice's title ("关于…的通知"), or an attachment's name ("附件:…征求意见稿"): who wrote to whom and what came
# with it, not what it says (ingest reads issuers and numbers from the same patterns).
FURNITURE = re.compile(rf"{JOINT_ISSUER.pattern}|^\d{{4}}年\d{{1,2}}月\d{{1,2}}日$|^各.{{2,80}}[::]$|^附件\s*\d*\s*[::]|"
                       rf"^[((]?{DOC_NUMBER.pattern}[))]?$|^关于.{{2,80}}的(通知|意见|决定|办法|方案|规定|批复|函|计划)$")
# A sentence that names its own document ("本法自2022年1月1日起施行", "本办法由市教育局负责解释") is about
# that document: the words of its title count as the sentence's (when asked which sentence is about the
# question) as much as its clause's headings do.
SELF_REFERENCE = re.compile(r"本(法|条例|办法|规定|细则|规则|方案|意见|通知|决定|计划|章程|标准|制度)")


# A rule that leaves the figure to other rules, in the drafting formulas of Chinese laws and policies:
# "按照国家有关规定收取费用", "依照法律、法规的规定确定", "达到国家规定的…标准", "具体办法由国务院制定",
# "另行规定". Such a sentence answers "what is the standard" only by saying where it is set.
DELEGATION = re.compile(r"((由|按照|依照|根据|按)(国家|国务院|省|有关|法律|法规|各地|地方)[^。;；,，]{0,24}(规定|确定|制定|执行)|"
                        r"国家规定的|另行(规定|制定)|具体办法由|由[^。;；,，]{1,20}(规定|制定|确定))")


def delegates(text: str) -> bool:
    """Whether a sentence leaves what it regulates to other rules (DELEGATION)."""
    return bool(DELEGATION.search(text))


@dataclass
class Sentence:
    hit: int  # index into the hits
    text: str
    start: int  # offset of the sentence in its chunk's text
    semantic: float = 0.0
    lexical: float = 0.0
    value: float = 0.0
    furniture: bool = False
    score: float = 0.0
    # The clause path of its chunk ("五、实施步骤 › (三)…"): what a dated item of a list is about is often said
    # only by the headings above it.
    context: str = ""
    # In the item of a list the question counts to ("最后一批"; answer/ordinals.py): about the question
    # whatever words it shares with it.
    asked_item: bool = False


@dataclass(frozen=True)
class AnswerWeights:
    """How sentences are scored and how much is quoted; chosen on the dev sets by evals/fit.py."""

    semantic: float = 1.0
    lexical: float = 0.5
    clause: float = 0.3  # times 1 / (the clause's search rank)
    value: float = 0.3
    furniture: float = 0.3  # a furniture sentence keeps this share of its score
    # A clause this short is quoted whole: a law article or an item states one rule, and the sentence
    # that scores best is often only half of it ("…的,由…责令改正;情节严重的,…").
    quote_whole: int = 160
    # Another clause is quoted too when its best sentence scores at least this share of the best one's…
    second_clause: float = 0.85
    # …and so on up to this many clauses in all (the best one's included).
    max_clauses: int = 2
    # A short clause that is a list ("一、服务时间 (一)… (二)… (三)…") is quoted by the items holding the chosen
    # sentences and any of its sentences scoring this share of the best one, under its heading; whole when that is
    # every item (0: always whole). A list's items are separate rules, but sentence scores within a clause are
    # close: the items that score close are kept, a hedge when the scores do not separate them.
    item_margin: float = 0.0


@lru_cache(maxsize=1)
def default_weights() -> AnswerWeights:
    """The weights evals/fit.py chose (answer/data/answer_weights.json), or the class defaults."""
    if not WEIGHTS_FILE.exists():
        return AnswerWeights()
    data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    return AnswerWeights(**{f.name: data[f.name] for f in fields(AnswerWeights) if f.name in data})


class SentenceEncoder:
    """Sentence vectors from an embedder's query side: from an LRU of the sentences seen (clauses come back for
    many questions), then from `store` (every indexed sentence, embedded when the index was built:
    answer/sentence_store.py), then from the model."""

    def __init__(self, embedder, size: int = 50_000, store: EmbeddingCache | None = None) -> None:
        self.embedder, self.size, self.store = embedder, size, store
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        stored = [(t, self.store.find(t)) for t in missing] if self.store is not None else []
        missing = [t for t, v in stored if v is None] if self.store is not None else missing
        vectors = self.embedder.embed_queries(missing) if missing else []
        with self._lock:
            for t, v in [(t, v) for t, v in stored if v is not None] + list(zip(missing, vectors, strict=True)):
                self._cache[t] = np.asarray(v, np.float32)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
            found = [self._cache.get(t) for t in texts]
        if any(v is None for v in found):  # evicted meanwhile: embed those again
            return np.asarray(self.embedder.embed_queries(texts), np.float32)
        return np.stack(found) if found else np.zeros((0, 1), np.float32)


def split_sentences(chunk: Chunk) -> list[tuple[int, str]]:
    """(offset, sentence) of a chunk's text; pieces shorter than MIN_SENTENCE are left out."""
    out = []
    for m in SENTENCE.finditer(chunk.text):
        text = m.group(0).strip()
        if len(text) >= MIN_SENTENCE:
            out.append((m.start() + len(m.group(0)) - len(m.group(0).lstrip()), text))
    return out


def heading_of(chunk: Chunk, documents: dict[str, Document]) -> str:
    """The clause's own number + heading ("(三)完善工作机制"), normalised; '' when unknown or an article
    (whose "heading" is its first sentence: a rule, not a title)."""
    doc = documents.get(chunk.doc_id)
    clause = next((c for c in doc.clauses if c.clause_id == chunk.clause_id), None) if doc else None
    if clause is None or clause.is_article:
        return ""
    return norm(doc.text[clause.start:clause.start + len(clause.number) + len(clause.heading) + 3])


def issuing_sentence(doc: Document, offset: int, text: str) -> bool:
    """Whether the sentence is the cover notice's act of issuing the document it covers ("…制定了《X》,
    现印发给你们"): it says how and why the document was issued, not what it says. (Other sentences of a
    notice, a deadline or a contact, do answer questions.)"""
    issued = [p for p in doc.parts if p.get("kind") == "issued_document"]
    return bool(issued) and "印发" in text and any(
        p.get("kind") == "cover_notice" and p["start"] <= offset < p["end"] for p in doc.parts)


def is_furniture(text: str, heading: str, title: str) -> bool:
    """A sentence that is structure rather than statement: the clause's bare heading, the document's
    title (or a line that is mostly the title), a signature, date or addressee line."""
    if heading and len(text) <= len(heading) + 2 and heading.startswith(text[:6]):
        return True
    if text in title or (len(text) < len(title) + 12 and title[:12] in text):
        return True
    return bool(FURNITURE.search(text))


def score_sentences(q: Question, hits: list[SearchHit], documents: dict[str, Document],
                    encoder: SentenceEncoder | None, weights: AnswerWeights = AnswerWeights()) -> list[Sentence]:
    """The sentences of every clause given (the search decides how many: settings.answer_depth), scored,
    best first."""
    paths = [norm(hit.chunk.clause_path).lower() for hit in hits]  # once per clause, not per sentence
    own_titles = [norm(documents[hit.chunk.doc_id].title).lower() for hit in hits]
    sentences = [Sentence(i, text, start, asked_item="ordinal" in hit.signals,
                          context=f"{own_titles[i]} {paths[i]}" if SELF_REFERENCE.search(text) else paths[i])
                 for i, hit in enumerate(hits) for start, text in split_sentences(hit.chunk)]
    if not sentences:
        return []
    normed = [norm(s.text).lower() for s in sentences]
    # Words of the titles locate the document, not the sentence within it; rare words tell most.
    titles = norm(" ".join(documents[h.chunk.doc_id].title for h in hits)).lower()
    weighted = []
    for w, alts in q.groups:
        df = sum(1 for text in normed if any(a in text for a in alts))
        in_title = 0.25 if any(a in titles for a in alts) else 1.0
        weighted.append((w * in_title * math.log(1 + len(sentences) / (df or 1)), alts))
    if encoder is not None:
        vectors = encoder.encode([q.focus] + [s.text for s in sentences])
        semantic = vectors[1:] @ vectors[0]
    else:
        semantic = np.zeros(len(sentences))
    headings = [heading_of(h.chunk, documents) for h in hits]
    for s, text, sim in zip(sentences, normed, semantic, strict=True):
        s.semantic = float(sim)
        s.lexical = coverage(weighted, text) + 0.3 * sum(1 for phrase in q.quoted if phrase in text)
        s.value = 1.0 if q.value_kinds and all(q.holds(kind, text) for kind in q.value_kinds) else 0.0
        doc = documents[hits[s.hit].chunk.doc_id]
        s.furniture = (is_furniture(text, headings[s.hit], norm(doc.title).lower())
                       or issuing_sentence(doc, hits[s.hit].chunk.start + s.start, text))
        s.score = (weights.semantic * s.semantic + weights.lexical * s.lexical + weights.clause / (s.hit + 1)
                   + weights.value * s.value)
        if s.furniture:
            s.score *= weights.furniture
    return sorted(sentences, key=lambda s: -s.score)
