"""Prototype: long questions searched as the whole question and as their asking sentence(s), lists fused."""
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from evals.metrics import relevant
from evals.run import load_eval_set
from evals.session import settings_for_set
from policyqa import service
from policyqa.service import search_filters
from policyqa.settings import Settings
from retrieval.search import Rankings

FOCUS_W = [float(x) for x in sys.argv[1].split(',')]
settings = Settings()
for path in sys.argv[2:]:
    s, folders = settings_for_set(settings, Path(path))
    qa = service.QAService(s)
    r = qa.retriever
    items = [x for x in load_eval_set(Path(path)) if x['answerable'] and not x.get('history')]
    res = {}
    nlong = 0
    for fw in FOCUS_W:
        ranks = []
        for it in items:
            q = qa.analyse(it['question'])
            filters = search_filters(q, qa.index.documents, None)
            allowed = r.allowed(filters)
            whole = r.rankings(q.normalised, 'hybrid', allowed)
            if fw and q.focus != q.text and q.focus.strip():
                nlong += 1
                focus = r.rankings(q.focus, 'hybrid', allowed)
                lists = dict(whole.lists) | {k + '@focus': v for k, v in focus.lists.items()}
                weights = dict(r.weights) | {k + '@focus': r.weights.get(k, 0) * fw for k in focus.lists}
                hits = r.fuse_hits(Rankings(lists, whole.query_vec, whole.lexical_tokens), 10, weights)
            else:
                hits = r.fuse_hits(whole, 10)
            rank = next((i+1 for i, h in enumerate(hits) if relevant(it['evidence'], it['doc_ids'], h.chunk.doc_id, h.chunk.text)), None)
            ranks.append(rank)
        res[fw] = dict(r1=round(statistics.mean(x == 1 for x in ranks),3), r5=round(statistics.mean(bool(x and x <= 5) for x in ranks),3),
                       mrr=round(statistics.mean(1/x if x else 0 for x in ranks),3))
    print(path, 'long', nlong // max(1, len([f for f in FOCUS_W if f])), json.dumps(res), flush=True)
