"""Choose the question-relevance check of citations (assistant/answering/relevance.py)
on evaluation runs, as a whole.

Reads the ``results.jsonl`` of answer runs (each answer records, per answer
sentence, what the model cited and which sources support it, and the sources'
scores and texts), replays the citation choice under each policy of a grid,
and prints, per policy, citation precision over shown citations, the share of
answerable questions with a correct citation, the share declined, and mean F1
(a newly declined answer scores 0). The answers themselves do not change with
the policy (citations are chosen after generation), so the replay is exact.

    python scripts/calibrate_relevance.py RUN_DIR [RUN_DIR ...] [--top 15]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from assistant.evaluate.metrics import citation_correct, token_f1
from assistant.evaluate.replay import shown_sentences
from assistant.answering.relevance import RelevancePolicy

BASELINE = RelevancePolicy()


def replay(records: list[dict], policy: RelevancePolicy) -> dict:
    """Citation and abstention metrics of the records under ``policy``."""
    shown = correct = answered_correct = declined = answerable = 0
    f1 = []
    for r in records:
        if not r.get("answerable", True):
            continue
        answerable += 1
        checked = shown_sentences(r, policy)  # empty: declined before any citation was chosen
        numbers = list(dict.fromkeys(n for s in checked for n in s.sources))
        if not numbers:
            declined += 1
            f1.append(0.0)
            continue
        texts = r["retrieved_texts"]
        f1.append(token_f1(" ".join(s.text for s in checked), r["gold_answers"]))
        gold_ids = set(r.get("gold_sentence_ids") or [])
        hits = [citation_correct(texts[n - 1], r["retrieved"][n - 1]["sentence_id"], r["gold_answers"], [],
                                 gold_ids) for n in numbers]
        shown += len(numbers)
        correct += sum(hits)
        answered_correct += any(hits)
    return {"precision": correct / shown if shown else None, "any_correct": answered_correct / answerable,
            "declined": declined / answerable, "f1": sum(f1) / len(f1), "questions": answerable}


RANKS, RELATIVES, JUDGED = (1, 2, 3, 5, 8), (0.0, 0.6, 0.7, 0.8, 0.9), (0.0, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9)


def grid() -> list[RelevancePolicy]:
    policies = [BASELINE]
    for rank, rel, kind, judged, repoint, prefer in itertools.product(RANKS, RELATIVES, (False, True), JUDGED,
                                                                      (True, False), (False, True)):
        if prefer and not repoint:
            continue  # preferring rank always re-points
        policies.append(RelevancePolicy(max_rank=rank, min_relative=rel, require_kind=kind, min_judged=judged,
                                        repoint=repoint, prefer_rank=prefer))
    return policies


def single_signals() -> list[tuple[str, RelevancePolicy]]:
    """Each signal on its own (with repointing), to see what each contributes."""
    return ([(f"rank<={r}", RelevancePolicy(max_rank=r)) for r in RANKS[:-1]]
            + [(f"relative>={x}", RelevancePolicy(min_relative=x)) for x in RELATIVES[1:]]
            + [("kind", RelevancePolicy(require_kind=True)), ("prefer rank", RelevancePolicy(prefer_rank=True))]
            + [(f"judged>={x}", RelevancePolicy(min_judged=x)) for x in JUDGED[1:]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=20, help="policies shown, by precision among those that "
                        "keep any_correct and declines within the targets")
    parser.add_argument("--min-correct", type=float, default=0.58)
    parser.add_argument("--max-declined", type=float, default=0.10)
    args = parser.parse_args()
    runs = {}
    for run in args.runs:
        with (run / "results.jsonl").open(encoding="utf-8") as handle:
            runs[run.name] = [json.loads(line) for line in handle if line.strip()]
    rows = []
    for policy in grid():
        per_run = {name: replay(records, policy) for name, records in runs.items()}
        rows.append((policy, per_run))
    print("baseline (verification only):")
    for name, m in rows[0][1].items():
        print(f"  {name}: {json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in m.items()})}")
    print("\neach signal alone (repointing on):")
    for label, policy in single_signals():
        cells = "  ".join(f"{name}: P {m['precision']:.3f} C {m['any_correct']:.3f} D {m['declined']:.3f} "
                          f"F1 {m['f1']:.3f}" for name, m in ((n, replay(rs, policy)) for n, rs in runs.items()))
        print(f"{label:14} | {cells}")
    admissible = [row for row in rows[1:] if all(
        m["any_correct"] >= args.min_correct and m["declined"] <= args.max_declined for m in row[1].values())]
    admissible.sort(key=lambda row: min(m["precision"] or 0 for m in row[1].values()), reverse=True)
    print(f"\npolicies keeping any_correct >= {args.min_correct} and declined <= {args.max_declined} on every run, "
          f"best worst-run precision first ({len(admissible)} of {len(rows) - 1}):")
    for policy, per_run in admissible[:args.top]:
        cells = "  ".join(f"{name}: P {m['precision']:.3f} C {m['any_correct']:.3f} D {m['declined']:.3f} "
                          f"F1 {m['f1']:.3f}" for name, m in per_run.items())
        print(f"{label_of(policy)} | {cells}")
    best_precision = sorted(rows[1:], key=lambda row: min(m["precision"] or 0 for m in row[1].values()),
                            reverse=True)[:5]
    print("\nhighest precision whatever the rest:")
    for policy, per_run in best_precision:
        cells = "  ".join(f"{name}: P {m['precision']:.3f} C {m['any_correct']:.3f} D {m['declined']:.3f}"
                          for name, m in per_run.items())
        print(f"{label_of(policy)} | {cells}")


def label_of(policy: RelevancePolicy) -> str:
    return (f"rank<={policy.max_rank} rel>={policy.min_relative} kind={policy.require_kind} "
            f"judged>={policy.min_judged} repoint={policy.repoint} prefer_rank={policy.prefer_rank}")


if __name__ == "__main__":
    main()
