"""The lexical index (FTS5), the catalog and the Chroma vectors hold exactly
the same sentence ids through ingest, re-ingest, replacement, removal and a
restart (real embedder, embedded Chroma)."""

import json

import pytest

from assistant.core import Assistant
from assistant.domain import chunk_doc
from assistant.index.embedders import embed_passages
from tests.conftest import make_settings
from tests.support.index_probes import lexical_query, vector_ids

pytestmark = pytest.mark.slow

FEED = [
    {"id": "m4", "source": "ANSA", "published_at": "2025-03-10",
     "body": "La linea M4 della metropolitana di Milano apre sabato. Il sindaco ha inaugurato la stazione San Babila."},
    {"id": "grano", "source": "ANSA", "published_at": "2025-03-11",
     "body": "Il prezzo del grano duro è sceso del dieci per cento. Gli agricoltori pugliesi protestano a Bari."},
    {"id": "port", "source": "Reuters", "published_at": "2025-03-11",
     "body": "The port of Genoa reopened after the storm. Shipping companies expect delays until Friday."},
]


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _ids(helper: Assistant) -> dict[str, list[str]]:
    """Sentence ids as each store sees them."""
    db = helper.catalog
    catalog = [r[0] for r in db._rows("SELECT id FROM sentences")]
    lexical = [r[0] for r in db._rows("SELECT sentence_id FROM lexical")]
    docs = [r[0] for r in db._rows("SELECT id FROM dispatches")]
    vectors = vector_ids(helper.vectors, docs + ["m4", "grano", "port"])
    lexical_docs = [r[0] for r in db._rows("SELECT doc_id FROM lexical_docs")]
    return {"catalog": sorted(catalog), "lexical": sorted(lexical), "vectors": sorted(vectors),
            "total_vectors": helper.vectors.count(), "docs": sorted(docs), "lexical_docs": sorted(lexical_docs),
            "chunks": sorted(helper.catalog.chunk_ids()), "chunk_vectors": sorted(helper.vectors.chunk_ids())}


def _lexical(helper: Assistant, text: str) -> list[str]:
    return [i for i, _ in helper.catalog.lexical_search(lexical_query(text), 20)]


def _lexical_docs(helper: Assistant, text: str) -> list[str]:
    return [i for i, _ in helper.catalog.lexical_document_search(lexical_query(text), 20)]


def _assert_in_step(helper: Assistant) -> list[str]:
    ids = _ids(helper)
    assert ids["catalog"] == ids["lexical"] == ids["vectors"], ids
    assert ids["total_vectors"] == len(ids["catalog"])  # no vector without a catalog sentence
    assert len(set(ids["lexical"])) == len(ids["lexical"])  # no sentence indexed twice
    assert ids["lexical_docs"] == ids["docs"]  # one dispatch-level lexical row per dispatch
    assert ids["chunks"] == ids["chunk_vectors"] and ids["chunks"]  # a vector per chunk, none stale
    assert {chunk_doc(c) for c in ids["chunks"]} == set(ids["docs"])
    return ids["catalog"]


@pytest.fixture
def feed(tmp_path):
    path = tmp_path / "docs" / "feed.jsonl"
    path.parent.mkdir()
    _write(path, FEED)
    return path


def test_ingest_and_reingest_keep_stores_in_step(tmp_path, feed):
    helper = Assistant(make_settings(tmp_path / "home"))
    assert helper.ingest([feed], progress=False).ok
    first = _assert_in_step(helper)
    assert len(first) == 6 and {i.split("-s")[0] for i in first} == {"m4", "grano", "port"}
    # the same file again changes nothing
    again = helper.ingest([feed], progress=False)
    assert again.files_unchanged == 1 and again.dispatches_written == 0
    assert _assert_in_step(helper) == first
    # the same content in a second file: same ids, still one entry per sentence
    _write(feed.parent / "copy.jsonl", FEED[:1])
    copy = helper.ingest([feed.parent], progress=False)
    assert copy.dispatches_unchanged == 1 and copy.dispatches_written == 0
    assert _assert_in_step(helper) == first


def test_replaced_dispatch_leaves_no_stale_terms_or_vectors(tmp_path, feed):
    helper = Assistant(make_settings(tmp_path / "home"))
    helper.ingest([feed], progress=False)
    assert _lexical(helper, "San Babila") == ["m4-s001"]
    edited = [dict(FEED[0], body="La linea M4 della metropolitana di Milano apre domenica. "
                               "La prima corsa parte da Linate alle sei. Il biglietto costa due euro."), *FEED[1:]]
    _write(feed, edited)
    report = helper.ingest([feed], progress=False)
    assert report.dispatches_written == 1 and report.dispatches_unchanged == 2
    ids = _assert_in_step(helper)
    assert [i for i in ids if i.startswith("m4-")] == ["m4-s000", "m4-s001", "m4-s002"]
    assert _lexical(helper, "San Babila") == []  # the old sentence's terms are gone
    assert _lexical_docs(helper, "San Babila") == []
    assert _lexical(helper, "Linate") == ["m4-s001"]
    assert _lexical_docs(helper, "Linate biglietto") == ["m4"]  # words of two sentences, one dispatch
    assert helper.catalog.sentences(["m4-s001"])["m4-s001"].text.startswith("La prima corsa")
    # the vector under the reused id is the new sentence's, not the old one's
    new, old = embed_passages(helper.embedder, ["La prima corsa parte da Linate alle sei.",
                                                "Il sindaco ha inaugurato la stazione San Babila."])
    assert helper.vectors.similarities(new, ["m4-s001"])["m4-s001"] > 0.999
    assert helper.vectors.similarities(old, ["m4-s001"])["m4-s001"] < 0.95


