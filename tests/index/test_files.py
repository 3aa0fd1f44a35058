"""The catalog's ingest bookkeeping: files read and dispatches pending."""

from assistant.index.catalog import Catalog


def test_files_and_pending_dispatches(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    assert catalog.file_record("a.jsonl") is None
    catalog.record_file("a.jsonl", "h1", 10, ["d1", "d2"])
    catalog.record_file("b.txt", "h2", 5, ["d3"])
    assert catalog.file_record("a.jsonl") == ("h1", ["d1", "d2"])
    assert catalog.doc_ids_of_other_files("a.jsonl") == {"d3"}
    assert catalog.get_meta("last_ingest") is not None
    catalog.forget_files_with(["d2"])  # read again next time, its dispatch list kept
    assert catalog.file_record("a.jsonl") == ("", ["d1", "d2"]) and catalog.file_record("b.txt")[0] == "h2"
    catalog.mark_pending(["d4", "d5"])
    assert sorted(catalog.pending()) == ["d4", "d5"]
