"""What running the model in its own process costs: the answer benchmark's
questions answered by the bundled model in this process
(``LLM__ISOLATION=none``, as before) and in a supervised child process
(``process``, the default), in one run, question by question, alternating
which goes first. Target: total p50 at most 3% above in-process.

    python benchmarks/isolation.py --out benchmarks/results/isolation.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load(paths: list[Path]) -> list[str]:
    questions = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            questions += [json.loads(line)["question"] for line in fh if line.strip()]
    return questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, nargs="+",
                        default=[ROOT / "evals" / "seed_it.jsonl", ROOT / "evals" / "seed_en.jsonl"])
    parser.add_argument("--corpus", type=Path, nargs="+", default=[ROOT / "corpus"])
    parser.add_argument("--rounds", type=int, default=2, help="passes over the questions")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "isolation.json")
    args = parser.parse_args()

    import assistant  # noqa: F401
    from assistant.core import Assistant
    from assistant.evaluate.metrics import percentile
    from assistant.settings import Settings

    questions = load(args.questions)
    timings: dict[str, dict[str, list[float]]] = {m: {"first_token": [], "total": []} for m in ("none", "process")}
    same_answers = 0
    compared = 0
    with tempfile.TemporaryDirectory(prefix="isolation-bench-") as tmp:
        home = Path(tmp) / "index"
        base = Settings(home=home)
        helpers = {mode: Assistant(base.model_copy(update={"llm": base.llm.model_copy(update={"isolation": mode})}))
                   for mode in ("none", "process")}
        helpers["none"].ingest(args.corpus, progress=False)
        for helper in helpers.values():
            helper.llm()  # both models loaded before timing
            helper.ask(questions[0])  # and their prompt caches warm
        for round_no in range(args.rounds):
            for i, question in enumerate(questions):
                order = ("none", "process") if (i + round_no) % 2 == 0 else ("process", "none")
                answers = {}
                for mode in order:
                    answer = helpers[mode].ask(question)
                    answers[mode] = answer.answer
                    if "first_token" in answer.timings:
                        timings[mode]["first_token"].append(answer.timings["first_token"])
                        timings[mode]["total"].append(answer.timings["total"])
                compared += 1
                same_answers += answers["none"] == answers["process"]
            print(f"round {round_no + 1}: {len(timings['none']['total'])} model answers per mode", flush=True)
        for helper in helpers.values():
            helper.close()
    table = {mode: {stage: {"p50": percentile(v, 50), "p95": percentile(v, 95), "n": len(v)}
                    for stage, v in stages.items()} for mode, stages in timings.items()}
    paired = [p / n for p, n in zip(timings["process"]["total"], timings["none"]["total"])]
    ratio = table["process"]["total"]["p50"] / table["none"]["total"]["p50"]
    report = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "command": " ".join(["python", "benchmarks/isolation.py", *sys.argv[1:]]),
        "questions": len(questions), "rounds": args.rounds, "stages_s": table,
        "total_p50_ratio_process_to_none": ratio, "paired_total_ratio_median": statistics.median(paired),
        "identical_answers": f"{same_answers}/{compared}", "target_ratio": 1.03,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    for mode in ("none", "process"):
        t = table[mode]
        print(f"{mode:>8}: first token p50 {t['first_token']['p50']:.3f} s, total p50 {t['total']['p50']:.3f} s "
              f"(p95 {t['total']['p95']:.3f}, n {t['total']['n']})")
    print(f"total p50 process / in-process: {ratio:.3f} (target <= 1.03); paired median {report['paired_total_ratio_median']:.3f}; "
          f"identical answers {same_answers}/{compared}")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
