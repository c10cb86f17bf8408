"""Chinese abbreviations read from the index's own vocabulary: a question's 家暴 is the documents' 家庭暴力.

People shorten a four-character term to the first character of each of its two words (家庭暴力 -> 家暴,
军事训练 -> 军训, 职业高中 -> 职高, 社会保障 -> 社保); laws and policies write the term in full. A question word
that no indexed chunk contains therefore finds nothing in BM25 although the clause is there. This module
pairs such a word with the vocabulary's four-character words that shorten to it, so the query carries
both. Nothing is listed by hand: the candidates are the index's words, the test is the shape of the word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

import jieba

CJK_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")
CJK_FOUR = re.compile(r"[\u4e00-\u9fff]{4}")
# Characters of numbers and counters: "五十六条" is not the long form of "五六".
NUMERALS = set("零一二三四五六七八九十百千万亿两第")
# A question word that jieba's own dictionary counts this often is an everyday word in its own right (主人,
# 3865 in the dictionary, is not short for 主管人员), not an abbreviation; the shortened terms people use
# for policy words are rare in general text (家暴 3, 幼师 6, 社保 119, 军训 311, 职高 346).
EVERYDAY_WORD_FREQ = 1000
# Beyond this many long forms a short word is ambiguous: expanding it would add noise rather than the term.
MAX_LONG_FORMS = 3


def abbreviation_table(vocabulary: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """short form -> the vocabulary's four-character words made of two words of the vocabulary whose first
    characters are the short form (家庭暴力 -> 家暴, when 家庭 and 暴力 are words of the index too)."""
    words = set(vocabulary)
    table: dict[str, list[str]] = {}
    for word in sorted(words):
        if not CJK_FOUR.fullmatch(word) or NUMERALS & set(word):
            continue
        if word[:2] in words and word[2:] in words:
            table.setdefault(word[0] + word[2], []).append(word)
    return {short: tuple(longs) for short, longs in table.items() if len(longs) <= MAX_LONG_FORMS}


def long_forms(token: str, vocabulary: Mapping[str, object] | set[str],
               table: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The index's long forms of a two-character question word that no chunk contains; () for a word the
    index knows, an everyday word, or a word of another shape."""
    if token in vocabulary or not CJK_PAIR.fullmatch(token) or everyday(token):
        return ()
    return table.get(token, ())


def everyday(word: str) -> bool:
    return jieba_frequency(word) >= EVERYDAY_WORD_FREQ


@lru_cache(maxsize=4096)
def jieba_frequency(word: str) -> int:
    jieba.initialize()
    return jieba.dt.FREQ.get(word, 0) or 0
