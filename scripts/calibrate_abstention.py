"""Calibrate the abstention threshold (RetrievalSettings.min_top_cosine).

For sampled dev questions of SQuAD-it (Italian) and SQuAD-en-it (English
questions over the same Italian paragraphs), the best dense cosine of the
index is taken three ways: as it is (the question is answerable), with every
paragraph of the gold article left out, and with only the gold paragraph left
out (the hard case). For each candidate threshold it prints the share of
answerable questions that would be declined (false declines) and the share
of article-removed and paragraph-removed questions declined, and writes JSON.

Usage (the index: ``assistant ingest ../shared/data/squad_it/corpus.jsonl``):

    ASSISTANT_HOME=<index> python scripts/calibrate_abstention.py --questions 800
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SETS = {"it": DATA / "squad_it" / "queries_dev.jsonl", "en": DATA / "squad_en_it" / "queries_en_dev.jsonl"}


def best_cosines(helper, questions: list[dict], depth: int = 150) -> dict[str, np.ndarray]:
    """Top dense cosine per question: all paragraphs, gold article removed, gold paragraph removed."""
    from assistant.index.embedders import embed_query

    out: dict[str, list[float]] = {"answerable": [], "article_removed": [], "paragraph_removed": []}
    for q in questions:
        paragraph = q["evidence"][0]["doc_id"]
        article = paragraph.rsplit("-", 1)[0]
        found = helper.vectors.query(embed_query(helper.embedder, q["question"]), depth)
        out["answerable"].append(found[0][1] if found else 0.0)
        out["article_removed"].append(max((s for i, s in found if not i.startswith(article + "-")), default=0.0))
        out["paragraph_removed"].append(max((s for i, s in found if not i.startswith(paragraph + "-")), default=0.0))
    return {k: np.array(v) for k, v in out.items()}


def rates(cosines: dict[str, np.ndarray], threshold: float) -> dict[str, float]:
    """Declined shares at one threshold."""
    return {"threshold": round(float(threshold), 3),
            "false_declines": float(np.mean(cosines["answerable"] < threshold)),
            "declined_article_removed": float(np.mean(cosines["article_removed"] < threshold)),
            "declined_paragraph_removed": float(np.mean(cosines["paragraph_removed"] < threshold))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=800, help="Questions sampled per language.")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results" / "abstention.json")
    args = parser.parse_args()

    import assistant  # noqa: F401  (offline defaults)
    from assistant.core import Assistant
    from assistant.settings import Settings

    helper = Assistant(Settings())
    current = helper.settings.retrieval.min_top_cosine
    report = {"questions_per_language": args.questions, "seed": args.seed, "languages": {}}
    for language, path in SETS.items():
        questions = [json.loads(line) for line in path.open(encoding="utf-8")]
        random.Random(args.seed).shuffle(questions)
        cosines = best_cosines(helper, questions[:args.questions])
        scores = np.concatenate([cosines["answerable"], cosines["article_removed"]])
        labels = np.r_[np.ones(len(cosines["answerable"])), np.zeros(len(cosines["article_removed"]))]
        auc = float(np.mean(scores[labels == 1][:, None] > scores[labels == 0][None, :]))
        table = [rates(cosines, t) for t in np.arange(0.80, 0.875, 0.005)]
        chosen = rates(cosines, current.get(language, current.get("default", 0.0)))
        report["languages"][language] = {"auc_article_removed": auc, "current": chosen, "table": table}
        print(f"\n{language}: AUC (answerable vs article removed) {auc:.3f}; "
              f"current threshold {chosen['threshold']}: false declines {chosen['false_declines']:.3f}, "
              f"declined with the article removed {chosen['declined_article_removed']:.3f}, "
              f"with the paragraph removed {chosen['declined_paragraph_removed']:.3f}")
        print(f"{'threshold':>9} {'false decl':>10} {'art. removed':>12} {'par. removed':>12}")
        for row in table:
            print(f"{row['threshold']:9.3f} {row['false_declines']:10.3f} {row['declined_article_removed']:12.3f} "
                  f"{row['declined_paragraph_removed']:12.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
