"""The one Chinese tokeniser: jieba words (with a corpus user dictionary), stop words dropped, English
words mapped to Chinese policy terms through a small glossary. BM25 and answer composition both use it."""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

STOPWORDS = set(
    "的 了 和 与 及 或 是 在 为 对 把 被 由 从 向 以 于 等 各 其 之 这 那 有 要 将 并 也 都 就 而 中 上 下 "
    "哪个 哪些 什么 多少 怎么 怎样 如何 是否 吗 呢 啊 吧 谁 哪 几 请问 一下 那个 这个 个 所 年 月 日 "
    "the a an of to in on for is are was were be by which what who whom how when where does do did "
    "and or with from at as that this these those it its there their about any much should must will would can could "
    "have has had be been being into under over up out supposed expected need needs get gets plan's according "
    "啥 啥意思 意思 一共 大概 具体 主要 文件 里 说 的话 到底 需要 应该 可以 能 会 要求 规定 方面".split()
)
PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
ENGLISH_WORD = re.compile(r"[a-z][a-z\-]+")
_user_words: set[str] = set()


@lru_cache(maxsize=1)
def glossary() -> dict[str, list[str]]:
    data = json.loads((Path(__file__).with_name("glossary.json")).read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def singular_forms(word: str) -> list[str]:
    """The word and the singulars it may be the plural of (policies -> policy, classes -> class,
    teachers -> teacher): glossaries and dictionaries list the singular."""
    forms = [word]
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        forms.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        forms.append(word[:-1])
    return forms


def glossary_terms(word: str) -> list[str] | None:
    """The glossary's Chinese terms for an English word or for its singular; None when it has none."""
    for form in singular_forms(word):
        if form in glossary():
            return glossary()[form]
    return None


@lru_cache(maxsize=1)
def synonyms() -> dict[str, list[str]]:
    """Colloquial question words -> the words policy texts use (synonyms.json); applied to queries only."""
    data = json.loads((Path(__file__).with_name("synonyms.json")).read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def add_user_words(words) -> None:
    """Keep corpus terms (office names such as 基教股, project names, 文号) whole."""
    for word in words:
        word = word.strip()
        if len(word) >= 2 and word not in _user_words:
            _user_words.add(word)
            jieba.add_word(word, freq=2000)


def user_words() -> list[str]:
    return sorted(_user_words)


def dictionary_generation() -> int:
    """Grows whenever words join jieba's dictionary (they change how a text is cut): what is cached from
    jieba's cuts of a text is keyed by it."""
    return len(_user_words)


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens (a long word also yields its parts), lower-cased, without stop words."""
    text = text.lower()
    tokens = []
    for tok in jieba.cut_for_search(text):
        tok = tok.strip()
        if not tok or tok in STOPWORDS or PUNCT.match(tok):
            continue
        if ENGLISH_WORD.fullmatch(tok):
            tokens.extend(glossary_terms(tok) or [tok])
            continue
        tokens.append(tok)
    return tokens


def content_terms(text: str) -> list[str]:
    """Distinct meaningful terms of a question (for answerability checks): no single CJK characters."""
    seen: dict[str, None] = {}
    for tok in tokenize(text):
        if len(tok) >= 2 or tok.isdigit():
            seen[tok] = None
    return list(seen)


def query_tokens(text: str) -> list[str]:
    """BM25 query tokens: tokenize() plus the policy words for colloquial ones (老师 -> 教师), so a
    question in everyday words still meets the clause's own wording."""
    tokens = tokenize(text)
    return tokens + [s for tok in tokens for s in synonyms().get(tok, []) if s not in tokens]


def expanded_tokens(text: str, expansion: str = "synonyms") -> list[str]:
    """BM25 query tokens with a choice of expansion: "synonyms" (query_tokens), "cilin" (also the
    thesaurus's synonyms, retrieval.thesaurus) or "plain" (none)."""
    if expansion == "plain":
        return tokenize(text)
    tokens = query_tokens(text)
    if expansion == "cilin":
        from retrieval.thesaurus import cilin_synonyms

        thesaurus = cilin_synonyms()
        tokens = list(dict.fromkeys(tokens + [s for tok in tokens for s in thesaurus.get(tok, ())]))
    return tokens


def english_words(text: str) -> list[str]:
    """English words of a question, possessives dropped; a hyphenated word the glossary does not know
    splits into its parts ("aesthetic-education" -> aesthetic, education)."""
    words = []
    for word in re.findall(r"[a-z][a-z\-']+", text.lower()):
        word = re.sub(r"'s?$", "", word)
        if "-" in word and word not in glossary():
            words.extend(part for part in word.split("-") if len(part) > 1)
        else:
            words.append(word)
    return list(dict.fromkeys(words))
