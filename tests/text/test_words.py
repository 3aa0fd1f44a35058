"""Folding, tokens, stemmers and month names shared across the package."""

from assistant.ingest.dateline import MONTHS as DATELINE_MONTHS
from assistant.text.months import MONTHS, month_numbers
from assistant.text.words import fold, stemmer, stopwords, tokens


def test_tokens_are_folded_and_split_at_apostrophes():
    assert fold("Città") == "citta"
    assert tokens("dell'OPEC è qui") == ["dell", "opec", "e", "qui"]
    assert "della" in stopwords() and "the" in stopwords()


def test_each_indexed_language_has_its_stemmer():
    assert stemmer("de").stemWords(["katzen"]) == ["katz"] and stemmer("en").stemWords(["katzen"]) == ["katzen"]
    assert stemmer("xx").stemWords(["running"]) == stemmer("en").stemWords(["running"])


def test_one_month_table_serves_datelines():
    numbers = month_numbers()
    assert DATELINE_MONTHS == numbers
    assert all(numbers[name] == i for names in MONTHS.values() for i, name in enumerate(names, 1))
    assert numbers["sept"] == numbers["sett"] == numbers["set"] == 9 and numbers["may"] == 5
