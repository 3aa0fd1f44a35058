"""Ingestion benchmark: end-to-end ingest vs the embedder alone vs llama-index's plain path.

For each size (first N dispatches of the corpus), three child processes run on
the same texts, so each has its own peak RSS:

  e2e         ``Assistant.ingest`` into a fresh index (parse, split, embed every
              sentence, write Chroma and the SQLite catalog with its FTS index);
  embedder    the default embedder alone over the texts the ingest embeds (each
              sentence and, with INDEX__EMBED_CHUNKS on, each chunk), same batches;
  llamaindex  ``VectorStoreIndex.from_documents`` into Chroma with the same
              embedder, one Document per chunk of our chunking.

Prints a table with dispatches/s, sentences/s, peak RSS and the ratios
e2e / embedder (target >= 0.85) and e2e / llama-index (target >= 1.5, in
dispatches/s), and writes JSON.

    python benchmarks/ingest.py --sizes 1000 5000 all --out benchmarks/results/ingest.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "reuters21578" / "corpus.jsonl"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _parsed(path: Path):
    from assistant.ingest.parse import parse_record
    from assistant.ingest.readers import RawRecord, read_records

    for record in read_records(path):
        if isinstance(record, RawRecord):
            yield parse_record(record)


def child_e2e(path: Path, home: Path) -> dict:
    from assistant.core import Assistant
    from assistant.settings import Settings

    helper = Assistant(Settings(home=home))
    helper.embedder  # load the model before the clock starts, as the other paths do
    start = time.perf_counter()
    report = helper.ingest([path], progress=True)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "dispatches": report.dispatches_written, "sentences": report.sentences_written,
            "errors": len(report.errors)}


def child_embedder(path: Path, home: Path) -> dict:
    from assistant.index.embedders import build_embedder, embed_passages
    from assistant.settings import Settings

    settings = Settings(home=home)
    parsed = list(_parsed(path))
    batches, batch = [], []  # the texts the ingest embeds, in its batches: sentences, then chunks if on
    for p in parsed:
        batch.append(p)
        if sum(len(q.sentences) for q in batch) >= 256:
            batches.append(batch)
            batch = []
    batches.append(batch)
    with_chunks = settings.index.embed_chunks
    texts = [[s.text for p in b for s in p.sentences] + ([c.text for p in b for c in p.chunks] if with_chunks else [])
             for b in batches if b]
    embedder = build_embedder(settings.embedder)
    start = time.perf_counter()
    for group in texts:
        embed_passages(embedder, group)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "dispatches": len(parsed), "sentences": sum(len(p.sentences) for p in parsed),
            "texts_embedded": sum(len(g) for g in texts)}


def child_llamaindex(path: Path, home: Path) -> dict:
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from assistant.index.embedders import build_embedder
    from assistant.settings import Settings

    parsed = list(_parsed(path))
    documents = [Document(text=c.text, metadata={"doc_id": p.dispatch.id}) for p in parsed for c in p.chunks]
    embedder = build_embedder(Settings(home=home).embedder)
    client = chromadb.PersistentClient(path=str(home / "chroma-li"))
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("plain"))
    start = time.perf_counter()
    VectorStoreIndex.from_documents(documents, storage_context=StorageContext.from_defaults(vector_store=store),
                                    embed_model=embedder, show_progress=True)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "dispatches": len(parsed), "chunks": len(documents),
            "sentences": sum(len(p.sentences) for p in parsed)}


CHILDREN = {"e2e": child_e2e, "embedder": child_embedder, "llamaindex": child_llamaindex}


def subset(corpus: Path, n: int | None, folder: Path) -> Path:
    """The first n records of the corpus as their own file (the whole corpus when n is None)."""
    if n is None:
        return corpus
    path = folder / f"{corpus.stem}-{n}.jsonl"
    with corpus.open(encoding="utf-8") as src, path.open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i >= n:
                break
            dst.write(line)
    return path


def run_child(mode: str, path: Path, work: Path, home: Path | None = None) -> dict:
    out = work / f"{mode}.json"
    home = home or work / f"home-{mode}"
    if home.exists():
        shutil.rmtree(home)
    subprocess.run([sys.executable, __file__, "--child", mode, "--input", str(path), "--home", str(home),
                    "--result", str(out)], check=True, env={**os.environ, "ASSISTANT_HOME": str(home)})
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--sizes", nargs="+", default=["1000"], help="Numbers of dispatches, or 'all'.")
    parser.add_argument("--modes", nargs="+", default=list(CHILDREN), choices=list(CHILDREN))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ingest.json")
    parser.add_argument("--keep-index", type=Path, help="Keep each size's end-to-end index as DIR/<size> "
                        "(for benchmarks/retrieval.py).")
    parser.add_argument("--child", choices=list(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        import assistant  # noqa: F401  (offline defaults)

        result = CHILDREN[args.child](args.input, args.home)
        result["peak_rss_mb"] = _peak_rss_mb()
        args.result.write_text(json.dumps(result))
        return

    if not args.corpus.exists():
        sys.exit(f"corpus not found: {args.corpus} (the benchmark reads ../shared/data beside the project)")
    rows = []
    for size in args.sizes:
        n = None if size == "all" else int(size)
        with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
            work = Path(tmp)
            path = subset(args.corpus, n, work)
            row: dict = {"size": size}
            for mode in args.modes:
                print(f"== {size} dispatches: {mode}", file=sys.stderr, flush=True)
                keep = args.keep_index / size if args.keep_index and mode == "e2e" else None
                r = run_child(mode, path, work, keep)
                r["dispatches_per_s"] = r["dispatches"] / r["seconds"]
                r["sentences_per_s"] = r["sentences"] / r["seconds"]
                row[mode] = r
            if "e2e" in row and "embedder" in row:
                row["e2e_vs_embedder"] = row["e2e"]["sentences_per_s"] / row["embedder"]["sentences_per_s"]
            if "e2e" in row and "llamaindex" in row:
                row["e2e_vs_llamaindex"] = row["e2e"]["dispatches_per_s"] / row["llamaindex"]["dispatches_per_s"]
            rows.append(row)
    report = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
              "corpus": str(args.corpus), "command": " ".join(["python", "benchmarks/ingest.py", *sys.argv[1:]]),
              "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\n{'size':>6} {'mode':>10} {'disp/s':>8} {'sent/s':>8} {'seconds':>8} {'peak MB':>8}")
    for row in rows:
        for mode in args.modes:
            r = row[mode]
            print(f"{row['size']:>6} {mode:>10} {r['dispatches_per_s']:8.1f} {r['sentences_per_s']:8.1f} "
                  f"{r['seconds']:8.1f} {r['peak_rss_mb']:8.0f}")
        for key in ("e2e_vs_embedder", "e2e_vs_llamaindex"):
            if key in row:
                print(f"{row['size']:>6} {key}: {row[key]:.2f}")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
