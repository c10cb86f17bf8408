import pickle
import statistics
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

data = pickle.load(open('/tmp/wx/ltr.pkl', 'rb'))
sets = sorted({d['set'] for d in data})
FEATS = [int(x) for x in sys.argv[1].split(',')] if len(sys.argv) > 1 else list(range(data[0]['X'].shape[1]))
C = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
def ranks(items, score_fn):
    out = []
    for d in items:
        s = score_fn(d)
        order = np.argsort(-s, kind='stable')
        pos = [i + 1 for i, j in enumerate(order[:10]) if d['y'][j]]
        out.append(pos[0] if pos else None)
    return out
def summ(rk):
    return (round(statistics.mean(x == 1 for x in rk), 3), round(statistics.mean(bool(x and x <= 5) for x in rk), 3), round(statistics.mean(1 / x if x else 0 for x in rk), 3))
tot = []
for left in sets:
    train = [d for d in data if d['set'] != left]; test = [d for d in data if d['set'] == left]
    X = np.vstack([d['X'][:, FEATS] for d in train]); y = np.concatenate([d['y'] for d in train])
    sc = StandardScaler().fit(X)
    m = LogisticRegression(C=C, max_iter=2000, class_weight=None).fit(sc.transform(X), y)
    rrf = summ(ranks(test, lambda d: d['X'][:, 11]))
    base = summ([d['base'] for d in test])
    ltr = summ(ranks(test, lambda d: m.decision_function(sc.transform(d['X'][:, FEATS]))))
    tot.append((base[2], ltr[2]))
    print(f"{left:22s} base R1/R5/MRR {base}  rrf-only {rrf}  ltr {ltr}")
print('mean MRR base {:.3f} ltr {:.3f}'.format(*tuple(np.mean(tot, axis=0))))
