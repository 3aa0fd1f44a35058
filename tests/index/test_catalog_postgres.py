"""The catalog on PostgreSQL gives what the SQLite catalog gives, method by
method, on the same dispatches: reads, filters, lists, BM25 (the same
ranking and scores as FTS5), files and pending marks; writes are atomic; two
writers of overlapping dispatches leave each once; a copy of a SQLite
catalog equals it."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from assistant.domain import Filters
from assistant.index.catalog import Catalog
from assistant.index.catalog_copy import copy_catalog
from assistant.index.catalog_postgres import PostgresCatalog
from assistant.ingest.parse import parse_record
from assistant.ingest.readers import RawRecord
from tests.support.index_probes import lexical_query

pytestmark = pytest.mark.slow  # a real PostgreSQL server

WORDS = ["grano", "prezzo", "porto", "sciopero", "governo", "borsa", "petrolio", "banca"]


def _record(i: int) -> RawRecord:
    words = [WORDS[(i * k + k) % len(WORDS)] for k in range(1, 4)]
    italian = i % 5 != 4
    body = (f"Il {words[0]} e il {words[1]} salgono oggi. Notizia numero {i} sul {words[2]}. "
            f"Ancora {words[0]} in chiusura." if italian else
            f"The government said on Monday that the {words[2]} port will stay closed. Talks on {words[1]} go on.")
    return RawRecord(origin=f"t{i}", fields={
        "id": f"d{i:02d}", "body": body, "agency": ["ANSA", "AGI", "Reuters"][i % 3], "title": f"Titolo {i % 6}",
        "language": "it" if italian else "en",
        "published_at": (date(2026, 1, 1) + timedelta(days=i)).isoformat() if i % 7 else None})


PARSED = [parse_record(_record(i)) for i in range(40)]
FILTERS = [None, Filters(since=date(2026, 1, 10)), Filters(until=date(2026, 1, 8)), Filters(sources=["agi"]),
           Filters(since=date(2026, 1, 5), until=date(2026, 1, 20), sources=["ansa", "reuters"]),
           Filters(languages=["en"]), Filters(since=date(2027, 1, 1)),
           Filters(exclude_doc_ids=[f"d{i:02d}" for i in range(0, 40, 2)])]


@pytest.fixture
def pair(tmp_path, postgres):
    """The same dispatches in a SQLite and a PostgreSQL catalog."""
    lite = Catalog(tmp_path / "catalog.sqlite")
    pg = PostgresCatalog(postgres.create_database())
    for catalog in (lite, pg):
        catalog.write_dispatches(PARSED[:25])
        catalog.write_dispatches(PARSED[25:])
    yield lite, pg
    lite.close()
    pg.close()


def test_reads_filters_and_lists_are_the_same(pair):
    lite, pg = pair
    ids = [p.dispatch.id for p in PARSED] + ["unknown"]
    assert pg.stats() == lite.stats()
    assert pg.dispatches(ids) == lite.dispatches(ids) and pg.dispatch("d03") == lite.dispatch("d03")
    assert pg.content_hashes(ids) == lite.content_hashes(ids)
    sentence_ids = [s.id for p in PARSED for s in p.sentences]
    assert pg.sentences(sentence_ids) == lite.sentences(sentence_ids)
    assert pg.sentences_of("d05", 1, 2) == lite.sentences_of("d05", 1, 2)
    assert pg.chunk_ids() == lite.chunk_ids() and pg.chunk_count() == lite.chunk_count()
    assert pg.chunks(sorted(lite.chunk_ids())) == lite.chunks(sorted(lite.chunk_ids()))
    assert pg.chunks_of(["d01", "d02"]) == lite.chunks_of(["d01", "d02"])
    assert pg.ids_with_titles(["Titolo 2", "none"]) == lite.ids_with_titles(["Titolo 2", "none"])
    assert pg.language_counts() == lite.language_counts() == {"it": 32, "en": 8}
    assert pg.has_dated_dispatches() and lite.has_dated_dispatches()
    terms = lexical_query("grano porto governo")
    assert pg.frequent_terms(terms, 0.2) == lite.frequent_terms(terms, 0.2)
    for filters in FILTERS:
        assert pg.passing(ids, filters) == lite.passing(ids, filters)
        if filters is not None:
            assert pg.share_matching(filters) == pytest.approx(lite.share_matching(filters))
        for query in ("", "grano", "d07", "100%"):
            for offset, limit in ((0, 50), (3, 5)):
                assert pg.list_dispatches(query, filters, offset, limit) == \
                    lite.list_dispatches(query, filters, offset, limit), (query, filters)


@pytest.mark.parametrize("text", ["grano porto borsa", "government port closed", "notizia numero 7", "zzz"])
def test_bm25_ranks_and_scores_as_fts5(pair, text):
    lite, pg = pair
    terms = lexical_query(text)
    for filters in FILTERS:
        for limit in (3, 10, 60):
            for method in ("lexical_search", "lexical_document_search"):
                got, want = getattr(pg, method)(terms, limit, filters), getattr(lite, method)(terms, limit, filters)
                assert [round(s, 6) for _, s in got] == [round(s, 6) for _, s in want], (method, filters)
                # the same rows with the same scores (rows of equal score may come in another order)
                assert {(i, round(s, 6)) for i, s in got} == {(i, round(s, 6)) for i, s in want}


def test_postgres_own_text_search_finds_the_matching_sentences(postgres):
    pg = PostgresCatalog(postgres.create_database(), lexical="tsearch")
    pg.write_dispatches(PARSED)
    found = pg.lexical_search(lexical_query("sciopero"), 50)
    texts = pg.sentences([i for i, _ in found])
    assert found and all("sciopero" in t.text.lower() for t in texts.values())
    english = pg.lexical_document_search(lexical_query("closed"), 50, Filters(languages=["en"]))
    assert {i for i, _ in english} == {p.dispatch.id for p in PARSED if p.dispatch.language == "en"}
    assert pg.lexical_search(lexical_query("sciopero"), 50, Filters(sources=["agi"])) == \
        [(i, s) for i, s in found if pg.dispatch(i.rsplit("-", 1)[0]).agency == "AGI"]


def test_files_pending_replace_and_delete(pair):
    lite, pg = pair
    for catalog in pair:
        catalog.record_file("/a.jsonl", "h1", 10, ["d01", "d02"])
        catalog.record_file("/b.jsonl", "h2", 20, ["d03"])
        catalog.record_file("/a.jsonl", "h3", 11, ["d01", "d02", "d04"])
        catalog.forget_files_with(["d03"])
        catalog.mark_pending(["d05", "d06"])
        catalog.write_dispatches([parse_record(RawRecord(origin="x", fields={
            "id": "d05", "body": "Il porto resta chiuso per lo sciopero dei portuali.", "language": "it"}))])
        catalog.delete_dispatches(["d07"])
    assert pg.file_records() == lite.file_records()
    assert pg.file_record("/b.jsonl") == lite.file_record("/b.jsonl") == ("", ["d03"])
    assert pg.doc_ids_of_other_files("/b.jsonl") == lite.doc_ids_of_other_files("/b.jsonl") == {"d01", "d02", "d04"}
    assert pg.pending() == lite.pending() == ["d06"]
    assert pg.stats()["sentences"] == lite.stats()["sentences"]
    terms = lexical_query("portuali")
    assert pg.lexical_search(terms, 5) == [(i, pytest.approx(s)) for i, s in lite.lexical_search(terms, 5)]
    assert pg.dispatch("d07") is None and pg.sentences_of("d07") == []
    assert all(not i.startswith("d07-") for i, _ in pg.lexical_search(lexical_query("notizia"), 100))


def test_a_failed_write_leaves_nothing(postgres):
    pg = PostgresCatalog(postgres.create_database())
    pg.write_dispatches(PARSED[:2])
    broken = PARSED[3].model_copy(deep=True)
    broken.sentences[1].text = "testo con un byte nullo \x00"  # PostgreSQL refuses NUL in text
    with pytest.raises(Exception):
        pg.write_dispatches([PARSED[2], broken])
    assert pg.stats()["dispatches"] == 2 and pg.dispatch(PARSED[2].dispatch.id) is None
    assert pg.sentences_of(PARSED[2].dispatch.id) == []
    assert pg.lexical_search(lexical_query(PARSED[2].sentences[0].text), 100) == \
        pg.lexical_search(lexical_query(PARSED[2].sentences[0].text), 100)  # still answers
    assert all(i.split("-")[0] in {"d00", "d01"} for i, _ in pg.lexical_search(lexical_query("grano porto"), 100))


def test_two_writers_of_overlapping_dispatches_leave_each_once(postgres):
    url = postgres.create_database()
    writers = [PostgresCatalog(url), PostgresCatalog(url)]
    errors: list[BaseException] = []

    def write(catalog, parts):
        try:
            for part in parts:
                catalog.write_dispatches(part)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    batches = [PARSED[i:i + 5] for i in range(0, 40, 5)]
    threads = [threading.Thread(target=write, args=(writers[0], batches * 3)),
               threading.Thread(target=write, args=(writers[1], list(reversed(batches)) * 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    check = writers[0]
    assert check.stats()["dispatches"] == 40
    assert check.stats()["sentences"] == sum(len(p.sentences) for p in PARSED)
    rows = check._rows("SELECT sentence_id, term, COUNT(*) AS n FROM postings GROUP BY 1, 2 HAVING COUNT(*) > 1")
    assert rows == []


def test_a_copy_of_a_sqlite_catalog_equals_it(pair, postgres):
    lite, _ = pair
    lite.record_file("/a.jsonl", "h1", 10, ["d01", "d02"])
    target = PostgresCatalog(postgres.create_database())
    assert copy_catalog(lite, target, progress=False) == 40
    without_time = lambda stats: {k: v for k, v in stats.items() if k != "last_ingest"}  # noqa: E731
    assert without_time(target.stats()) == without_time(lite.stats())
    assert target.file_records() == lite.file_records()
    ids = [p.dispatch.id for p in PARSED]
    assert target.dispatches(ids) == lite.dispatches(ids)
    order = lite.ingest_order(ids)
    copied = target.ingest_order(ids)
    assert sorted(ids, key=lambda i: order[i]) == sorted(ids, key=lambda i: copied[i])
    terms = lexical_query("grano porto")
    assert [i for i, _ in target.lexical_search(terms, 20)] == [i for i, _ in lite.lexical_search(terms, 20)]


def test_an_unreachable_server_is_a_clear_error():
    from assistant.index.catalog_postgres import CatalogUnavailable
    from tests.support.ollama_server import free_port

    port = free_port()
    with pytest.raises(CatalogUnavailable, match=f"127.0.0.1:{port}.*not reachable"):
        PostgresCatalog(f"postgresql://postgres:secret@127.0.0.1:{port}/none")
    try:
        PostgresCatalog(f"postgresql://postgres:secret@127.0.0.1:{port}/none")
    except CatalogUnavailable as exc:
        assert "secret" not in str(exc)


def test_pending_marks_of_a_live_worker_are_not_taken_for_a_crash(postgres):
    url = postgres.create_database()
    first, second = PostgresCatalog(url), PostgresCatalog(url)
    first.mark_pending(["d01", "d02"])
    second.mark_pending(["d03"])
    assert first.pending() == ["d01", "d02"]  # its own marks; d03 is being written by a live worker
    assert second.pending() == ["d03"]
    first.close()  # the worker is gone: its marks are left over from a crash
    assert second.pending() == ["d01", "d02", "d03"]
