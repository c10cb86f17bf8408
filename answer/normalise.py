"""Questions as typed into one form before anything reads them: traditional characters to simplified
(OpenCC's own dictionaries, inside the `opencc` wheel; a question in traditional script also has Taiwan's
words put in mainland ones, 軟體 → 软件, 網路 → 网络, with OpenCC's tw2sp), full-width letters, digits and punctuation to
half-width (NFKC), and greetings or thanks around the question dropped ("律师您好,…谢谢"). Citations are
never touched: only the question is normalised.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

PREAMBLES_FILE = Path(__file__).with_name("data") / "preambles.txt"
EDGE_PUNCT = " \t\r\n,.!?;:、,。!?;:~…-—"


@lru_cache(maxsize=2)
def _converter(config: str = "t2s"):
    try:
        import opencc
    except ImportError:  # a missing optional dependency must not take questions down: no conversion
        return None
    return opencc.OpenCC(config)


@lru_cache(maxsize=1)
def preambles() -> tuple[tuple[str, bool], ...]:
    """(phrase, alone) longest first (请问一下 before 请问); `alone`: only when punctuation parts it off."""
    found: dict[str, bool] = {}
    alone = False
    for line in PREAMBLES_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line == "[alone]":
            alone = True
        elif line and not line.startswith("#"):
            found[line] = alone
    return tuple(sorted(found.items(), key=lambda item: -len(item[0])))


def to_simplified(text: str) -> str:
    """Simplified script; text written in traditional script also gets mainland words for Taiwan's (its
    writers are mostly from Taiwan or Hong Kong). Simplified text is left as it is: Taiwan's phrase table
    is not applied to words that only look like its entries."""
    converter = _converter()
    if converter is None:
        return text
    simplified = converter.convert(text)
    if simplified == text:
        return text
    return _converter("tw2sp").convert(text)


def strip_preambles(text: str) -> str:
    """Greetings and thanks at either end, repeatedly ("您好,请问…谢谢!"); the text itself when nothing
    would be left."""
    out = text.strip()
    changed = True
    while changed:
        changed = False
        for phrase, alone in preambles():
            n = len(phrase)
            if out.startswith(phrase) and len(out) > n + 1 and (not alone or out[n] in EDGE_PUNCT):
                out, changed = out[n:].lstrip(EDGE_PUNCT), True
            tail = out.rstrip(EDGE_PUNCT)
            if tail.endswith(phrase) and len(tail) > n + 1 and (not alone or tail[-n - 1] in EDGE_PUNCT):
                out, changed = tail[:-n].rstrip(EDGE_PUNCT), True
    return out.strip() or text


# A character's reading in brackets after it, as pages made for learners print it and mirror sites copy it
# ("家長可以報(bào)警嗎"): a tone-marked pinyin syllable splits the word it follows for every reader.
PINYIN_NOTE = re.compile(r"(?<=[\u3400-\u9fff])\s*\(\s*[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\s*\)")


@lru_cache(maxsize=4096)
def normalise_question(text: str) -> str:
    """The question in simplified script, half-width, single-spaced, without readings in brackets or greetings
    around it."""
    text = PINYIN_NOTE.sub("", unicodedata.normalize("NFKC", text))
    text = re.sub(r"\s+", " ", to_simplified(text)).strip()
    return strip_preambles(text)