def test_removed_dispatch_leaves_every_store(tmp_path, feed):
    helper = Assistant(make_settings(tmp_path / "home"))
    helper.ingest([feed], progress=False)
    _write(feed, FEED[:2])
    report = helper.ingest([feed], progress=False)
    assert report.dispatches_removed == 1
    ids = _assert_in_step(helper)
    assert not [i for i in ids if i.startswith("port-")]
    assert _lexical(helper, "Genoa port storm") == []
    assert _lexical_docs(helper, "Genoa port storm") == []
    assert all(h.sentence.doc_id != "port" for h in helper.retrieve("When did the port of Genoa reopen?", top_k=6))


def test_index_survives_a_restart(tmp_path, feed):
    home = tmp_path / "home"
    helper = Assistant(make_settings(home))
    helper.ingest([feed], progress=False)
    before = _assert_in_step(helper)
    question = "Quanto è sceso il prezzo del grano?"
    hits_before = [(h.sentence.id, round(h.score, 6)) for h in helper.retrieve(question, top_k=4)]
    helper.catalog.close()
    del helper

    reopened = Assistant(make_settings(home))
    assert _assert_in_step(reopened) == before
    assert _lexical(reopened, "grano duro") == ["grano-s000"]
    assert [(h.sentence.id, round(h.score, 6)) for h in reopened.retrieve(question, top_k=4)] == hits_before
    assert reopened.ingest([feed], progress=False).files_unchanged == 1


def test_share_matching_counts_dispatches_passing_the_filters(tmp_path):
    from datetime import date

    from assistant.domain import Filters

    helper = Assistant(make_settings(tmp_path / "home"))
    catalog = helper.catalog
    assert catalog.share_matching(Filters(since=date(2026, 1, 1))) == 1.0  # empty catalog
    from assistant.ingest.parse import parse_record
    from assistant.ingest.readers import RawRecord

    for i, (day, agency) in enumerate([(date(2026, 1, 5), "ANSA"), (date(2026, 2, 5), "AGI"), (None, "ANSA"),
                                       (date(2026, 2, 20), "ANSA")]):
        parsed = parse_record(RawRecord(origin=f"t{i}", fields={
            "id": f"d{i}", "body": "Testo di prova. Seconda frase.", "agency": agency,
            "published_at": day.isoformat() if day else None}))
        catalog.write_dispatches([parsed])
    assert catalog.share_matching(Filters()) == 1.0
    assert catalog.share_matching(Filters(since=date(2026, 2, 1))) == 0.5
    assert catalog.share_matching(Filters(until=date(2026, 1, 31))) == 0.25  # undated never passes a range
    assert catalog.share_matching(Filters(sources=["ansa"], since=date(2026, 1, 1))) == 0.5
    assert catalog.share_matching(Filters(since=date(2030, 1, 1))) == 0.0


def test_catalog_from_before_the_dispatch_level_table_gets_it_on_open(tmp_path, feed):
    home = tmp_path / "home"
    helper = Assistant(make_settings(home))
    helper.ingest([feed], progress=False)
    expected = {r[0]: r[1] for r in helper.catalog._rows("SELECT doc_id, terms FROM lexical_docs")}
    with helper.catalog.transaction() as db:  # as a catalog written before the table existed
        db.execute("DELETE FROM lexical_docs")
    helper.catalog.close()

    reopened = Assistant(make_settings(home))
    _assert_in_step(reopened)
    rebuilt = {r[0]: r[1] for r in reopened.catalog._rows("SELECT doc_id, terms FROM lexical_docs")}
    assert rebuilt == expected  # the same terms, in sentence order
    assert _lexical_docs(reopened, "grano duro") == ["grano"]


def test_index_from_before_chunk_vectors_gets_them_on_the_next_ingest(tmp_path, feed):
    home = tmp_path / "home"
    helper = Assistant(make_settings(home))
    helper.ingest([feed], progress=False)
    chunks = sorted(helper.catalog.chunk_ids())
    question = "Quanto è sceso il prezzo del grano?"
    hits_before = [(h.sentence.id, round(h.score, 5)) for h in helper.retrieve(question, top_k=4)]
    helper.vectors.delete_chunks(chunks)  # as an index written before chunks had vectors
    helper.vectors._chunks.upsert(ids=["gone-c000"], embeddings=[[0.0] * 383 + [1.0]], documents=["x"],
                                  metadatas=[{"doc_id": "gone", "first": 0, "last": 0}])  # and one stale vector
    assert helper.vectors.chunk_count() == 1
    report = helper.ingest([feed], progress=False)
    assert report.files_unchanged == 1 and report.chunks_backfilled == len(chunks)
    _assert_in_step(helper)
    assert [(h.sentence.id, round(h.score, 5)) for h in helper.retrieve(question, top_k=4)] == hits_before
    assert helper.ingest([feed], progress=False).chunks_backfilled == 0  # in step: nothing to do


def test_chunk_vectors_can_be_turned_off_and_on_again(tmp_path, feed):
    from assistant.settings import IndexSettings

    home = tmp_path / "home"
    off = Assistant(make_settings(home, index=IndexSettings(embed_chunks=False)))
    assert off.ingest([feed], progress=False).ok
    assert off.vectors.chunk_count() == 0 and off.catalog.chunk_count() == 3
    assert off.retriever.settings.chunk_weight == 0.0  # nothing to weigh
    assert off.retrieve("Quanto è sceso il prezzo del grano?", top_k=1)[0].sentence.id == "grano-s000"
    off.catalog.close()

    on = Assistant(make_settings(home))
    assert on.retriever.settings.chunk_weight > 0
    assert on.ingest([feed], progress=False).chunks_backfilled == 3
    _assert_in_step(on)
