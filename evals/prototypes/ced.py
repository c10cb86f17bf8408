import collections
import gzip
import json
import re
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
from retrieval.tokenize import STOPWORDS, english_words, glossary, query_tokens

rev = collections.defaultdict(set)
for line in gzip.open(__import__('os').environ['CEDICT'], 'rt', encoding='utf-8'):
    if line.startswith('#'): continue
    m = re.match(r'(\S+) (\S+) \[[^\]]*\] /(.*)/', line)
    if not m: continue
    simp = m.group(2)
    for gloss in m.group(3).split('/'):
        for part in gloss.split(';'):
            g = re.sub(r'\([^)]*\)', '', part).strip().lower()
            g = re.sub(r'^to ', '', g)
            if re.fullmatch(r'[a-z]+', g):
                rev[g].add(simp)
def stem_variants(w):
    out = {w}
    for suf in ('ies', 'es', 's', 'ed', 'ing'):
        if w.endswith(suf) and len(w) > len(suf) + 2:
            base = w[:-len(suf)]
            out |= {base, base + 'e', base + 'y' if suf == 'ies' else base}
    return out
MODE = sys.argv[1]
settings = Settings()
for path in sys.argv[2:]:
    s, folders = settings_for_set(settings, Path(path))
    qa = service.QAService(s); r = qa.retriever
    vocab = r.index.lexical.bm25.vocab_dict
    items = [x for x in load_eval_set(Path(path)) if x['answerable'] and not x.get('history') and x['language'] == 'en']
    res = {}
    for mode in ('base', MODE):
        ranks = []
        for it in items:
            q = qa.analyse(it['question'])
            allowed = r.allowed(search_filters(q, qa.index.documents, None))
            rk = r.rankings(q.normalised, 'hybrid', allowed)
            if mode != 'base':
                toks = query_tokens(q.normalised)
                extra = []
                for w in english_words(q.normalised):
                    if w in STOPWORDS or (mode == 'fill' and w in glossary()): continue
                    cands = set()
                    for v in stem_variants(w): cands |= rev.get(v, set())
                    extra += sorted(c for c in cands if c in vocab and len(c) >= 2 and c not in toks)
                rk.lists['bm25'] = r.index.lexical.search(toks + extra, r.candidates, allowed)
                if 'sentences' in rk.lists:
                    rk.lists['sentences'] = r.sentence_ranking(rk.query_vec, {row for n, f in rk.lists.items() if n != 'sentences' for row, _ in f})
            hits = r.fuse_hits(rk, 10)
            ranks.append(next((i+1 for i, h in enumerate(hits) if relevant(it['evidence'], it['doc_ids'], h.chunk.doc_id, h.chunk.text)), None))
        res[mode] = dict(n=len(ranks), r1=round(statistics.mean(x == 1 for x in ranks),3), r5=round(statistics.mean(bool(x and x <= 5) for x in ranks),3), mrr=round(statistics.mean(1/x if x else 0 for x in ranks),3))
    print(path, json.dumps(res), flush=True)
