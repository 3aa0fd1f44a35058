"""Look-ups by lists of any length: ids, titles, terms and filters beyond
SQLite's 32,766 parameters a statement."""

from __future__ import annotations

from assistant.domain import Filters
from assistant.index.catalog import Catalog
from assistant.ingest.parse import parse_record
from assistant.ingest.readers import RawRecord

MANY = 40_000  # more values than one statement may bind


def test_lists_longer_than_the_parameter_limit(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.write_dispatches([parse_record(RawRecord(origin="t", fields={
        "id": "d1", "title": "Porto", "body": "Il porto di Genova ha riaperto martedì.", "language": "it",
        "agency": "ANSA"}))])
    others = [f"x{i}" for i in range(MANY)]
    assert set(catalog.dispatches([*others, "d1"])) == {"d1"}
    assert set(catalog.ingest_order([*others, "d1"])) == {"d1"}
    assert catalog.ids_with_titles([*others, "Porto"]) == {"d1"}
    assert catalog.passing([*others, "d1"], Filters(exclude_doc_ids=others, sources=others + ["ansa"],
                                                    languages=others + ["it"])) == {"d1"}
    assert catalog.passing(["d1"], Filters(exclude_doc_ids=[*others, "d1"])) == set()
    assert catalog.frequent_terms([*others, "port"], 0.5) == {"port"}
    assert len(catalog.sentences(f"d1-s{i:03d}" for i in range(MANY))) == 1
