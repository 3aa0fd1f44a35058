"""Verification of an answer against its sources, after generation.

Each answer sentence is scored against each source sentence given to the
model: dense similarity (the answer sentence embedded as a query against the
source's stored vector) and lexical overlap (the share of the answer
sentence's content words, stemmed in Italian and English, found in the
source). A source supports a sentence when either score passes its
threshold (``VerificationSettings``, calibrated by
``scripts/calibrate_verification.py``). The model's citations that do not
support a sentence are rejected; a sentence left without support gets the
best supporting source (post-hoc alignment) or is flagged unsupported."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.index.embedders import embed_query
from assistant.index.lexical import _stemmer, _stopwords, tokens
from assistant.ingest.sentences import sentence_spans
from assistant.prompting import NumberedSource


@dataclass(frozen=True)
class Support:
    """How well one source sentence supports one answer sentence."""

    cosine: float
    overlap: float


@dataclass
class VerifiedSentence:
    """An answer sentence with the source numbers (as given to the model) that support it."""

    text: str
    sources: list[int] = field(default_factory=list)
    added: list[int] = field(default_factory=list)  # supplied by alignment, not cited by the model
    rejected: list[int] = field(default_factory=list)  # cited by the model, not supported

    @property
    def supported(self) -> bool:
        return bool(self.sources)


def split_answer(text: str, language: str) -> list[str]:
    """The sentences of an answer (the whole text when it has one)."""
    pieces = [text[a:b].strip() for a, b in sentence_spans(text, language)]
    return [p for p in pieces if p] or ([text.strip()] if text.strip() else [])


def content_stems(text: str) -> set[str]:
    """Content words of a text as Italian and English stems (stopwords and 1-letter tokens dropped)."""
    words = [t for t in tokens(text) if t not in _stopwords() and (len(t) > 1 or t.isdigit())]
    return set(_stemmer("it").stemWords(words)) | {f"en:{s}" for s in _stemmer("en").stemWords(words)}


def overlap(claim: str, source: str) -> float:
    """Share of the claim's content words present in the source (Italian or English stem)."""
    words = [t for t in tokens(claim) if t not in _stopwords() and (len(t) > 1 or t.isdigit())]
    if not words:
        return 0.0
    have = content_stems(source)
    it, en = _stemmer("it").stemWords(words), _stemmer("en").stemWords(words)
    return sum(1 for a, b in zip(it, en) if a in have or f"en:{b}" in have) / len(words)


class Verifier:
    """Scores answer sentences against numbered sources and assigns citations."""

    def __init__(self, embedder, vectors, min_cosine: float, min_overlap: float):
        self.embedder, self.vectors = embedder, vectors
        self.min_cosine, self.min_overlap = min_cosine, min_overlap

    def supports(self, claim: str, sources: list[NumberedSource]) -> dict[int, Support]:
        """Per source number, the support it gives the claim."""
        if not sources:
            return {}
        vector = np.asarray(embed_query(self.embedder, claim), dtype=np.float32)
        cosines = self.vectors.similarities(vector, [s.hit.sentence.id for s in sources])
        return {s.n: Support(cosine=float(cosines.get(s.hit.sentence.id, 0.0)),
                             overlap=overlap(claim, s.hit.sentence.text)) for s in sources}

    def passes(self, support: Support) -> bool:
        return support.cosine >= self.min_cosine or support.overlap >= self.min_overlap

    def verify(self, answer: str, language: str, cited: list[int],
               sources: list[NumberedSource]) -> list[VerifiedSentence]:
        """Each answer sentence with its verified sources: the model's citations that
        pass, else the best passing source; none when nothing passes."""
        out: list[VerifiedSentence] = []
        for text in split_answer(answer, language):
            scores = self.supports(text, sources)
            sentence = VerifiedSentence(text=text)
            for n in cited:
                if n in scores and self.passes(scores[n]):
                    sentence.sources.append(n)
                elif n in scores:
                    sentence.rejected.append(n)
            if not sentence.sources:
                passing = [n for n, s in scores.items() if self.passes(s)]
                if passing:
                    best = max(passing, key=lambda n: (scores[n].overlap + scores[n].cosine, -n))
                    sentence.sources.append(best)
                    sentence.added.append(best)
            out.append(sentence)
        return out
