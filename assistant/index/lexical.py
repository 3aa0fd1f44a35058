"""The lexical side: tokenising and Snowball-stemming text for BM25, which
SQLite FTS5 computes inside the same database as the catalog, so the lexical
index changes in the same transactions as the sentences it indexes."""

from __future__ import annotations

from assistant.text.words import stemmer, stopwords, tokens


def index_terms(text: str, language: str) -> str:
    """The stemmed terms stored for a sentence."""
    stems = stemmer(language).stemWords(tokens(text))
    return " ".join(stems)


def query_terms(text: str, languages: tuple[str, ...] = ("it", "en")) -> set[str]:
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


def query_expression(text: str, languages: tuple[str, ...] = ("it", "en")) -> str | None:
    """An FTS5 OR-query of the question's content words (see ``query_terms``)."""
    return expression_of(query_terms(text, languages))
