"""The seed eval set is well-formed and its evidence is really in the (cleaned) documents."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from helpers import CORPUS, REPO

from evals.metrics import answer_hit, evidence_rank, norm
from evals.run import EvalSetError, load_eval_set
from ingest.pipeline import load_document

SEED = REPO / "evals" / "seed.jsonl"
ITEMS = load_eval_set(SEED)
ANSWERABLE = [i for i in ITEMS if i["answerable"]]


@cache
def doc_text(doc_id: str) -> str:
    return norm(load_document(CORPUS / f"{doc_id}.txt").text)


def test_size_and_mix():
    assert len(ITEMS) >= 40
    assert len(ANSWERABLE) >= 30
    assert len(ITEMS) - len(ANSWERABLE) >= 5  # refusals are evaluated too
    assert any(i.get("language") == "en" for i in ITEMS) and any(i.get("language") == "zh" for i in ITEMS)


def test_ids_unique_and_questions_present():
    ids = [i["id"] for i in ITEMS]
    assert len(ids) == len(set(ids))
    assert all(i["question"].strip() for i in ITEMS)
    questions = [norm(i["question"]) for i in ITEMS]
    assert len(questions) == len(set(questions))


def test_doc_ids_exist_in_corpus():
    for item in ANSWERABLE:
        assert item["doc_ids"], item["id"]
        for doc_id in item["doc_ids"]:
            assert (CORPUS / f"{doc_id}.txt").exists(), (item["id"], doc_id)


@pytest.mark.parametrize("item", ANSWERABLE, ids=[i["id"] for i in ANSWERABLE])
def test_evidence_occurs_in_cleaned_document(item):
    assert item["evidence"], "an answerable item needs evidence"
    texts = [doc_text(d) for d in item["doc_ids"]]
    for evidence in item["evidence"]:
        assert any(norm(evidence) in t for t in texts), evidence


@pytest.mark.parametrize("item", ANSWERABLE, ids=[i["id"] for i in ANSWERABLE])
def test_answer_terms_occur_in_the_documents(item):
    """An answer can only contain what the documents say (the answers are extractive)."""
    texts = "".join(doc_text(d) for d in item["doc_ids"])
    for term in item.get("answer_terms", []):
        assert norm(term) in texts, term


def test_unanswerable_items_have_no_evidence():
    for item in ITEMS:
        if not item["answerable"]:
            assert not item.get("evidence"), item["id"]


def test_load_eval_set_errors(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q", "answerable": true}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(EvalSetError, match=r"bad.jsonl:2: missing field\(s\) question, answerable"):
        load_eval_set(bad)
    bad.write_text("\n", encoding="utf-8")
    with pytest.raises(EvalSetError, match="no eval items"):
        load_eval_set(bad)
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(EvalSetError, match=":1: not valid JSON"):
        load_eval_set(bad)


# ---- the metric functions the eval figures rest on ------------------------------------------

def test_norm_folds_width_and_whitespace():
    assert norm("(一) 总体\n目标:2020 年") == "(一)总体目标:2020年"


def test_evidence_rank():
    ranked = [("a", "无关内容"), ("b", "实施 特色创新课程构建工程"), ("a", "实施特色创新课程构建工程")]
    assert evidence_rank(["实施特色创新课程构建工程"], [], ranked) == 2
    assert evidence_rank(["实施特色创新课程构建工程"], ["a"], ranked) == 3  # other documents do not count
    assert evidence_rank(["不存在"], [], ranked) is None


def test_answer_hit():
    assert answer_hit(["教研室", "基教股"], "由教研室牵头,基教股协助[1]。")
    assert not answer_hit(["教研室", "远教站"], "由教研室牵头,基教股协助[1]。")
    assert answer_hit([], "anything")


def test_seed_file_is_jsonl_with_one_object_per_line():
    lines = [line for line in Path(SEED).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) == len(ITEMS)
    assert all(isinstance(json.loads(line), dict) for line in lines)


# ---- every registered set (evals/sets.json), against its own corpus -------------------------------------

REGISTRY = json.loads((REPO / "evals" / "sets.json").read_text(encoding="utf-8"))
REGISTERED = [name for name in REGISTRY if not name.startswith("_")]


@cache
def corpus_texts(set_name: str) -> dict[str, str]:
    from evals.session import set_corpora

    folders = set_corpora(REPO / "evals" / set_name)
    assert folders and all(f.is_dir() for f in folders), f"{set_name}: its corpus {folders} is missing"
    return {p.stem: norm(load_document(p).text) for corpus in folders for p in sorted(corpus.glob("*.txt"))
            if p.stem != "SOURCES"}


@pytest.mark.parametrize("set_name", REGISTERED)
def test_registered_set_is_sound(set_name):
    items = load_eval_set(REPO / "evals" / set_name)
    texts = corpus_texts(set_name)
    assert len({i["id"] for i in items}) == len(items), "duplicate ids"
    unanswerable = [i for i in items if not i["answerable"]]
    english = [i for i in items if i.get("language") == "en"]
    assert len(unanswerable) >= 0.15 * len(items)  # unanswerable traps in every set
    if not REGISTRY[set_name].get("real"):  # written sets: issue 5's language mix; real ones are as found
        assert len(english) >= 0.15 * len(items)
    for item in items:
        if not item["answerable"]:
            assert not item.get("evidence") and not item.get("answer_terms"), item["id"]
            continue
        docs = [texts[d] for d in item["doc_ids"]]  # KeyError names a doc id that is not in the corpus
        for evidence in item["evidence"]:
            assert any(norm(evidence) in t for t in docs), (item["id"], evidence)
        for term in item.get("answer_terms", []):
            assert norm(term) in "".join(docs), (item["id"], term)
