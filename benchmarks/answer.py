"""Answering benchmark: where the time of an answer goes, with the configured
model (the bundled one by default) on a fixed question set.

Runs the question sets through the evaluation runner (the same answering
service as every surface) on a fresh index of the corpus, then reports per
stage p50/p95 (retrieval, prompt building, time to first token, generation,
citation verification, total), context tokens, and the share of answer time
spent outside the model. Targets: median time to first token <= 8 s on 2
cores; time outside the model <= 5% of answer time.

    python benchmarks/answer.py                       # evals/seed_it.jsonl + seed_en.jsonl over corpus/
    python benchmarks/answer.py --questions Q.jsonl --corpus DIR --out benchmarks/results/answer.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, nargs="+",
                        default=[ROOT / "evals" / "seed_it.jsonl", ROOT / "evals" / "seed_en.jsonl"])
    parser.add_argument("--corpus", type=Path, nargs="+", default=[ROOT / "corpus"])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "answer.json")
    args = parser.parse_args()

    import assistant  # noqa: F401
    from assistant.core import Assistant
    from assistant.evaluate.metrics import percentile
    from assistant.evaluate.runner import EvalOptions, EvalRunner
    from assistant.settings import Settings

    records: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="answer-bench-") as tmp:
        helper = Assistant(Settings(home=Path(tmp) / "index"))
        helper.ingest(args.corpus, progress=False)
        helper.llm()  # load the model before timing
        for path in args.questions:
            runner = EvalRunner(helper, EvalOptions(questions=path, out=Path(tmp) / path.stem))
            records += runner.run(progress=True)
    answered = [r for r in records if "first_token" in (r.get("timings") or {})]
    stages = ("retrieval", "prompt", "first_token", "generation", "citations", "total")
    table = {}
    for stage in stages:
        values = [r["timings"][stage] for r in answered if stage in r["timings"]]
        table[stage] = {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}
    outside = [(r["timings"]["retrieval"] + r["timings"].get("prompt", 0) + r["timings"].get("citations", 0))
               / r["timings"]["total"] for r in answered]
    context = [r["context_tokens"] for r in answered]
    report = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "command": " ".join(["python", "benchmarks/answer.py", *sys.argv[1:]]),
        "backend": answered[0]["backend"] if answered else None,
        "questions": len(records), "answered_by_model": len(answered), "stages_s": table,
        "context_tokens": {"p50": percentile(context, 50), "p95": percentile(context, 95)},
        "outside_model_share": {"p50": percentile(outside, 50), "mean": sum(outside) / len(outside) if outside else None},
        "targets": {"first_token_p50_s": 8.0, "outside_model_share": 0.05},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"{report['answered_by_model']} of {report['questions']} questions went to {report['backend']}")
    print(f"{'stage':>12} {'p50 s':>8} {'p95 s':>8}")
    for stage, v in table.items():
        if v["n"]:
            print(f"{stage:>12} {v['p50']:8.3f} {v['p95']:8.3f}")
    print(f"context tokens p50 {report['context_tokens']['p50']}, p95 {report['context_tokens']['p95']}")
    share = report["outside_model_share"]
    if share["mean"] is not None:
        print(f"time outside the model: mean {share['mean']:.1%} of answer time (target <= 5%)")
    ttft = table["first_token"]["p50"]
    if ttft is not None:
        print(f"time to first token p50 {ttft:.2f} s (target <= 8 s)")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
