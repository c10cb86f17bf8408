"""A BM25 query in the index's own words: what a question word the index lacks is called in the documents.

Two kinds of word find nothing in BM25 although the clause is there: an abbreviation of a term the
documents write in full (家暴 for 家庭暴力; retrieval/abbreviations.py) and an English word or phrase the
glossary does not translate (expel, national defense; retrieval/cedict.py). Both are looked up against the index's vocabulary, so what is
added is always a word some chunk contains.
"""

from __future__ import annotations

from collections.abc import Mapping

from retrieval.abbreviations import long_forms
from retrieval.cedict import chinese_words, phrase_words
from retrieval.tokenize import ENGLISH_WORD


def with_index_words(tokens: list[str], vocabulary: Mapping[str, object] | set[str],
                     abbreviations: Mapping[str, tuple[str, ...]], text: str = "") -> list[str]:
    """The query tokens as they are (a repeated word counts twice in BM25), then, once each, the index's
    words for the tokens it lacks and for the English phrases of the query's text."""
    extra: list[str] = phrase_words(text, vocabulary) if text else []
    for tok in tokens:
        if tok in vocabulary:
            continue
        if ENGLISH_WORD.fullmatch(tok):
            extra.extend(chinese_words(tok, vocabulary))
        else:
            extra.extend(long_forms(tok, vocabulary, abbreviations))
    return tokens + [word for word in dict.fromkeys(extra) if word not in tokens]
