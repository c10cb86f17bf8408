"""The national law library at real scale (issue 12): import speed against the raw embedder, index size and
memory, search latency with the library loaded, and answer quality in a crowded index.

    .venv/bin/python -m benches.laws [--scope all|education] [--data DIR] [--sample N] [--out FILE]

1. Raw embedder rate: `embed_passages` on a sample of the library's own article chunks (their indexed text),
   in batches as the index build sends them, before and after the import (the machine's load changes); and on
   the sentences of a sample of articles as the sentence vectors embed them, so the import (articles and their
   sentences) is compared with the bare embedder on the same mix.
2. Import: corpus/, extcorpus and lawcorpus ingested first (cached), then `import_laws(scope, all statuses)`
   into the same index, timed. Throughput = articles embedded / import wall time, beside the raw rate.
   A second import with no change is timed too (it embeds nothing).
3. Index size on disk; RSS and search latency (p50/p95, no query cache) of a fresh process that loads the
   index, over every eval set's questions.
4. Quality, crowded: each eval set over its own corpus with the library loaded beside it, next to the same
   set over its corpus alone, in this run. Laws the set's corpus holds as files are not imported twice (the
   import skips a law whose title an indexed file already has).

The vectors are embedded once, by step 2: every other index shares its embedding cache (a symlink), so the
indexes of step 4 cost BM25 and FAISS only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benches.common import ROOT, dir_size_mb, log, machine_info, progress, shown

# Every eval set but the real-question holdout (run once per release, never in a bench): the real-question
# dev sets and the follow-up sets too.
SETS = ("seed.jsonl", "extcorpus.jsonl", "holdout-seed.jsonl", "holdout-ext.jsonl", "realq-dev.jsonl",
        "realq-dev2.jsonl", "realq-dev3.jsonl", "realq-dev4.jsonl", "realq-dev5.jsonl", "realq-dev6.jsonl",
        "realq-dev7.jsonl", "realq-dev8.jsonl", "realq-dev9.jsonl", "realq-dev10.jsonl",
        "realq-dev11.jsonl", "realq-dev12.jsonl", "realq-dev13.jsonl",
        "multiturn.jsonl", "multiturn-dev2.jsonl", "multiturn-dev3.jsonl", "multiturn-dev4.jsonl")
EMBED_BATCH = 64  # what the index build sends the embedder at a time (retrieval/index.py)


def raw_rate(embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        embedder.embed_passages(texts[i:i + EMBED_BATCH])
    return len(texts) / (time.perf_counter() - started)


def library_sample(source, settings, n: int, seed: int = 16) -> list[str]:
    """Indexed texts of n articles drawn at random (seeded) from every law: the first articles of each law
    (总则) are short, and a sample of them made the model look ~30% faster than on the library (mean
    136 vs 178 characters in the first run)."""
    import random

    from ingest.laws.documents import current_versions, law_chunks, law_document
    from policyqa.service import chunk_settings

    laws = source.laws()
    current = current_versions(laws)
    texts = [c.index_text for law in laws
             for c in law_chunks(law_document(law, source.articles(law.law_id), source, current[law.name]),
                                 chunk_settings(settings))]
    return random.Random(seed).sample(texts, min(n, len(texts)))


def sentence_sample(source, settings, n: int, seed: int = 16) -> list[str]:
    """What the index embeds for the sentences of n articles drawn as library_sample draws them (the title,
    a space, the sentence: retrieval.sentences.sentence_texts)."""
    import random

    from ingest.laws.documents import current_versions, law_chunks, law_document
    from policyqa.service import chunk_settings
    from retrieval.sentences import sentence_texts

    laws = source.laws()
    current = current_versions(laws)
    pairs = []
    for law in laws:
        doc = law_document(law, source.articles(law.law_id), source, current[law.name])
        pairs += [(c.text, doc.title) for c in law_chunks(doc, chunk_settings(settings))]
    drawn = random.Random(seed).sample(pairs, min(n, len(pairs)))
    return sentence_texts([text for text, _ in drawn], [title for _, title in drawn])[0]


def answer_sentence_sample(source, settings, n: int, seed: int = 16) -> list[str]:
    """The answer step's sentences (answer/sentence_store.py: bare, through USE alone) of n articles drawn as
    library_sample draws them."""
    import random

    from answer.sentence_store import indexed_sentences
    from ingest.laws.documents import current_versions, law_chunks, law_document
    from policyqa.service import chunk_settings

    laws = source.laws()
    current = current_versions(laws)
    chunks = [c for law in laws
              for c in law_chunks(law_document(law, source.articles(law.law_id), source, current[law.name]),
                                  chunk_settings(settings))]
    return indexed_sentences(random.Random(seed).sample(chunks, min(n, len(chunks))))


def mixed_rate(articles: int, sentences: int, article_rate: float, sentence_rate: float,
               answer_sentences: int = 0, answer_rate: float = 1.0) -> float:
    """Passages per second the bare models would reach on the import's own mix: the time they need for the
    articles at the article rate, the index's sentences at its sentence rate (sentences are shorter) and the
    answer step's sentences at USE's rate on them."""
    return ((articles + sentences + answer_sentences)
            / (articles / article_rate + sentences / sentence_rate + answer_sentences / answer_rate))


def share_cache(data_dir: Path, shared: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    link = data_dir / "embed_cache"
    if not link.exists():
        shared.mkdir(parents=True, exist_ok=True)
        link.symlink_to(shared.resolve(), target_is_directory=True)


def build(settings, folders: list[Path], embedder, source, scope) -> dict:
    from policyqa import service

    ingest = service.ingest(settings, folders, embedder, prune=True)
    assert ingest.manifest is not None, ingest.report.errors
    outcome = service.import_laws(settings, source, scope, True, embedder, progress=lambda xs: progress(xs, "laws"))
    # Sentence vectors (retrieval/sentences.py) are embedded beside the articles: reported apart, since they
    # are shorter passages than the raw rate's sample of articles.
    return {"seconds": round(outcome.seconds, 1), "embedded": outcome.embedded,
            "sentences_embedded": outcome.sentences_embedded,
            "answer_sentences_embedded": outcome.answer_sentences, "outcome": outcome}


def probe(data_dir: Path, questions: list[str]) -> dict:
    """Load the index in a fresh process (`--probe`): its RSS, and search latency over the questions."""
    out = subprocess.run([sys.executable, "-m", "benches.laws", "--probe", str(data_dir)],
                         input=json.dumps(questions), capture_output=True, text=True, cwd=ROOT, check=True,
                         env={k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")})
    return json.loads(out.stdout.strip().splitlines()[-1])


def probe_main(data_dir: Path) -> None:
    from benches.common import percentile, rss_mb
    from policyqa.service import QAService
    from policyqa.settings import Settings

    service = QAService(Settings(data_dir=data_dir))  # the library has no query cache: every search embeds
    questions = json.loads(sys.stdin.read())
    for q in questions[:5]:
        service.search(q)  # warm-up
    times = []
    for q in questions:
        started = time.perf_counter()
        service.search(q)
        times.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"rss_mb": round(rss_mb()), "documents": len(service.index.documents),
                      "chunks": len(service.index.chunks), "n": len(times),
                      "search_p50_ms": round(percentile(times, 50), 1),
                      "search_p95_ms": round(percentile(times, 95), 1)}))


def quality(settings, items: list[dict], embedder) -> dict:
    from evals.run import LocalSystem, run_eval
    from policyqa.service import QAService

    summary = run_eval(LocalSystem(QAService(settings, embedder), "hybrid", "hybrid"), items)["summary"]
    return {k: summary.get(k) for k in ("recall@1", "recall@5", "answer_hit", "false_refusal_rate",
                                        "refusal_recall")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scope", default="all", help="law scope to import: all (378 laws) or education")
    p.add_argument("--data", type=Path, default=ROOT / "data" / "bench-laws", help="work folder (kept: reruns "
                   "reuse its embedding cache)")
    p.add_argument("--sample", type=int, default=320, help="articles in the raw-rate sample")
    p.add_argument("--out", type=Path, default=ROOT / "benches" / "results" / "laws.json")
    p.add_argument("--skip-quality", action="store_true", help="speed and size only")
    p.add_argument("--raw-only", action="store_true", help="only the raw embedder rate on the sample")
    p.add_argument("--probe", type=Path, help=argparse.SUPPRESS)  # internal: the fresh process of step 3
    args = p.parse_args()
    if args.probe:
        probe_main(args.probe)
        return

    from answer.sentence_store import sentence_model
    from evals.run import load_eval_set
    from evals.session import set_corpora
    from ingest.laws.scope import load_scope
    from ingest.laws.source import default_source
    from policyqa import service
    from policyqa.settings import Settings

    source, scope = default_source(), load_scope(args.scope)
    base = Settings(data_dir=args.data / "library", corpus_dir=ROOT / "corpus")
    embedder = service.get_embedder(base)
    shared_cache = args.data / "library" / "embed_cache"  # every corpus's and law's vectors, once
    result: dict = {"machine": machine_info(), "command": "python -m benches.laws " + " ".join(sys.argv[1:]),
                    "scope": args.scope, "embedder": embedder.name}

    sample = library_sample(source, base, args.sample)
    log(f"raw embedder rate on {len(sample)} articles")
    result["raw_rate_before"] = round(raw_rate(embedder, sample), 2)
    sentences = sentence_sample(source, base, args.sample // 3)  # about as many sentences as articles
    log(f"raw embedder rate on {len(sentences)} sentences of {args.sample // 3} articles")
    result["raw_sentence_rate"] = round(raw_rate(embedder, sentences), 2)
    answer_sentences = answer_sentence_sample(source, base, args.sample // 3)
    log(f"raw USE rate on the answer step's {len(answer_sentences)} sentences of {args.sample // 3} articles")
    result["raw_answer_sentence_rate"] = round(raw_rate(sentence_model(embedder), answer_sentences), 2)
    if args.raw_only:
        result["sample_mean_chars"] = round(sum(map(len, sample)) / len(sample))
        print(json.dumps({k: v for k, v in result.items() if k != "machine"}, ensure_ascii=False))
        return

    # 2. the library beside every eval corpus, in an index of its own; a fresh embedding cache for the laws
    folders = [ROOT / "corpus", ROOT / "evals/corpora/extcorpus", ROOT / "evals/corpora/lawcorpus"]
    args.data.joinpath("library").mkdir(parents=True, exist_ok=True)
    first = build(base, folders, embedder, source, scope)
    result["raw_rate_after"] = round(raw_rate(embedder, sample), 2)
    outcome = first["outcome"]
    result["import"] = {"seconds": first["seconds"], "embedded": first["embedded"],
                        "sentences_embedded": first["sentences_embedded"],
                        "answer_sentences_embedded": first["answer_sentences_embedded"], "summary": outcome.summary(),
                        "skipped": outcome.report.errors}
    if first["embedded"]:
        # against each raw measurement on its own: another process busy during one of them shows as a gap
        rate = result["import"]["passages_per_s"] = round(first["embedded"] / first["seconds"], 2)
        # with sentence vectors the import embeds the articles' sentences too: every passage per second
        result["import"]["all_passages_per_s"] = round(
            (first["embedded"] + first["sentences_embedded"] + first["answer_sentences_embedded"])
            / first["seconds"], 2)
        result["import"]["vs_raw_before"] = round(rate / result["raw_rate_before"], 3)
        result["import"]["vs_raw_after"] = round(rate / result["raw_rate_after"], 3)
        # the fair comparison with sentence vectors: every passage against the bare embedder on the same mix
        mix = mixed_rate(first["embedded"], first["sentences_embedded"],
                         (result["raw_rate_before"] + result["raw_rate_after"]) / 2, result["raw_sentence_rate"],
                         first["answer_sentences_embedded"], result["raw_answer_sentence_rate"])
        result["import"]["raw_rate_same_mix"] = round(mix, 2)
        result["import"]["all_vs_raw_same_mix"] = round(result["import"]["all_passages_per_s"] / mix, 3)
    again = build(base, folders, embedder, source, scope)
    result["reimport_unchanged"] = {"seconds": again["seconds"], "embedded": again["embedded"]}
    index = service.index_dir(base)
    result["index_mb"] = round(dir_size_mb(index), 1)
    questions = [item["question"] for name in SETS for item in load_eval_set(ROOT / "evals" / name)]
    result["loaded"] = probe(base.data_dir, questions)
    log(json.dumps(result, ensure_ascii=False, default=str))

    # 4. quality: each set alone and crowded, sharing the laws' embedding cache
    if not args.skip_quality:
        result["quality"] = {}
        for name in SETS:
            path = ROOT / "evals" / name
            corpus = set_corpora(path)
            key = "+".join(f.name for f in corpus)
            items = load_eval_set(path)
            alone = Settings(data_dir=args.data / f"alone-{key}", corpus_dir=corpus[0])
            share_cache(alone.data_dir, shared_cache)
            assert service.ingest(alone, corpus, embedder, prune=True).manifest is not None
            crowded = Settings(data_dir=args.data / f"crowded-{key}", corpus_dir=corpus[0])
            share_cache(crowded.data_dir, shared_cache)
            build(crowded, corpus, embedder, source, scope)
            result["quality"][name] = {"alone": quality(alone, items, embedder),
                                       "crowded": quality(crowded, items, embedder)}
            log(f"{name}: {result['quality'][name]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result["data"] = shown(args.data)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, ensure_ascii=False, indent=1,
                     default=str))


if __name__ == "__main__":
    main()
