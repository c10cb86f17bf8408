"""What a request may read and write: every collection (the admin key, or this machine writing without any
key configured), the collections of a scoped key (policyqa/keys.py), or reading only (no key).

Routes get an `Access` from server.deps (require_reader / require_writer / require_admin) and narrow what they
do with the helpers here, so the collection rules are in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from fastapi import HTTPException

from answer.citations import Answer
from policyqa.keys import ScopedKey
from policyqa.models import Document
from retrieval.filters import LAWS, SearchFilters, collection_of


@dataclass(frozen=True)
class Access:
    who: str  # named in error messages: "key '第一中学'"
    read: frozenset[str] | None  # collections it reads; None: every one
    write: frozenset[str] | None  # collections it changes; None: every one, and reindex, law imports
    key: bool = False  # a known key was presented (the admin key or a scoped one)

    @property
    def admin(self) -> bool:
        return self.write is None

    def can_read(self, doc: Document) -> bool:
        return self.read is None or collection_of(doc) in self.read

    def can_write(self, collection: str) -> bool:
        return self.write is None or collection in self.write


ADMIN = Access("the admin key", None, None, key=True)
THIS_MACHINE = Access("this machine (no key configured)", None, None)
ANYONE = Access("a request without a key", None, frozenset())


def of_key(k: ScopedKey) -> Access:
    who = f"key '{k.name}'"
    if k.admin:
        return Access(who, None, None, key=True)
    write = frozenset(k.write)
    return Access(who, frozenset(k.read) | write, write, key=True)  # a collection it writes it also reads


def names(collections: Iterable[str]) -> str:
    return "、".join(sorted(collections)) or "no collection"


def read_filters(filters: SearchFilters | None, access: Access) -> SearchFilters | None:
    """The request's filters within the collections `access` reads: the collections asked for that it may
    read, or all it may read when none are asked for. 403 when none of those asked for is readable (an empty
    result would look like "the documents do not say")."""
    if access.read is None:
        return filters
    filters = filters or SearchFilters()
    asked = filters.collections
    allowed = [c for c in asked if c in access.read] if asked else sorted(access.read)
    if not allowed:
        raise HTTPException(403, f"{access.who} reads {names(access.read)} only, not {names(asked)}; ask within "
                            "its collections (filters.collections), or use a key for those")
    return replace(filters, collections=allowed)


def readable_answer(answer: Answer, access: Access) -> Answer:
    """The answer without links to documents `access` may not read: a cited document's newer version and
    the documents its text names (依据《…》) are other documents, whose titles are not for this key. The
    citations themselves come from the filtered search."""
    if access.read is None:
        return answer
    for c in answer.citations:
        c.cites = [r for r in c.cites if access.can_read(r.document)]
        if c.version and c.version.newer and not access.can_read(c.version.newer):
            c.version = replace(c.version, newer=None)
    return answer


def upload_collection(asked: str | None, access: Access) -> str | None:
    """The collection an upload goes into: the one its metadata names, else the writer's only collection
    (None: no collection, i.e. 本地文件, for writers of every collection). 403 / 422 with what to send."""
    if asked == LAWS:
        raise HTTPException(422, f"{LAWS} is the national law library, filled by `policyqa laws import` (POST "
                            "/api/laws/import); upload into another collection")
    if asked is None:
        if access.write is None:
            return None
        if len(access.write) == 1:
            return next(iter(access.write))
        raise HTTPException(422, f"{access.who} writes {names(access.write)}: say which collection the document "
                            'goes into, as metadata {"collection": "..."}')
    if not access.can_write(asked):
        raise HTTPException(403, f"{access.who} may not upload into '{asked}'; it writes {names(access.write)}")
    return asked


def check_write(doc: Document, access: Access, action: str) -> None:
    """403 when `access` may not change this document (`action`: "delete", "replace")."""
    collection = collection_of(doc)
    if not access.can_write(collection):
        raise HTTPException(403, f"{access.who} may not {action} '{doc.doc_id}': it is in '{collection}', and "
                            f"the key writes {names(access.write)}; ask a writer of '{collection}'")
