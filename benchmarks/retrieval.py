"""Retrieval latency benchmark: hybrid retrieval p50/p95 per question, with and
without a date filter, on indexes of growing size.

Indexes come from ``benchmarks/ingest.py --keep-index DIR`` (one folder per
size). Questions are the titles of dispatches sampled from each index (news
headlines make realistic short queries); the date filter is the 30 days up to
the sampled dispatch's date. The first question warms up the models and is
not counted.

    python benchmarks/ingest.py --sizes 1000 5000 all --keep-index /tmp/reuters-idx --modes e2e
    python benchmarks/retrieval.py /tmp/reuters-idx/1000 /tmp/reuters-idx/5000 /tmp/reuters-idx/all
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _percentile(values: list[float], q: float) -> float:
    from assistant.evaluate.metrics import percentile

    return percentile(values, q) or 0.0


def bench(home: Path, n: int, seed: int) -> dict:
    from assistant.core import Assistant
    from assistant.domain import Filters
    from assistant.settings import Settings

    helper = Assistant(Settings(home=home))
    total, _ = helper.list_dispatches(limit=1)
    _, everything = helper.list_dispatches(limit=total)
    dispatches = [d for d in everything if d.title and d.published_at]
    if not dispatches:
        raise SystemExit(f"{home}: no dated dispatches with titles")
    picked = random.Random(seed).sample(dispatches, min(n + 1, len(dispatches)))
    helper.retrieve(picked[0].title)  # warm-up
    plain, dated = [], []
    for d in picked[1:]:
        start = time.perf_counter()
        helper.retrieve(d.title)
        plain.append((time.perf_counter() - start) * 1000)
        window = Filters(since=d.published_at - timedelta(days=30), until=d.published_at)
        start = time.perf_counter()
        helper.retrieve(d.title, window)
        dated.append((time.perf_counter() - start) * 1000)
    stats = helper.corpus_stats()
    return {"index": str(home), "dispatches": stats.get("dispatches"), "sentences": stats.get("sentences"),
            "questions": len(plain),
            "plain_ms": {"p50": _percentile(plain, 50), "p95": _percentile(plain, 95)},
            "date_filter_ms": {"p50": _percentile(dated, 50), "p95": _percentile(dated, 95)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("indexes", nargs="+", type=Path)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "retrieval.json")
    args = parser.parse_args()
    import assistant  # noqa: F401

    rows = [bench(home, args.questions, args.seed) for home in args.indexes]
    report = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
              "command": " ".join(["python", "benchmarks/retrieval.py", *sys.argv[1:]]), "rows": rows,
              "target": "p95 <= 100 ms at 21k dispatches, hybrid with a date filter"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"{'dispatches':>10} {'sentences':>10} {'p50 ms':>8} {'p95 ms':>8} {'p50 date':>9} {'p95 date':>9}")
    for r in rows:
        print(f"{r['dispatches']:>10} {r['sentences']:>10} {r['plain_ms']['p50']:8.1f} {r['plain_ms']['p95']:8.1f} "
              f"{r['date_filter_ms']['p50']:9.1f} {r['date_filter_ms']['p95']:9.1f}")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(f"growth of p95 with a date filter, {first['dispatches']} -> {last['dispatches']} dispatches: "
              f"x{last['date_filter_ms']['p95'] / max(first['date_filter_ms']['p95'], 1e-9):.2f}")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
