"""When to say the documents do not answer: a small logistic model over general features of the search
and of the best sentence, fitted on the labelled eval items (evals/fit.py, with leave-one-set-out
validation) and stored with its threshold in answer/data/refusal_model.json.

The features say how well the best clauses match the question, never what the question is about: the
similarity of the top clauses under each embedding model, whether BM25 found them too, how much of the
question the best sentence and clause cover, the share of the question's words found nowhere in the
documents, and whether an asked-for value (a sum, a date, a count) is in a sentence about the question.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from answer.question import CONTACT_KINDS, Groups, Question, coverage, norm
from answer.sentences import Sentence
from retrieval.search import SearchHit

MODEL_FILE = Path(__file__).with_name("data") / "refusal_model.json"
FEATURES = ("dense_top", "use_top", "semantic_best", "lexical_best", "clause_coverage", "bm25_agrees",
            "unknown_terms", "value_missing", "english", "long", "polar", "dense_margin", "use_margin",
            "doc_share", "focus_coverage", "focus_unknown")
# A value counts only in a sentence that is about the question ("参加人数为30-40人" does not say how many
# pupils a guard is for): one that covers at least this share of the question's terms.
VALUE_SENTENCE_COVERAGE = 0.2
NUMBER = re.compile(r"[0-9.%]+|[零〇一二两三四五六七八九十百千万亿]+")


def topic_groups(groups: Groups) -> Groups:
    """The question's term groups without its numbers. A year or figure in a question narrows which value
    answers it, and weighs most as the rarest term, but a sentence sharing only the number is not about the
    question: "本法自2024年9月21日起施行" (the last article of any law of that year) does not say a 2024
    admission score. A question of numbers alone keeps them."""
    topical = [(w, alts) for w, alts in groups if not all(NUMBER.fullmatch(a) for a in alts)]
    return topical or groups


# The refusal model's inputs are read over the top five clauses, as it was fitted (evals/fit.py), though the
# answer reads more (settings.answer_depth): over eight, an asked value turns up in some sentence more often, so
# value_missing stops refusing traps (evals/README.md, "How many clauses the answer reads").
FEATURE_DEPTH = 5


def features(q: Question, hits: list[SearchHit], ranked: list[Sentence], corpus_text: str,
             wanted: Collection[str] | None = None) -> dict[str, float]:
    """The refusal model's inputs for one question and its search results (the top FEATURE_DEPTH of them);
    only those `wanted` when given. The shipped model reads one feature, and the unknown-word features scan
    the whole corpus text for each of the question's terms: 2.6 ms a question over the 267k characters of the
    real-question corpora, 17 ms over ten times that (measured), more with the law library loaded."""
    hits = hits[:FEATURE_DEPTH]
    ranked = [s for s in ranked if s.hit < FEATURE_DEPTH]
    top = hits[:3]
    best = ranked[0] if ranked else None

    @lru_cache(maxsize=1)
    def known() -> dict[tuple[str, ...], bool]:  # each term group looked up in the corpus once, if at all
        return {tuple(alts): any(a in corpus_text for a in alts) for _, alts in q.groups}

    computed: dict[str, Callable[[], float]] = {
        "dense_top": lambda: max((h.similarities.get("dense", h.dense_score) for h in top), default=0.0),
        "use_top": lambda: max((h.similarities.get("dense:use", 0.0) for h in top), default=0.0),
        "semantic_best": lambda: best.semantic if best else 0.0,
        "lexical_best": lambda: coverage(q.groups, best.text) if best else 0.0,
        "clause_coverage": lambda: max((coverage(q.groups, h.chunk.index_text) for h in top), default=0.0),
        "bm25_agrees": lambda: max((1 / h.signals["bm25"] for h in top[:1] if "bm25" in h.signals), default=0.0),
        "unknown_terms": lambda: unknown_weight(q.groups, known()),
        "value_missing": lambda: 1.0 if missing_values(q, ranked) else 0.0,
        "english": lambda: 1.0 if q.english else 0.0,
        "long": lambda: 1.0 if q.style == "long" else 0.0,
        "polar": lambda: 1.0 if q.polar else 0.0,
        # relative measures, less tied to how long or colloquial the question is
        "dense_margin": lambda: margin(hits, "dense"),
        "use_margin": lambda: margin(hits, "dense:use"),
        "doc_share": lambda: (sum(1 for h in hits if h.chunk.doc_id == hits[0].chunk.doc_id) / len(hits)
                              if hits else 0.0),
        "focus_coverage": lambda: max((coverage(focus_groups(q), h.chunk.index_text) for h in top), default=0.0),
        # the words of the asking sentence only: a long story's own words ("前夫", "外地") are found nowhere
        # without making the question one the documents cannot answer
        "focus_unknown": lambda: unknown_weight(focus_groups(q), known()),
    }
    names = computed if wanted is None else [name for name in computed if name in set(wanted)]
    return {name: computed[name]() for name in names}


def margin(hits: list[SearchHit], model: str) -> float:
    """How far the best clause stands above the last one retrieved, under one model."""
    values = [h.similarities.get(model, 0.0) for h in hits]
    return max(values) - min(values) if len(values) > 1 else 0.0


def focus_groups(q: Question):
    """The question's term groups that its asking sentences contain."""
    focus = norm(q.focus).lower()
    return [(w, alts) for w, alts in q.groups if any(a in focus for a in alts)] or q.groups


