"""Abstention calibration: top dense cosine with the gold article in the index vs removed.

Usage: ASSISTANT_HOME=<index of squad_it/corpus.jsonl> .venv/bin/python scripts/calibrate_abstention.py
"""
import json, random, numpy as np
import assistant
from pathlib import Path
from assistant.core import Assistant
from assistant.settings import Settings
from assistant.index.embedders import embed_query
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
a = Assistant(Settings())
def load(p):
    return [json.loads(l) for l in open(p)]
for name, path in [("it", str(DATA / "squad_it/queries_dev.jsonl")), ("en", str(DATA / "squad_en_it/queries_en_dev.jsonl"))]:
    qs = load(path); random.Random(7).shuffle(qs); qs = qs[:150]
    pos, neg = [], []
    for q in qs:
        art = q["evidence"][0]["doc_id"].rsplit("-", 1)[0]
        res = a.vectors.query(embed_query(a.embedder, q["question"]), 80)
        pos.append(res[0][1])
        neg.append(max([s for i, s in res if not i.startswith(art + "-")], default=0))
    pos, neg = np.array(pos), np.array(neg)
    auc = (pos[:, None] > neg[None, :]).mean()
    for t in np.arange(0.78, 0.90, 0.01):
        print(name, f"t={t:.2f} false_decline={np.mean(pos < t):.2f} decline_removed={np.mean(neg < t):.2f}")
    print(name, "AUC", round(auc, 3), "mean pos", pos.mean().round(3), "mean neg", neg.mean().round(3))
