"""Sentence splitting of dispatches with character offsets and stable ids, and
grouping of whole sentences into chunks."""

from __future__ import annotations

from assistant.domain import Chunk, Sentence, sentence_id
from assistant.text.sentences import sentence_spans


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
