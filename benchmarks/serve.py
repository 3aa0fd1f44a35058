"""Serve memory benchmark: peak RSS of ``assistant serve`` with its models
loaded, after answering a fixed number of questions through the HTTP API.

Ingests the corpus into a fresh home folder, starts ``assistant serve`` on a
free loopback port, sends the questions one after another to ``POST /api/ask``
(cycling through the question files), and reads the server's peak resident
set size (``VmHWM`` in ``/proc/<pid>/status``) and current RSS at the end.
Target: peak RSS <= 3.5 GB.

    python benchmarks/serve.py                       # 50 questions from evals/seed_*.jsonl over corpus/
    python benchmarks/serve.py --questions 50 --out benchmarks/results/serve.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 3584


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0]) / 1024
    return {"peak_rss_mb": fields["VmHWM"], "rss_mb": fields["VmRSS"]}


def _questions(paths: list[Path]) -> list[str]:
    out = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=50, help="Questions to send.")
    parser.add_argument("--question-files", type=Path, nargs="+",
                        default=[ROOT / "evals" / "seed_it.jsonl", ROOT / "evals" / "seed_en.jsonl"])
    parser.add_argument("--corpus", type=Path, nargs="+", default=[ROOT / "corpus"])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "serve.json")
    args = parser.parse_args()

    import httpx

    sys.path.insert(0, str(ROOT))
    from tests.support.processes import wait_for_http

    exe = Path(sys.executable).with_name("assistant")
    questions = list(itertools.islice(itertools.cycle(_questions(args.question_files)), args.questions))
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        env = {**os.environ, "ASSISTANT_HOME": str(Path(tmp) / "home")}
        subprocess.run([str(exe), "ingest", *map(str, args.corpus), "-q"], check=True, env=env)
        port = _free_port()
        proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            if not wait_for_http(f"{url}/healthz", proc, 180):
                raise SystemExit("the server did not start")
            after_start = _memory_mb(proc.pid)
            outcomes: dict[str, int] = {}
            seconds = []
            for i, question in enumerate(questions, 1):
                start = time.perf_counter()
                r = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=600)
                seconds.append(time.perf_counter() - start)
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                key = f"{r.status_code} " + ("declined" if body.get("abstained") else "answered")
                outcomes[key] = outcomes.get(key, 0) + 1
                print(f"\r{i}/{len(questions)} questions, peak RSS {_memory_mb(proc.pid)['peak_rss_mb']:,.0f} MB",
                      end="", flush=True)
            print()
            at_end = _memory_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    report = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "command": " ".join(["python", "benchmarks/serve.py", *sys.argv[1:]]),
        "questions": len(questions), "outcomes": outcomes, "seconds_total": round(sum(seconds), 1),
        "after_start_mb": after_start, "after_questions_mb": at_end, "target_peak_rss_mb": TARGET_MB,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"outcomes: {outcomes}")
    print(f"RSS after start {after_start['rss_mb']:,.0f} MB; after {len(questions)} questions "
          f"{at_end['rss_mb']:,.0f} MB, peak {at_end['peak_rss_mb']:,.0f} MB "
          f"(target <= {TARGET_MB:,} MB: {'met' if at_end['peak_rss_mb'] <= TARGET_MB else 'missed'})")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
