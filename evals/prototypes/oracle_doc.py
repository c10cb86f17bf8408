"""Evidence rank with the search restricted to the expected document (an oracle document router)."""
import json
from pathlib import Path
from policyqa.service import QAService
from policyqa.settings import Settings
from retrieval.filters import SearchFilters
from evals.metrics import relevant
import sys
reports_dir = sys.argv[1]  # where `policyqa eval evals/<set>.jsonl -o <dir>/<set>.json` wrote
qa = QAService(Settings(data_dir=Path('data/sets/extcorpus+lawcorpus')))
for s in ['realq-dev','realq-dev2','realq-dev3','realq-dev4','realq-dev5']:
    d = {r['id']: r for r in json.load(open(f'{reports_dir}/{s}.json'))['rows']}
    n = r1 = r5 = o1 = o5 = 0; civ = [0, 0, 0]
    for l in open(f'evals/{s}.jsonl'):
        it = json.loads(l)
        if not it['answerable'] or not it.get('doc_ids'): continue
        n += 1; base = d[it['id']]['rank']
        r1 += base == 1; r5 += bool(base and base <= 5)
        hits = qa.search(it['question'], top_k=10, filters=SearchFilters(doc_ids=list(it['doc_ids'])))
        rank = next((i + 1 for i, h in enumerate(hits) if relevant(it['evidence'], it['doc_ids'], h.chunk.doc_id, h.chunk.text)), None)
        o1 += rank == 1; o5 += bool(rank and rank <= 5)
        if '01_civil_code' in it['doc_ids']:
            civ[0] += 1; civ[1] += bool(base and base <= 5); civ[2] += bool(rank and rank <= 5)
    print(f"{s:12} n={n} R@1 {r1/n:.2f} -> oracle-doc {o1/n:.2f}; R@5 {r5/n:.2f} -> {o5/n:.2f}; civil code n={civ[0]} R@5 {civ[1]} -> {civ[2]}")
