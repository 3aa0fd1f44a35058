"""Words: accent folding, word tokens, Snowball stemmers and stopwords."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: the Snowball stemmer of each language dispatches are indexed in (others: English)
STEMMER_NAMES = {"it": "italian", "en": "english", "fr": "french", "de": "german", "es": "spanish", "pt": "portuguese"}
_TOKEN = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=8)
def stemmer(language: str):
    """The PyStemmer stemmer for ``language`` (English for a language without one)."""
    import Stemmer

    return Stemmer.Stemmer(STEMMER_NAMES.get(language, "english"))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Italian and English stopwords, folded."""
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
