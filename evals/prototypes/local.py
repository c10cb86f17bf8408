import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from answer.places import PLACE
from evals.metrics import relevant
from evals.run import load_eval_set
from evals.session import settings_for_set
from policyqa import service
from policyqa.settings import Settings

FACTORS = [float(x) for x in sys.argv[1].split(',')]
settings = Settings()
for path in sys.argv[2:]:
    s, folders = settings_for_set(settings, Path(path))
    qa = service.QAService(s); r = qa.retriever
    docs = qa.index.documents
    local = {d: bool(PLACE.match(doc.title) or PLACE.match(doc.issuer or '')) for d, doc in docs.items()}
    items = [x for x in load_eval_set(Path(path)) if x['answerable'] and not x.get('history')]
    pre = []
    for it in items:
        q = qa.analyse(it['question'])
        hits = qa.search(q, top_k=30)
        pre.append((it, q, hits))
    res = {}
    for f in FACTORS:
        ranks = []
        for it, q, hits in pre:
            if not q.names:
                hits = sorted(hits, key=lambda h: -h.score * (f if local[h.chunk.doc_id] else 1.0))
            ranks.append(next((i+1 for i, h in enumerate(hits[:10]) if relevant(it['evidence'], it['doc_ids'], h.chunk.doc_id, h.chunk.text)), None))
        res[f] = dict(r1=round(statistics.mean(x == 1 for x in ranks),3), r5=round(statistics.mean(bool(x and x <= 5) for x in ranks),3), mrr=round(statistics.mean(1/x if x else 0 for x in ranks),3))
    print(path, sum(local.values()), 'local docs', json.dumps(res), flush=True)
