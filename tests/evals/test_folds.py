"""Folds of evals/folds.py: sets left out, or the evidence documents dealt into folds."""

from __future__ import annotations

from evals.folds import Question, document_folds, training


def question(set_name: str, *doc_ids: str) -> Question:
    return Question(set_name, {"question": "?", "doc_ids": list(doc_ids)}, "short", fold=set_name)


def test_documents_are_dealt_most_asked_first_and_a_question_goes_with_its_most_asked_document():
    qs = [question("a", "civil"), question("a", "civil"), question("b", "civil", "minors"),
          question("b", "minors"), question("c", "teachers")]
    folds = document_folds(qs, n=2)
    assert folds == {"documents 1 of 2": frozenset({"civil", "teachers"}), "documents 2 of 2": frozenset({"minors"})}
    assert [q.fold for q in qs] == ["documents 1 of 2"] * 3 + ["documents 2 of 2", "documents 1 of 2"]


def test_a_document_fold_trains_on_no_question_about_its_documents():
    qs = [question("a", "civil"), question("a", "minors"), question("b", "civil", "minors"), question("b", "teachers")]
    folds = document_folds(qs, n=2)
    assert folds["documents 2 of 2"] == frozenset({"minors"})
    assert qs[2].fold == "documents 1 of 2"  # with civil, its most asked document (ties: first asked)
    # measuring the minors fold: the two-document question is in another fold but asks about minors too
    assert training(qs, "documents 2 of 2", folds["documents 2 of 2"]) == [qs[0], qs[3]]
    assert training(qs, "documents 1 of 2", folds["documents 1 of 2"]) == [qs[1]]


def test_sets_left_out_train_on_every_other_set():
    qs = [question("a", "civil"), question("b", "civil"), question("c", "minors")]
    assert training(qs, "a", frozenset()) == qs[1:]
