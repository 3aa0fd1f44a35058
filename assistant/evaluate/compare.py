"""Compare two evaluation runs, and gate a run on metric thresholds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.evaluate.report import HEADLINE
from assistant.evaluate.runner import RESULTS, read_results

# Per question, what counts as its outcome: (field, how to read it).
OUTCOME_FIELDS = ("doc_hit@5", "hit@5", "abstained", "f1", "any_correct_citation")


def load_run(folder: str | Path) -> tuple[dict, dict[str, dict]]:
    """A run's summary and its results by question id."""
    folder = Path(folder)
    summary_path = folder / "summary.json"
    if not summary_path.exists():
        raise FileNotFoundError(f"{folder} is not an evaluation run (no summary.json)")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    return summary, read_results(folder / RESULTS)


def _outcome(record: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in OUTCOME_FIELDS:
        value = record.get(field)
        if value is None:
            continue
        out[field] = round(value, 2) if field == "f1" else bool(value)
    if record.get("error"):
        out["error"] = True
    return out


def compare_runs(run_a: str | Path, run_b: str | Path) -> dict[str, Any]:
    """Metric differences (b - a) and the questions, present in both, whose outcome changed."""
    summary_a, results_a = load_run(run_a)
    summary_b, results_b = load_run(run_b)
    metrics = []
    for key in HEADLINE:
        a, b = summary_a["metrics"].get(key), summary_b["metrics"].get(key)
        if a is None and b is None:
            continue
        delta = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        metrics.append({"metric": key, "a": a, "b": b, "delta": delta})
    changed = []
    for qid in results_a.keys() & results_b.keys():
        before, after = _outcome(results_a[qid]), _outcome(results_b[qid])
        if before != after:
            fields = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
            changed.append({"id": qid, "question": results_b[qid].get("question"), "changed": fields,
                            "a": before, "b": after})
    changed.sort(key=lambda c: c["id"])
    return {"a": str(run_a), "b": str(run_b), "metrics": metrics, "changed": changed,
            "only_in_a": len(results_a.keys() - results_b.keys()),
            "only_in_b": len(results_b.keys() - results_a.keys())}


def parse_threshold(spec: str) -> tuple[str, float]:
    """``METRIC=VALUE`` as (metric, value)."""
    name, sep, value = spec.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"expected METRIC=VALUE, got {spec!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise ValueError(f"threshold of {name.strip()!r} is not a number: {value!r}") from None


def shortfalls(metrics: dict, thresholds: list[tuple[str, float]], above: bool = False) -> list[str]:
    """One message per metric below its threshold (``above``: over it), or missing from the run."""
    problems = []
    for name, limit in thresholds:
        value = metrics.get(name)
        if not isinstance(value, (int, float)):
            problems.append(f"{name} is not measured by this run (needed {'<=' if above else '>='} {limit})")
        elif (value > limit) if above else (value < limit):
            problems.append(f"{name} = {value:.4f} is {'above' if above else 'below'} {limit}")
    return problems
