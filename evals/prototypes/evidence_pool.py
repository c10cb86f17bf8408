"""Where the evidence of the real questions' answerable items stands when search misses it (2026-12-02, night).

For every answerable item of evals/realq-dev*.jsonl: the evidence's place in the fused top 8 (what the answer step
reads), whether any ranked list returned it at all (the candidate pool the sentence ranking reorders), its best
place in any one list, and its place under a sentence scan of the whole index (every chunk scored by its own and its
best sentence's similarity, as the sentence ranking scores candidates). Without the service's question filters.

    .venv/bin/python evals/prototypes/evidence_pool.py data/sets/extcorpus+lawcorpus
"""
import glob
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from evals.metrics import relevant
from policyqa.service import QAService
from policyqa.settings import Settings

qa = QAService(Settings(data_dir=Path(sys.argv[1])))
R, chunks = qa.retriever, qa.index.chunks
everything = np.arange(len(chunks))
parts = [cols for _, cols in R.parts]
places, missed, lists_top3 = Counter(), Counter(), Counter()
for path in sorted(glob.glob("evals/realq-dev*.jsonl")):
    for line in open(path, encoding="utf-8"):
        item = json.loads(line)
        if not item.get("answerable"):
            continue
        ev = {r for r, c in enumerate(chunks) if relevant(item["evidence"], item.get("doc_ids") or [], c.doc_id, c.text)}
        if not ev:
            continue
        ranked = R.rankings(qa.analyse(item["question"]).normalised)
        fused = next((i + 1 for i, h in enumerate(R.fuse_hits(ranked, 8))
                      if relevant(item["evidence"], item.get("doc_ids") or [], h.chunk.doc_id, h.chunk.text)), None)
        places["fused 1" if fused == 1 else "fused 2-8" if fused else "fused >8"] += 1
        if fused:
            continue
        ranks = {name: next((i + 1 for i, (row, _) in enumerate(found) if row in ev), None)
                 for name, found in ranked.lists.items()}
        best = min((r for r in ranks.values() if r), default=None)
        missed["not in any list" if best is None else "best list place " + (
            "1-3" if best <= 3 else "4-8" if best <= 8 else ">8")] += 1
        lists_top3.update(name for name, r in ranks.items() if r and r <= 3)
        scan = np.argsort(-R.index.sentences.scores(ranked.query_vec, everything, parts, True))[:50]
        missed["whole-index sentence scan top 50"] += bool(ev & set(int(r) for r in scan))
print(dict(places))
print("evidence outside the fused top 8:", dict(missed))
print("lists placing it in their top 3:", dict(lists_top3))
