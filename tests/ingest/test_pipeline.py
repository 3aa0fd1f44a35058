"""Ingest end to end with the real embedder and embedded Chroma (and a real
Chroma server)."""

import json
import shutil

import pytest

from assistant.core import Assistant
from assistant.settings import IndexSettings
from tests.conftest import SEED, make_settings
from tests.support.index_probes import lexical_query, vector_ids

pytestmark = pytest.mark.slow


def _snapshot(helper: Assistant) -> dict:
    stats = helper.catalog.stats()
    doc_ids = [d.id for d in helper.catalog.list_dispatches(limit=10_000)[1]]
    sentence_ids = sorted(s.id for d in doc_ids for s in helper.catalog.sentences_of(d))
    return {"dispatches": stats["dispatches"], "sentences": stats["sentences"], "doc_ids": sorted(doc_ids),
            "sentence_ids": sentence_ids, "vector_ids": sorted(vector_ids(helper.vectors, doc_ids)),
            "vectors": helper.vectors.count()}


def _jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


RECORDS = [
    {"id": "a1", "title": "Uno", "source": "ANSA", "published_at": "2024-03-02", "body": "Il sindaco ha parlato. La metro apre."},
    {"id": "a2", "title": "Due", "source": "ANSA", "published_at": "2024-03-03", "body": "The mayor spoke today. The metro opens."},
]


def test_reingest_is_idempotent_and_ids_stable(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs)
    _jsonl(docs / "more.jsonl", RECORDS)
    helper = Assistant(make_settings(tmp_path / "home"))
    first = helper.ingest([docs], progress=False)
    assert first.ok and first.dispatches_written == 3
    before = _snapshot(helper)
    assert before["sentence_ids"] == before["vector_ids"] and before["vectors"] == before["sentences"]

    second = helper.ingest([docs], progress=False)
    assert second.files_unchanged == 2 and second.dispatches_written == 0
    assert _snapshot(helper) == before

    # a fresh process on the same home sees the same index
    reopened = Assistant(make_settings(tmp_path / "home"))
    assert _snapshot(reopened) == before


def test_changed_file_replaces_its_old_version(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    _jsonl(docs / "feed.jsonl", RECORDS)
    helper = Assistant(make_settings(tmp_path / "home"))
    helper.ingest([docs], progress=False)
    changed = [dict(RECORDS[0], body="Il sindaco ha parlato a lungo. La metro apre domani. Fine."),
               {"id": "a3", "source": "AGI", "body": "Nuovo dispaccio. Con due frasi."}]
    _jsonl(docs / "feed.jsonl", changed)
    report = helper.ingest([docs], progress=False)
    assert report.ok and report.dispatches_written == 2 and report.dispatches_removed == 1
    snap = _snapshot(helper)
    assert snap["doc_ids"] == ["a1", "a3"]
    assert snap["sentence_ids"] == snap["vector_ids"]
    assert [s.text for s in helper.catalog.sentences_of("a1")][-1] == "Fine."
    assert helper.catalog.lexical_search(lexical_query("mayor"), 10) == []  # a2 is gone
    assert {i for i, _ in helper.catalog.lexical_search(lexical_query("Fine"), 10)} == {"a1-s002"}


def test_broken_file_is_reported_and_batch_goes_on(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / "good.txt")
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02junk" * 100)
    (docs / "empty.txt").write_bytes(b"")
    (docs / "feed.jsonl").write_text(json.dumps(RECORDS[0]) + "\n{not json\n", encoding="utf-8")
    (docs / "latin1.txt").write_bytes("(ANSA) – Roma, 2 marzo 2024 – Perché è così: città.".encode("cp1252"))
    helper = Assistant(make_settings(tmp_path / "home"))
    report = helper.ingest([docs, tmp_path / "missing"], progress=False)
    assert not report.ok
    reasons = "\n".join(report.errors)
    assert "binary.txt: binary data" in reasons and "empty.txt: empty file" in reasons
    assert "feed.jsonl:2: not valid JSON" in reasons and "missing: no such file" in reasons
    assert helper.catalog.stats()["dispatches"] == 3
    latin = [d for d in helper.catalog.list_dispatches()[1] if d.agency == "ANSA"][0]
    assert latin.body == "Perché è così: città."


def test_chroma_server_mode(tmp_path, chroma_server):
    helper = Assistant(make_settings(tmp_path / "home", index=IndexSettings(chroma=chroma_server)))
    report = helper.ingest([SEED], progress=False)
    assert report.ok and report.sentences_written == 10
    assert helper.vectors.count() == 10
    assert helper.vectors.chunk_count() == helper.catalog.chunk_count() > 0  # the server holds both collections
    hits = helper.retrieve("Quando verranno schierate le forze occidentali?")
    assert hits and hits[0].dispatch.agency == "AGENPARL"
    status = helper.status(check_backends=False)
    assert status["backends"]["vector_store"] == chroma_server


def test_status_counts(seed_assistant):
    info = seed_assistant.status()
    assert (info["dispatches"], info["sentences"]) == (1, 10)
    assert info["by_language"] == {"it": 1} and info["by_source"] == {"AGENPARL": 1}
    assert info["backends"]["vector_store_ok"] and info["backends"]["vectors"] == 10
    assert info["backends"]["chunk_vectors"] == info["chunks"] > 0
    assert info["backends"]["llm"] == "llamacpp"
