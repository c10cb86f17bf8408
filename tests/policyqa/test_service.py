"""policyqa.service: what an ingest keeps when the index it updates was built with other settings, how many
clauses an answer reads, that no text goes to a model twice for one question, and that the answer step's
sentences come embedded with the index."""

from __future__ import annotations

import shutil

import pytest
from helpers import make_settings

from answer.sentence_store import indexed_sentences, open_store, sentence_model
from policyqa import service
from retrieval.embedders import QueryCache, model_parts
from retrieval.index import read_contents

ONE = "一、总则\n学校应当建立安全管理制度,落实安全责任。\n二、职责\n教育局负责监督检查学校的安全工作。\n"
TWO = "一、目标\n每所学校至少开设三个兴趣项目。\n二、保障\n各校应当保障兴趣项目的场地和经费。\n"


def indexed_ids(settings) -> set[str]:
    documents, _ = read_contents(service.index_dir(settings))
    return {d.doc_id for d in documents}


def test_an_ingest_after_a_change_of_chunking_reads_the_other_files_again(tmp_path, hashing_embedder):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "one.txt").write_text(ONE, encoding="utf-8")
    (second / "two.txt").write_text(TWO, encoding="utf-8")
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=first, embedder="hashing")
    service.ingest(settings, [first], hashing_embedder)
    service.ingest(settings, [second], hashing_embedder)  # an upload, or `policyqa ingest FILE`
    before = indexed_ids(settings)
    assert len(before) == 2

    # Another chunking: the index is built anew. The file ingested apart is read again, not dropped.
    changed = make_settings(data_dir=tmp_path / "data", corpus_dir=first, embedder="hashing", chunk_max_chars=300)
    assert service.compatible_manifest(changed, hashing_embedder) is None
    outcome = service.ingest(changed, [first], hashing_embedder)
    assert outcome.manifest is not None
    assert indexed_ids(changed) == before
    assert service.compatible_manifest(changed, hashing_embedder) is not None

    # A file that is gone is not brought back; pruning drops its document as before.
    (second / "two.txt").unlink()
    service.ingest(settings, [first], hashing_embedder, prune=True)
    assert len(indexed_ids(settings)) == 1


@pytest.mark.slow
def test_an_answer_reads_answer_depth_clauses_and_a_search_returns_top_k(real_index):
    question = "哪个股室牵头实施特色创新课程构建工程?"
    settings = real_index.settings
    assert settings.answer_depth > settings.top_k
    assert len(real_index.ask(question).hits) == settings.answer_depth
    assert len(real_index.search(question)) == settings.top_k
    assert len(real_index.ask(question, top_k=3).hits) == 3  # a caller's depth wins


@pytest.mark.slow
def test_one_question_embeds_no_text_twice_with_the_query_cache_off(real_index, monkeypatch):
    # The search embeds the question with both models, the answer step the same text with USE to rank sentences:
    # the second is the first one's vector, cache or no cache.
    question = "学校每学期要组织几次应急疏散演练?"
    seen: list[str] = []
    for name, model, _ in model_parts(real_index.embedder):
        monkeypatch.setattr(model, "query_cache", QueryCache(0))  # off, as in the library and the uncached benches
        if name.startswith("use:"):
            def recorded(texts, encode=model._encode):
                seen.extend(texts)
                return encode(texts)
            monkeypatch.setattr(model, "_encode", recorded)
    first = real_index.ask(question)
    assert seen.count(real_index.analyse(question).focus) == 1, seen[:3]
    assert len(seen) == len(set(seen))
    seen.clear()
    again = real_index.ask(question)  # a new question's span: embedded afresh, the same answer
    assert seen.count(real_index.analyse(question).focus) == 1
    assert again.answer.answer == first.answer.answer


@pytest.mark.slow
def test_a_new_service_reads_the_clauses_sentences_from_the_store_the_ingest_wrote(real_index, monkeypatch):
    # Every upload starts a new QAService: its first questions embed no sentence of the clauses they read, the
    # ingest embedded them all beside the index (answer/sentence_store.py).
    settings = real_index.settings
    _, chunks = read_contents(service.index_dir(settings))
    store = open_store(settings.data_dir, sentence_model(real_index.embedder))
    assert all(store.find(text) is not None for text in indexed_sentences(chunks))
    fresh = service.QAService(settings, real_index.embedder)
    seen: list[str] = []
    for name, model, _ in model_parts(real_index.embedder):
        monkeypatch.setattr(model, "query_cache", QueryCache(0))
        if name.startswith("use:"):
            def recorded(texts, encode=model._encode):
                seen.extend(texts)
                return encode(texts)
            monkeypatch.setattr(model, "_encode", recorded)
    question = "初中生在学校打架会被开除吗?"
    result = fresh.ask(question)
    assert result.hits and seen == [fresh.analyse(question).focus]


def test_an_index_built_before_the_store_gets_it_from_the_next_ingest(tmp_path, hashing_embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "one.txt").write_text(ONE, encoding="utf-8")
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=folder, embedder="hashing")
    first = service.ingest(settings, [folder], hashing_embedder)
    _, chunks = read_contents(service.index_dir(settings))
    assert first.answer_sentences == len(indexed_sentences(chunks)) > 0
    store = open_store(settings.data_dir, sentence_model(hashing_embedder))
    shutil.rmtree(store.folder)  # as an index built by an earlier version has it
    again = service.ingest(settings, [folder], hashing_embedder)
    assert again.skipped and again.answer_sentences == first.answer_sentences
    assert all(open_store(settings.data_dir, sentence_model(hashing_embedder)).find(t) is not None
               for t in indexed_sentences(chunks))
    assert service.ingest(settings, [folder], hashing_embedder).answer_sentences == 0  # and only once
