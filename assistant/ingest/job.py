"""An ingest of many files as a job of N worker processes on a shared catalog
(PostgreSQL) and a Chroma server: each worker starts at its own share of the
files and skips those another live worker has claimed, so no file is done
twice; a stopped job is resumed by running it again (files already ingested
are unchanged and skipped, dispatches caught half-way are repaired).

Each worker reports a JSON line per file on its stdout; this module shows a
progress bar per worker and one overall, and sums the workers' reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from assistant.ingest.readers import discover

REPORT_FIELDS = ("files_seen", "files_unchanged", "files_ingested", "files_failed", "files_claimed_elsewhere",
                 "dispatches_written", "dispatches_unchanged", "dispatches_removed", "sentences_written", "recovered")


@dataclass
class JobReport:
    """What the workers of a job did, summed; ``exit_codes`` per worker."""

    workers: int
    exit_codes: list[int] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    per_worker: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(code == 0 for code in self.exit_codes) and not self.errors


def worker_line(kind: str, **data) -> str:
    """One progress line of a worker (``file`` or ``report``)."""
    return json.dumps({"kind": kind, **data}, ensure_ascii=False)


def run_job(paths: list[Path], workers: int, progress: bool = True, env: dict[str, str] | None = None) -> JobReport:
    """Ingest ``paths`` with ``workers`` processes of ``assistant ingest --worker i/n``."""
    files, _ = discover(paths)
    report = JobReport(workers=workers)
    overall = tqdm(total=len(files), unit="file", desc=f"{workers} workers", disable=not progress, position=0)
    bars = [tqdm(total=0, unit="file", desc=f"  worker {i + 1}", disable=not progress, position=i + 1,
                 bar_format="{desc}: {n_fmt} files {postfix}") for i in range(workers)]
    lock = threading.Lock()
    done: set[str] = set()
    procs = [subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", "--quiet", "--worker", f"{i}/{workers}",
                               *map(str, paths)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, **(env or {})}) for i in range(workers)]
    report.per_worker = [{} for _ in range(workers)]

    def follow(index: int, proc: subprocess.Popen) -> None:
        dispatches = 0
        for line in proc.stdout:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            with lock:
                if item.get("kind") == "file":
                    if item.get("elsewhere"):  # another worker is doing it
                        continue
                    bars[index].update(1)
                    dispatches = item.get("dispatches_written", dispatches)
                    bars[index].set_postfix_str(f"dispatches {dispatches}")
                    if item["file"] not in done:
                        done.add(item["file"])
                        overall.update(1)
                elif item.get("kind") == "report":
                    report.per_worker[index] = item["report"]

    threads = [threading.Thread(target=follow, args=(i, p), daemon=True) for i, p in enumerate(procs)]
    for thread in threads:
        thread.start()
    for index, proc in enumerate(procs):
        stderr = proc.stderr.read()
        report.exit_codes.append(proc.wait())
        if report.exit_codes[-1] != 0:
            report.errors.append(f"worker {index + 1} exited with {report.exit_codes[-1]}: {stderr.strip()[-500:]}")
    for thread in threads:
        thread.join()
    for bar in [*bars, overall]:
        bar.close()
    report.totals = {name: sum(w.get(name, 0) for w in report.per_worker) for name in REPORT_FIELDS}
    for worker in report.per_worker:
        report.errors += worker.get("errors", [])
    return report
