"""Filtered BM25 in the catalog: ranking the best rows unfiltered and judging
them by their dispatch (widened when too few pass) gives exactly what joining
every matching row to its dispatch gives; the language counts follow writes,
also those of another connection."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from assistant.domain import Filters
from assistant.index import catalog as catalog_module
from assistant.index.catalog import Catalog
from assistant.index.lexical import expression_of
from assistant.ingest.parse import parse_record
from assistant.ingest.readers import RawRecord
from tests.support.index_probes import lexical_query

WORDS = ["grano", "prezzo", "porto", "sciopero", "governo", "borsa", "petrolio", "banca"]


def _record(i: int, language: str = "it") -> RawRecord:
    words = [WORDS[(i * k + k) % len(WORDS)] for k in range(1, 4)]
    body = (f"Il {words[0]} e il {words[1]} salgono oggi. Notizia numero {i} sul {words[2]}. "
            f"Ancora {words[0]} in chiusura." if language == "it" else
            "The government said on Monday that the port will stay closed for the whole week.")
    return RawRecord(origin=f"t{i}", fields={
        "id": f"d{i:02d}", "body": body, "agency": ["ANSA", "AGI", "Reuters"][i % 3], "language": language,
        "published_at": (date(2026, 1, 1) + timedelta(days=i)).isoformat() if i % 7 else None})


@pytest.fixture
def catalog(tmp_path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.write_dispatches([parse_record(_record(i)) for i in range(40)])
    return catalog


def _joined(catalog: Catalog, table: str, id_column: str, terms: set[str], limit: int, filters: Filters):
    """The reference: every matching row joined to its dispatch, then ranked."""
    expression = expression_of(terms)
    where, params = catalog_module._filter_sql(filters, alias="d")
    rows = catalog._rows(
        f"SELECT {table}.{id_column} AS id, -bm25({table}) AS score FROM {table} "
        f"JOIN dispatches d ON d.id = {table}.doc_id WHERE {table} MATCH ? AND {' AND '.join(where)} "
        f"ORDER BY bm25({table}) LIMIT ?", [expression, *params, limit])
    return [(r["id"], r["score"]) for r in rows]


@pytest.mark.parametrize("filters", [
    Filters(since=date(2026, 1, 10)), Filters(until=date(2026, 1, 8)), Filters(sources=["agi"]),
    Filters(since=date(2026, 1, 5), until=date(2026, 1, 20), sources=["ansa", "reuters"]),
    Filters(since=date(2027, 1, 1)), Filters(exclude_doc_ids=[f"d{i:02d}" for i in range(0, 40, 2)]),
    Filters(sources=["ansa"], exclude_doc_ids=["d03", "d06"]),
])
@pytest.mark.parametrize("overfetch", ["default", "widened", "joined"])
@pytest.mark.parametrize("share_known", [False, True])
def test_filtered_bm25_equals_the_joined_query(catalog, monkeypatch, filters, overfetch, share_known):
    if overfetch != "default":  # rank few rows first, so too few pass
        monkeypatch.setattr(catalog_module, "LEXICAL_OVERFETCH", 1)
        monkeypatch.setattr(catalog_module, "LEXICAL_MAX_OVERFETCH", 200 if overfetch == "widened" else 5)
    share = catalog.share_matching(filters) if share_known else None
    expression = lexical_query("grano porto borsa")
    for limit in (3, 10, 60):
        sentences = catalog.lexical_search(expression, limit, filters, share)
        documents = catalog.lexical_document_search(expression, limit, filters, share)
        assert sentences == _joined(catalog, "lexical", "sentence_id", expression, limit, filters)
        assert documents == _joined(catalog, "lexical_docs", "doc_id", expression, limit, filters)
    assert catalog.lexical_search(expression, 10, filters, 0.0) == []


def test_passing_keeps_the_dispatches_that_pass(catalog):
    ids = [f"d{i:02d}" for i in range(40)] + ["unknown"]
    assert catalog.passing(ids, None) == set(ids) - {"unknown"}
    agi = catalog.passing(ids, Filters(sources=["AGI"]))
    assert agi == {f"d{i:02d}" for i in range(40) if i % 3 == 1}
    dated = catalog.passing(ids, Filters(since=date(2026, 1, 1)))
    assert dated == {f"d{i:02d}" for i in range(40) if i % 7}  # undated never passes a range


def test_language_counts_follow_writes_of_this_and_another_connection(catalog, tmp_path):
    assert catalog.language_counts() == {"it": 40}
    catalog.write_dispatches([parse_record(_record(50, language="en"))])
    assert catalog.language_counts() == {"it": 40, "en": 1}
    other = Catalog(tmp_path / "catalog.sqlite")
    other.write_dispatches([parse_record(_record(51, language="en"))])
    other.delete_dispatches(["d00"])
    assert catalog.language_counts() == {"it": 39, "en": 2}


def test_frequent_terms_are_those_in_more_than_the_share_of_sentences(catalog):
    from assistant.index.lexical import query_terms

    rows = [set(r["terms"].split()) for r in catalog._rows("SELECT terms FROM lexical")]
    terms = query_terms("grano porto notizia chiusura petrolio")
    df = {t: sum(t in r for r in rows) for t in terms}
    for share in (0.05, 0.2, 0.3, 0.6):
        assert catalog.frequent_terms(terms, share) == {t for t, n in df.items() if n > share * len(rows)}
    assert catalog.frequent_terms(terms, 1.0) == set()
    assert set() < catalog.frequent_terms(terms, 0.2) < terms  # the case checked is not trivial


def test_excluded_dispatches_are_left_out_of_every_search(catalog):
    expression = lexical_query("grano porto borsa")
    every = {doc for doc, _ in catalog.lexical_document_search(expression, 60)}
    gone = set(sorted(every)[:5])
    without = Filters(exclude_doc_ids=sorted(gone))
    assert {doc for doc, _ in catalog.lexical_document_search(expression, 60, without)} == every - gone
    assert {sid.split("-s")[0] for sid, _ in catalog.lexical_search(expression, 200, without)} == every - gone
    assert catalog.passing(every, without) == every - gone
    assert catalog.share_matching(without) == pytest.approx(35 / 40)


def test_ids_with_titles_finds_every_dispatch_of_an_article(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    records = [_record(i) for i in range(6)]
    for i, record in enumerate(records):
        record.fields["title"] = "Crisi energetica" if i % 2 else "Borsa"
    catalog.write_dispatches([parse_record(r) for r in records])
    assert catalog.ids_with_titles(["Crisi energetica"]) == {"d01", "d03", "d05"}
    assert catalog.ids_with_titles(["Borsa", "Crisi energetica", "", None]) == {f"d0{i}" for i in range(6)}
    assert catalog.ids_with_titles([]) == set() and catalog.ids_with_titles(["Altro"]) == set()
