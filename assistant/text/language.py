"""Which language a text is in, and which language an answer is written in."""

from __future__ import annotations

import re
from functools import lru_cache

#: the languages detection chooses among
LANGUAGES = ["it", "en", "fr", "de", "es", "pt"]
#: the languages answers are written in (prompts/languages.toml)
ANSWER_LANGUAGES = ("it", "en")


@lru_cache(maxsize=1)
def _identifier():
    from langid.langid import LanguageIdentifier, model

    ident = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    ident.set_languages(LANGUAGES)
    return ident


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language ('und' when there is no text)."""
    sample = text[:2000]
    if not re.search(r"\w", sample):
        return "und"
    lang, _ = _identifier().classify(sample)
    return lang


def answer_language(language: str) -> str:
    """Answers are written in Italian or English: the question's language when
    it is one of them, else English."""
    return language if language in ANSWER_LANGUAGES else "en"


def question_language(question: str) -> str:
    """The language a question is answered in (detected, then narrowed by ``answer_language``)."""
    return answer_language(detect_language(question))
