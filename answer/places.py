"""Place names from the indexed documents, so a question can name a county the documents cover ("仁怀的
规划", "the Renhuai plan" -> 仁怀): each place that opens a document's issuer or title ("仁怀市教育局",
"泾源县新优质学校…") is known by its Hanyu Pinyin too (pypinyin, its dictionary inside the wheel)."""

from __future__ import annotations

import re
from dataclasses import replace

from answer.question import Question
from policyqa.models import Document

# A place opening an issuer or a title: two to four characters and the level of government.
PLACE = re.compile(r"^([\u4e00-\u9fff]{2,4}?)(?:省|市|县|区|自治区|自治州|自治县|旗|盟)")
_cache: dict[int, tuple[object, dict[str, str]]] = {}


def pinyin(name: str) -> str:
    try:
        from pypinyin import lazy_pinyin
    except ImportError:  # without it, English questions name only the places of answer/data/places.tsv
        return ""
    return "".join(lazy_pinyin(name))


def opening_places(doc: Document) -> list[str]:
    """The places that open the document's issuer or title ("仁怀市教育局" -> 仁怀)."""
    parts = [part.strip() for text in (doc.issuer, doc.title) for part in re.split(r"[、,]", text or "")]
    return [m.group(1) for part in parts if (m := PLACE.match(part))]


def is_national(doc: Document) -> bool:
    """Whether the document holds everywhere: no place issued it or is named at the head of its title (a law,
    a State Council or ministry document), unlike a province's, city's or county's rules."""
    return not opening_places(doc)


def document_places(documents: dict[str, Document]) -> dict[str, str]:
    """Pinyin -> Chinese name of every place that opens a document's issuer or title; cached per index."""
    cached = _cache.get(id(documents))
    if cached is None or cached[0] is not documents:
        places: dict[str, str] = {}
        for doc in documents.values():
            for place in opening_places(doc):
                if key := pinyin(place):
                    places[key] = place
        _cache.clear()
        cached = _cache[id(documents)] = (documents, places)
    return cached[1]


def with_document_places(q: Question, documents: dict[str, Document]) -> Question:
    """The question with the indexed documents' places it names added to `names`: by their Chinese names
    (jieba does not know a county such as 仁怀 as a place) or, in English, their Pinyin. A long question's
    places count in its asking sentence(s) only, as for `names` (a story's places are the asker's)."""
    places = document_places(documents)
    if q.english:
        words = re.findall(r"[a-z]+", q.normalised.lower())
        found = [zh for key, zh in places.items()
                 if any(w == key or (w.startswith(key) and len(w) <= len(key) + 1) for w in words)]
    else:
        asking = q.focus if q.style == "long" else q.normalised
        found = [zh for zh in places.values() if zh in asking]
    new = [zh for zh in found if zh not in q.names]
    return replace(q, names=q.names + tuple(new)) if new else q
