"""Language detection, sentence splitting with character offsets, stable ids
and grouping of whole sentences into chunks."""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.domain import Chunk, Sentence, sentence_id

LANGUAGES = ["it", "en", "fr", "de", "es", "pt"]
_SPLITTER_LANGS = {"it", "en", "fr", "de", "es"}
_MAX_SEGMENT = 20_000  # characters handed to the splitter at once


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


def split_sentences(doc_id: str, body: str, language: str) -> list[Sentence]:
    """Sentences of a dispatch body with stable ids ``<doc_id>-s<index>``."""
    return [
        Sentence(id=sentence_id(doc_id, i), doc_id=doc_id, index=i, text=body[s:e], char_start=s, char_end=e)
        for i, (s, e) in enumerate(sentence_spans(body, language))
    ]


def group_chunks(doc_id: str, sentences: list[Sentence], max_words: int) -> list[Chunk]:
    """Group consecutive whole sentences into chunks of at most ``max_words``
    words (a longer sentence makes a chunk of its own)."""
    chunks: list[Chunk] = []
    current: list[Sentence] = []
    words = 0
    for sentence in sentences:
        n = len(sentence.text.split())
        if current and words + n > max_words:
            chunks.append(_chunk(doc_id, len(chunks), current))
            current, words = [], 0
        current.append(sentence)
        words += n
    if current:
        chunks.append(_chunk(doc_id, len(chunks), current))
    return chunks


def _chunk(doc_id: str, k: int, sentences: list[Sentence]) -> Chunk:
    return Chunk(
        id=f"{doc_id}-c{k:03d}",
        doc_id=doc_id,
        sentence_ids=[s.id for s in sentences],
        text=" ".join(s.text for s in sentences),
    )