def unknown_share(q: Question, corpus_text: str) -> float:
    """Weighted share of the question's terms (with their synonyms) that no indexed document contains:
    a question about 公祭日 over documents that never mention it."""
    return unknown_weight(q.groups, {tuple(alts): any(a in corpus_text for a in alts) for _, alts in q.groups})


def unknown_weight(groups, known: dict[tuple[str, ...], bool]) -> float:
    """Weighted share of the groups whose terms are not known (found in a document)."""
    total = sum(w for w, _ in groups)
    if not total:
        return 0.0
    return sum(w for w, alts in groups if not known[tuple(alts)]) / total


def value_sentences(q: Question, ranked: list[Sentence], kind: str) -> list[Sentence]:
    """The sentences that may answer a question wanting a kind of value: those near the best one and about
    the question, by their own words or their clause's headings (a contact line need not share its
    words), best first."""
    near = [s for s in ranked if s.score >= ranked[0].score * 0.5][:6]
    about = near if kind in CONTACT_KINDS else [
        s for s in near if coverage(topic_groups(q.groups), f"{s.context} {s.text}") >= VALUE_SENTENCE_COVERAGE]
    item = [s for s in ranked if s.asked_item and s not in about]  # the list item the question counts to
    return [s for s in item + about if q.holds(kind, s.text)]


def missing_values(q: Question, ranked: list[Sentence]) -> list[str]:
    """Kinds of value the question wants that no sentence about the question holds (a kind that is only
    preferred, a definition, is never missing)."""
    required = list(q.required_kinds)
    if not required or not ranked:
        return required
    return [kind for kind in required if not value_sentences(q, ranked, kind)]


@dataclass(frozen=True)
class RefusalModel:
    """p(answerable) = sigmoid(bias + sum(weight * (feature - mean) / scale)); refuse below threshold."""

    weights: dict[str, float]
    bias: float
    means: dict[str, float]
    scales: dict[str, float]
    threshold: float
    provenance: str = ""

    def probability(self, values: dict[str, float]) -> float:
        z = self.bias + sum(w * (values.get(name, 0.0) - self.means.get(name, 0.0)) / (self.scales.get(name) or 1.0)
                            for name, w in self.weights.items())
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def refuses(self, values: dict[str, float]) -> bool:
        return self.probability(values) < self.threshold

    def to_dict(self) -> dict:
        return {"weights": self.weights, "bias": self.bias, "means": self.means, "scales": self.scales,
                "threshold": self.threshold, "provenance": self.provenance}

    @classmethod
    def from_dict(cls, data: dict) -> RefusalModel:
        return cls(data["weights"], data["bias"], data["means"], data["scales"], data["threshold"],
                   data.get("provenance", ""))


# Answers every question that reaches it (fitting the answer step, tests of composition).
ALWAYS_ANSWER = RefusalModel({}, 30.0, {}, {}, 0.0, "answers every question")


@lru_cache(maxsize=1)
def default_model() -> RefusalModel:
    return RefusalModel.from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


_texts_cache: dict[int, tuple[object, dict[str, str], str]] = {}


def _texts(documents: dict) -> tuple[dict[str, str], str]:
    cached = _texts_cache.get(id(documents))
    if cached is None or cached[0] is not documents:
        texts = {doc_id: norm(d.title + d.issuer + d.text) for doc_id, d in documents.items()}
        _texts_cache.clear()  # only the live index matters
        cached = _texts_cache[id(documents)] = (documents, texts, "\n".join(texts.values()).lower())
    return cached[1], cached[2]


def corpus_texts(documents: dict) -> dict[str, str]:
    """Each document's title, issuer and text, normalised; cached per documents mapping (one per index)."""
    return _texts(documents)[0]


def corpus_text(documents: dict) -> str:
    """All documents' normalised texts joined, lower-cased (for words found nowhere)."""
    return _texts(documents)[1]
