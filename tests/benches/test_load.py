"""The load test (benches/load.py) in a short version against a real server, and the query-vector cache the
server uses. Behaviour only: no errors, no request lost, the document uploaded under load answerable once its
job is done, the server gone afterwards, cached answers equal to uncached ones. Speed is the benchmark's
business (`python -m benches.load`), never asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from helpers import REPO, cli_env
from pydantic import ValidationError

from policyqa.settings import Settings
from retrieval.embedders import ONE_QUESTION, HashingEmbedder, ModelTurns, QueryCache, enable_query_cache

# -- the query cache --------------------------------------------------------------------------------


class CountingModel:
    """compute() for QueryCache: deterministic vectors, and a record of what it was asked to embed."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.inner = HashingEmbedder(16)

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.embed_queries(texts)


def test_query_cache_embeds_only_what_it_has_not_seen():
    model, cache = CountingModel(), QueryCache(3)
    first = cache.embed("m", ["a", "b"], model)
    again = cache.embed("m", ["b", "c", "a"], model)
    assert model.calls == [["a", "b"], ["c"]]
    assert np.array_equal(again, model.inner.embed_queries(["b", "c", "a"]))
    assert np.array_equal(first[0], again[2]) and (cache.hits, cache.misses) == (2, 3)
    again[0] += 1.0  # callers get their own arrays
    assert np.array_equal(cache.embed("m", ["b"], model)[0], model.inner.embed_queries(["b"])[0])


def test_query_cache_is_lru_bounded_and_keyed_by_embedder_name():
    model, cache = CountingModel(), QueryCache(2)
    cache.embed("m", ["a"], model)
    cache.embed("m", ["b"], model)
    cache.embed("m", ["a"], model)  # a is now the most recent
    cache.embed("m", ["c"], model)  # evicts b
    assert len(cache) == 2
    cache.embed("m", ["a", "b"], model)
    cache.embed("other", ["a"], model)  # another embedder's vectors are never reused
    assert model.calls == [["a"], ["b"], ["c"], ["b"], ["a"]]


def test_query_cache_of_size_zero_is_off():
    model, cache = CountingModel(), QueryCache(0)
    cache.embed("m", ["a"], model)
    cache.embed("m", ["a"], model)
    assert model.calls == [["a"], ["a"]] and len(cache) == 0


def test_one_questions_vectors_are_kept_for_its_span_only():
    model, cache = CountingModel(), QueryCache(0)
    with ONE_QUESTION():
        cache.embed("m", ["q"], model)
        both = cache.embed("m", ["q", "s"], model)  # the answer step: the question again and a sentence
        cache.embed("other", ["q"], model)  # another model's vector of the same text is its own
        elsewhere = threading.Thread(target=cache.embed, args=("m", ["q"], model))
        elsewhere.start()
        elsewhere.join()  # another thread is another question
    cache.embed("m", ["q"], model)  # the next question
    assert model.calls == [["q"], ["s"], ["q"], ["q"], ["q"]]
    assert np.array_equal(both, model.inner.embed_queries(["q", "s"]))
    both[0] += 1.0  # callers get their own arrays
    with ONE_QUESTION():
        cache.embed("m", ["q"], model)
        assert np.array_equal(cache.embed("m", ["q"], model)[0], model.inner.embed_queries(["q"])[0])


def test_vectors_reused_within_a_question_are_not_counted_as_cache_hits():
    model, cache = CountingModel(), QueryCache(8)
    with ONE_QUESTION():
        cache.embed("m", ["q"], model)  # the search
        cache.embed("m", ["q"], model)  # the answer step: the same question, from the span
    assert (cache.hits, cache.misses) == (0, 1)
    with ONE_QUESTION():
        cache.embed("m", ["q"], model)  # the next question: from the cache
        cache.embed("m", ["q"], model)
    assert (cache.hits, cache.misses) == (1, 1) and model.calls == [["q"]]


