"""The lexical side: tokenising and Snowball-stemming text for BM25, which
SQLite FTS5 computes inside the same database as the catalog, so the lexical
index changes in the same transactions as the sentences it indexes."""

from __future__ import annotations

from collections.abc import Iterable

from assistant.text.words import STEMMER_NAMES, stemmer, stopwords, tokens

QUERY_LANGUAGES = ("it", "en")  # a question's words are always stemmed as both


def index_terms(text: str, language: str) -> str:
    """The stemmed terms stored for a sentence."""
    stems = stemmer(language).stemWords(tokens(text))
    return " ".join(stems)


def stem_languages(corpus_languages: Iterable[str]) -> tuple[str, ...]:
    """The languages a question's words are stemmed in: Italian, English and
    every other language of the corpus that dispatches are stemmed in
    (``index_terms``), so that a French dispatch's stems can match."""
    extra = sorted({lang for lang in corpus_languages if lang in STEMMER_NAMES} - set(QUERY_LANGUAGES))
    return (*QUERY_LANGUAGES, *extra)


def query_terms(text: str, languages: tuple[str, ...] = QUERY_LANGUAGES) -> set[str]:
    """The question's content words, stemmed for every indexed language
    (names and numbers match whatever the language)."""
    words = [t for t in tokens(text) if t not in stopwords() and len(t) > 1]
    terms: set[str] = set()
    for lang in languages:
        terms.update(stemmer(lang).stemWords(words))
    terms.discard("")
    return terms


def expression_of(terms: set[str]) -> str | None:
    """An FTS5 OR-query of ``terms`` (None without terms)."""
    return " OR ".join(f'"{t}"' for t in sorted(terms)) if terms else None
