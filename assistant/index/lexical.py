"""The lexical side: tokenising and Snowball-stemming text for BM25, which
SQLite FTS5 computes inside the same database as the catalog, so the lexical
index changes in the same transactions as the sentences it indexes."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_STEMMER_NAMES = {"it": "italian", "en": "english", "fr": "french", "de": "german", "es": "spanish", "pt": "portuguese"}
_TOKEN = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=8)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(_STEMMER_NAMES.get(language, "english"))


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_ITALIAN

    return frozenset(fold(w) for w in (*STOPWORDS_EN, *STOPWORDS_ITALIAN))


@lru_cache(maxsize=1 << 18)
def fold(token: str) -> str:
    """Lower-case and strip accents (cached: a corpus repeats a limited vocabulary)."""
    token = unicodedata.normalize("NFKD", token.lower())
    return "".join(c for c in token if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Lower-cased, accent-folded word tokens (apostrophes split: dell'OPEC -> dell, opec)."""
    return [fold(t) for t in _TOKEN.findall(text)]


def index_terms(text: str, language: str) -> str:
    """The stemmed terms stored for a sentence."""
    stems = _stemmer(language).stemWords(tokens(text))
    return " ".join(stems)


def query_terms(text: str, languages: tuple[str, ...] = ("it", "en")) -> set[str]:
    """The question's content words, stemmed for every indexed language
    (names and numbers match whatever the language)."""
    words = [t for t in tokens(text) if t not in _stopwords() and len(t) > 1]
    terms: set[str] = set()
    for lang in languages:
        terms.update(_stemmer(lang).stemWords(words))
    terms.discard("")
    return terms


def expression_of(terms: set[str]) -> str | None:
    """An FTS5 OR-query of ``terms`` (None without terms)."""
    return " OR ".join(f'"{t}"' for t in sorted(terms)) if terms else None


def query_expression(text: str, languages: tuple[str, ...] = ("it", "en")) -> str | None:
    """An FTS5 OR-query of the question's content words (see ``query_terms``)."""
    return expression_of(query_terms(text, languages))