def test_query_cache_size_setting(monkeypatch):
    monkeypatch.delenv("POLICYQA_QUERY_CACHE_SIZE", raising=False)
    assert Settings().query_cache_size == 2048
    monkeypatch.setenv("POLICYQA_QUERY_CACHE_SIZE", "0")
    assert Settings().query_cache_size == 0
    monkeypatch.setenv("POLICYQA_QUERY_CACHE_SIZE", "lots")
    with pytest.raises(ValidationError):
        Settings()
    assert enable_query_cache(HashingEmbedder(), 16) is None  # no model, no cache


def test_queries_go_before_the_next_passage_slice():
    """An ingest embedding many passages yields the model to a query between slices."""
    turns, order = ModelTurns(), []
    started = threading.Event()

    def ingest():
        for i in range(3):
            with turns.turn(query=False):
                order.append(f"passages{i}")
                started.set()
                time.sleep(0.05)

    worker = threading.Thread(target=ingest)
    worker.start()
    started.wait()
    with turns.turn(query=True):
        order.append("query")
    worker.join()
    assert order.index("query") == 1, order


@pytest.mark.slow
def test_cached_query_vectors_change_no_answer(real_index):
    """The server's cache (enable_query_cache) returns the model's vectors bit for bit: same answers."""
    questions = ["课程那个工程谁牵头?哪个股协助?", "Which office leads the curriculum project?",
                 "2024年高考分数线是多少?"]
    embedder = real_index.embedder
    saved = embedder.query_cache
    try:
        embedder.query_cache = QueryCache(0)
        uncached = [real_index.ask(q).to_dict() for q in questions]
        cache = enable_query_cache(embedder, 16)
        for _ in range(2):  # the first round fills the cache, the second is served from it
            cached = [real_index.ask(q).to_dict() for q in questions]
            for a, b in zip(uncached, cached, strict=True):
                assert {**a, "latency_ms": 0} == {**b, "latency_ms": 0}
        assert cache.hits >= len(questions) and len(cache) >= len(questions)
    finally:
        embedder.query_cache = saved


# -- the load test against a real server ------------------------------------------------------------


@pytest.mark.slow
def test_short_load_run_loses_nothing_and_the_upload_is_answerable(real_index, tmp_path):
    """benches/load.py for a few seconds per mode (few users) over a copy of the session's real index."""
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benches.load", "--mode", "both", "--duration", "6", "--users", "6",
         "--interval", "1", "--concurrency", "3", "--seed-data-dir", str(real_index.settings.data_dir),
         "--out", str(out), "--timeout", "300"],
        cwd=REPO, env=cli_env(), capture_output=True, text=True, encoding="utf-8", timeout=360)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))

    for mode in ("a", "b"):
        m = results[mode]
        assert m["requests"] > 0 and m["errors"] == 0 and m["lost"] == 0, m
        assert set(m["statuses"]) == {"200"} or mode == "a", m["statuses"]  # a also has the upload's 202
        assert m["ask"]["ok"] == m["ask"]["n"] > 0 and m["search"]["ok"] == m["search"]["n"]
    assert set(results["a"]["statuses"]) <= {"200", "202"}

    up = results["a"]["upload"]
    assert up["before"]["cites_upload"] is False  # not in the index before the upload
    assert up["job"]["status"] == "done", up
    assert up["after"]["refused"] is False and up["after"]["cites_upload"] is True, up
    assert up["after"]["first_citation"] == up["doc_id"] and "1260" in up["after"]["answer"]
    assert up["errors_during_ingest"] == 0

    assert "POLICYQA_RATE_LIMIT_PER_MINUTE=600000" in proc.stdout  # the benchmark says what it changed
    assert results["server_alive_at_end"] is True
    with pytest.raises(ProcessLookupError):  # the server was stopped with the run
        os.kill(results["server_pid"], 0)
