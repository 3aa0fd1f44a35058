"""Sentence spans of a text (pysbd), with character offsets."""

from __future__ import annotations

import re
from functools import lru_cache

_SPLITTER_LANGS = {"it", "en", "fr", "de", "es"}
_MAX_SEGMENT = 20_000  # characters handed to the splitter at once


@lru_cache(maxsize=8)
def _segmenter(language: str):
    import pysbd

    lang = language if language in _SPLITTER_LANGS else "en"
    return pysbd.Segmenter(language=lang, clean=False, char_span=True)


def sentence_spans(body: str, language: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``body`` (whitespace trimmed).

    Lines are split separately, so a sentence never crosses a line break."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", body):
        offset = line.start()
        text = line.group()
        for piece_start in range(0, len(text), _MAX_SEGMENT):
            piece = text[piece_start:piece_start + _MAX_SEGMENT]
            base = offset + piece_start
            for span in _segmenter(language).segment(piece):
                start, end = _trim(body, base + span.start, base + span.end)
                if end > start:
                    spans.append((start, end))
    return spans


def _trim(body: str, start: int, end: int) -> tuple[int, int]:
    while start < end and body[start].isspace():
        start += 1
    while end > start and body[end - 1].isspace():
        end -= 1
    return start, end
