"""Experiment: a pointwise logistic reranker over the candidates of every list, LOSO by set."""
import collections
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from evals.metrics import relevant
from evals.run import load_eval_set
from evals.session import settings_for_set
from policyqa import service
from policyqa.service import search_filters
from policyqa.settings import Settings


def collect(paths):
    settings = Settings()
    data = []
    for path in paths:
        s, folders = settings_for_set(settings, Path(path))
        qa = service.QAService(s); r = qa.retriever
        parts = [cols for _, cols in r.parts]
        items = [x for x in load_eval_set(Path(path)) if x['answerable'] and not x.get('history')]
        for it in items:
            q = qa.analyse(it['question'])
            allowed = r.allowed(search_filters(q, qa.index.documents, None))
            rk = r.rankings(q.normalised, 'hybrid', allowed)
            fused = r.fuse_hits(rk, 10)
            [h.chunk.chunk_id for h in fused]
            rows = sorted({row for lst in rk.lists.values() for row, _ in lst})
            if not rows: continue
            rows_a = np.array(rows)
            qv = rk.query_vec
            V = np.stack([r.index.dense.vector(x) for x in rows]).astype(np.float32)
            own = [V[:, c] @ qv[c] for c in parts]
            best = [r.index.sentences.scores(qv, rows_a, [c]) - o for c, o in zip(parts, own, strict=False)]
            rr = {}
            for name, lst in rk.lists.items():
                pos = {row: i for i, (row, _) in enumerate(lst)}
                rr[name] = np.array([1 / (5 + pos[x]) if x in pos else 0 for x in rows])
            bm = dict(rk.lists.get('bm25', []))
            bmax = max(bm.values(), default=1) or 1
            bm25 = np.array([bm.get(x, 0) / bmax for x in rows])
            # the current fusion score
            from retrieval.fusion import reciprocal_rank_fusion
            rows_only = {n: [row for row, _ in l] for n, l in rk.lists.items()}
            fs = {row: sc for row, sc, _ in reciprocal_rank_fusion(rows_only, k=r.rrf_k, weights=r.weights)}
            fmax = max(fs.values())
            fsc = np.array([fs.get(x, 0) / fmax for x in rows])
            docs = [r.index.chunks[x].doc_id for x in rows]
            doc_best = collections.defaultdict(float)
            for d, o in zip(docs, own[0], strict=False): doc_best[d] = max(doc_best[d], o)
            top = np.argsort(-fsc)[:20]
            share = collections.Counter(docs[i] for i in top)
            X = np.column_stack([own[0], own[1], best[0], best[1], own[0] - own[0].max(), best[0] - best[0].max(),
                                 bm25, rr.get('dense', 0 * bm25), rr.get('dense:use', 0 * bm25), rr.get('bm25', 0 * bm25), rr.get('sentences', 0 * bm25),
                                 fsc, np.array([doc_best[d] for d in docs]) - own[0].max(), np.array([share[d] / 20 for d in docs]),
                                 np.array([len(r.index.chunks[x].text) for x in rows]) / 400])
            y = np.array([relevant(it['evidence'], it['doc_ids'], r.index.chunks[x].doc_id, r.index.chunks[x].text) for x in rows])
            base = next((i + 1 for i, h in enumerate(fused) if relevant(it['evidence'], it['doc_ids'], h.chunk.doc_id, h.chunk.text)), None)
            data.append(dict(set=Path(path).name, X=X, y=y, base=base, texts=[r.index.chunks[x].text for x in rows]))
        print(path, 'collected', flush=True)
    return data

if __name__ == '__main__':
    data = collect(sys.argv[1:])
    pickle.dump(data, open('/tmp/wx/ltr.pkl', 'wb'))
