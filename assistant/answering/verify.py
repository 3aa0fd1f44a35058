"""Verification of an answer against its sources, after generation.

Each answer sentence is scored against each source sentence given to the
model: dense similarity (the answer sentence embedded as a query against the
source's stored vector; for a source in another language than the answer,
the question and the answer sentence embedded together, since a short
translated answer such as "Linate airport" shares neither words nor much
meaning with its Italian source on its own) and lexical overlap (the share of the answer
sentence's content words, stemmed in Italian and English, found in the
source). A source supports a sentence when either score passes its
threshold (``VerificationSettings``, calibrated by
``scripts/calibrate_verification.py``). The model's citations that do not
support a sentence are rejected; a sentence left without support gets the
best supporting source (post-hoc alignment) or is flagged unsupported."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.answering.prompting import NumberedSource
from assistant.index.embedders import embed_query
from assistant.settings import VerificationSettings
from assistant.text.sentences import sentence_spans
from assistant.text.words import stemmer, stopwords, tokens


@dataclass(frozen=True)
class Support:
    """How well one source sentence supports one answer sentence: dense similarity,
    share of the sentence's content words in the source, and share of its *new*
    content words (those not already in the question: the answer proper) in the
    source, None when the sentence adds no word to the question."""

    cosine: float
    overlap: float
    novel: float | None = None

    @property
    def strength(self) -> tuple[float, float]:
        """Sort key: the answer's own words first, then similarity."""
        return (self.overlap if self.novel is None else self.novel, self.cosine)


@dataclass
class VerifiedSentence:
    """An answer sentence with the source numbers (as given to the model) that support it."""

    text: str
    sources: list[int] = field(default_factory=list)
    added: list[int] = field(default_factory=list)  # supplied by alignment, not cited by the model
    rejected: list[int] = field(default_factory=list)  # cited by the model, not supported
    cited: list[int] = field(default_factory=list)  # what the model cited for it
    passing: list[int] = field(default_factory=list)  # every source that supports it, strongest first

    @property
    def supported(self) -> bool:
        return bool(self.sources)


def split_answer(text: str, language: str) -> list[str]:
    """The sentences of an answer (the whole text when it has one)."""
    pieces = [text[a:b].strip() for a, b in sentence_spans(text, language)]
    return [p for p in pieces if p] or ([text.strip()] if text.strip() else [])


def _content_words(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in stopwords() and (len(t) > 1 or t.isdigit())]


def content_stems(text: str) -> set[str]:
    """Content words of a text as Italian and English stems (stopwords and 1-letter tokens dropped)."""
    words = _content_words(text)
    return set(stemmer("it").stemWords(words)) | {f"en:{s}" for s in stemmer("en").stemWords(words)}


def _stem_pairs(words: list[str]) -> list[tuple[str, str]]:
    return list(zip(stemmer("it").stemWords(words), (f"en:{s}" for s in stemmer("en").stemWords(words))))


def _share_in(pairs: list[tuple[str, str]], have: set[str]) -> float:
    return sum(1 for a, b in pairs if a in have or b in have) / len(pairs)


def overlap(claim: str, source: str) -> float:
    """Share of the claim's content words present in the source (Italian or English stem)."""
    pairs = _stem_pairs(_content_words(claim))
    return _share_in(pairs, content_stems(source)) if pairs else 0.0


def novel_overlap(claim: str, source: str, question: str) -> float | None:
    """Share of the claim's content words that are not in the question found in the
    source; None when the claim adds no word to the question."""
    asked = content_stems(question)
    pairs = [p for p in _stem_pairs(_content_words(claim)) if p[0] not in asked and p[1] not in asked]
    return _share_in(pairs, content_stems(source)) if pairs else None


def _crosses(source: NumberedSource, language: str | None, question: str) -> bool:
    """Whether the source is in another known language than the answer (with a question to join)."""
    theirs = source.hit.dispatch.language
    return bool(language and question.strip()) and theirs not in ("und", "", language)


class Verifier:
    """Scores answer sentences against numbered sources and assigns citations."""

    def __init__(self, embedder, vectors, settings: VerificationSettings):
        self.embedder, self.vectors = embedder, vectors
        self.min_cosine, self.min_overlap, self.min_novel = settings.min_cosine, settings.min_overlap, settings.min_novel
        self.max_per_sentence = settings.max_per_sentence

    def supports(self, claim: str, sources: list[NumberedSource], question: str = "",
                 language: str | None = None) -> dict[int, Support]:
        """Per source number, the support it gives the claim (an answer sentence to
        ``question``, written in ``language``). Sources in another known language are
        compared with the question and the claim together (see the module docstring)."""
        if not sources:
            return {}
        by_crossing: dict[bool, list[NumberedSource]] = {False: [], True: []}
        for s in sources:
            by_crossing[_crosses(s, language, question)].append(s)
        cosines = (self._cosines(claim, by_crossing[False])
                   | self._cosines(f"{question.strip()} {claim}", by_crossing[True]))
        return {s.n: Support(cosine=float(cosines.get(s.hit.sentence.id, 0.0)),
                             overlap=overlap(claim, s.hit.sentence.text),
                             novel=novel_overlap(claim, s.hit.sentence.text, question)) for s in sources}

    def _cosines(self, text: str, sources: list[NumberedSource]) -> dict[str, float]:
        if not sources:
            return {}
        vector = np.asarray(embed_query(self.embedder, text), dtype=np.float32)
        return self.vectors.similarities(vector, [s.hit.sentence.id for s in sources])

    def passes(self, support: Support) -> bool:
        """Whether a source supports a sentence: the sentence's new words are in it (or,
        when it adds none to the question, its content words), or it is very similar."""
        if support.cosine >= self.min_cosine:
            return True
        if support.novel is not None:
            return support.novel >= self.min_novel
        return support.overlap >= self.min_overlap

    def verify(self, claims: list[tuple[str, list[int]]], language: str, sources: list[NumberedSource],
               question: str = "") -> list[VerifiedSentence]:
        """Each answer sentence with its verified sources. ``claims`` are the
        model's answer sentences with the numbers it cited for each (a claim
        holding several sentences is split; each keeps the claim's citations).
        Kept: the cited sources that pass (the strongest ``max_per_sentence``),
        else the best passing source; none when nothing passes."""
        return [self.choose(text, self.supports(text, sources, question, language), cited)
                for claim, cited in claims for text in split_answer(claim, language)]

    def choose(self, text: str, scores: dict[int, Support], cited: list[int]) -> VerifiedSentence:
        """The verified sources of one answer sentence given its support scores."""
        sentence = VerifiedSentence(text=text, cited=[n for n in cited if n in scores])
        sentence.passing = sorted((n for n, s in scores.items() if self.passes(s)),
                                  key=lambda n: (scores[n].strength, -n), reverse=True)
        for n in cited:
            if n in scores and self.passes(scores[n]):
                sentence.sources.append(n)
            elif n in scores:
                sentence.rejected.append(n)
        if len(sentence.sources) > self.max_per_sentence:
            keep = sorted(sentence.sources, key=lambda n: scores[n].strength, reverse=True)[:self.max_per_sentence]
            sentence.rejected += [n for n in sentence.sources if n not in keep]
            sentence.sources = [n for n in sentence.sources if n in keep]
        if not sentence.sources and sentence.passing:
            best = sentence.passing[0]
            sentence.sources.append(best)
            sentence.added.append(best)
        return sentence
