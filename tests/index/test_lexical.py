"""The question's BM25 terms: stemmed in Italian, English and every other
language the corpus is indexed in, so that they meet the dispatches' stems."""

from collections import Counter

from assistant.index.lexical import index_terms, query_terms, stem_languages


def test_every_indexed_language_stems_the_question():
    assert stem_languages(Counter({"it": 10, "en": 3})) == ("it", "en")
    assert stem_languages(Counter({"it": 10, "fr": 2, "de": 1, "und": 4})) == ("it", "en", "de", "fr")


def test_a_german_dispatch_is_found_by_its_own_stems():
    stored = set(index_terms("Die Katzen schlafen", "de").split())
    assert "katz" in stored
    assert not query_terms("Katzen") & stored  # Italian and English stems miss the German one
    assert "katz" in query_terms("Katzen", stem_languages(["it", "de"])) & stored
