"""Scoring for hybrid retrieval: each side's scores are min-max normalised
and summed with weights that depend on the question's language versus the
corpus's languages (relative-score fusion, as llama-index's
``QueryFusionRetriever(mode="relative_score")``, plus two sentence-level
refinements: a sentence's dense score mixes in its neighbours' and its
dispatch's best sentence). Pure functions over ``{sentence_id: score}``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from assistant.domain import doc_of, split_sentence_id
from assistant.domain import sentence_id as make_id
from assistant.settings import FusionSettings

# The weights' constants, with the figures that chose them, are FusionSettings
# (retrieval.fusion in the settings).


@dataclass
class FusionWeights:
    """How much each side counts in the fused score."""

    dense: float = 1.0
    lexical: float = 1.0
    document_lexical: float = 0.0


def language_share(language: str, corpus_languages: Counter) -> float:
    """The share of the corpus's sentences written in ``language`` (0 for an empty corpus)."""
    return corpus_languages.get(language, 0) / (sum(corpus_languages.values()) or 1)


def fusion_weights(question_language: str, corpus_languages: Counter, fusion: FusionSettings,
                   translated: bool = False) -> FusionWeights:
    """Lexical matching helps within a language and little across languages
    (only names and numbers are shared), so its weight follows the share of
    the corpus written in the question's language; a machine translation's
    words count less (``fusion.translation_lexical_trust``)."""
    share = language_share(question_language, corpus_languages)
    trust = fusion.translation_lexical_trust if translated else 1.0
    return FusionWeights(dense=1.0, lexical=trust * (fusion.lexical_base + fusion.lexical_span * share),
                         document_lexical=trust * fusion.document_lexical_span * share)


def neighbour_ids(sentence_id: str) -> tuple[str | None, str]:
    """The ids of the sentences before and after (None before the first)."""
    doc, index = split_sentence_id(sentence_id)
    return (make_id(doc, index - 1) if index > 0 else None), make_id(doc, index + 1)


def windowed(cosines: dict[str, float], known: dict[str, float], weight: float) -> dict[str, float]:
    """Each sentence's cosine mixed with its neighbours' mean (``known`` holds
    cosines of neighbours; a missing neighbour counts as the sentence itself)."""
    if not weight:
        return dict(cosines)
    out = {}
    for sid, own in cosines.items():
        before, after = neighbour_ids(sid)
        around = [known.get(before, own) if before else own, known.get(after, own)]
        out[sid] = (1 - weight) * own + weight * sum(around) / 2
    return out


def with_document_boost(scores: dict[str, float], weight: float) -> dict[str, float]:
    """Each sentence's score plus ``weight`` times the best score in its dispatch."""
    if not weight:
        return dict(scores)
    best: dict[str, float] = {}
    for sid, score in scores.items():
        doc = doc_of(sid)
        best[doc] = max(best.get(doc, score), score)
    return {sid: score + weight * best[doc_of(sid)] for sid, score in scores.items()}


def with_document_scores(fused: dict[str, float], documents: dict[str, float], weight: float) -> dict[str, float]:
    """Each sentence's fused score plus ``weight`` times its dispatch's
    min-max normalised document score (0 for dispatches not scored)."""
    if not weight or not documents:
        return dict(fused)
    scaled = min_max(documents)
    return {sid: score + weight * scaled.get(doc_of(sid), 0.0) for sid, score in fused.items()}


def with_chunk_scores(fused: dict[str, float], chunks: list[tuple[str, int, int, float]],
                      weight: float) -> dict[str, float]:
    """Each sentence's fused score plus ``weight`` times the min-max normalised
    cosine of the chunk holding it, among the nearest ``chunks`` (dispatch id,
    first and last sentence index, cosine); 0 for a chunk not among them. A
    chunk's vector reads its sentences together, so a sentence that names its
    subject only in a neighbour ("he", "the company") still scores."""
    if not weight or not chunks:
        return dict(fused)
    scaled = min_max({k: c[3] for k, c in enumerate(chunks)})
    spans: dict[str, list[tuple[int, int, float]]] = {}
    for k, (doc, first, last, _) in enumerate(chunks):
        spans.setdefault(doc, []).append((first, last, scaled[k]))

    def bonus(sid: str) -> float:
        doc, index = split_sentence_id(sid)
        return max((v for first, last, v in spans.get(doc, ()) if first <= index <= last), default=0.0)

    return {sid: score + weight * bonus(sid) for sid, score in fused.items()}


def mixed(first: dict[str, float], second: dict[str, float], weight: float) -> dict[str, float]:
    """Per sentence: (1 - weight) * first + weight * second (a missing score counts as the other)."""
    return {i: (1 - weight) * first.get(i, second.get(i, 0.0)) + weight * second.get(i, first.get(i, 0.0))
            for i in first.keys() | second.keys()}


def min_max(scores: dict[str, float]) -> dict[str, float]:
    """Scores rescaled to 0..1 (all 1.0 when they are equal)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high <= low:
        return {k: 1.0 for k in scores}
    return {k: (v - low) / (high - low) for k, v in scores.items()}


def relative_fusion(sides: list[tuple[dict[str, float], float]]) -> dict[str, float]:
    """The weighted sum of each side's min-max normalised scores."""
    fused: dict[str, float] = {}
    for scores, weight in sides:
        for sid, value in min_max(scores).items():
            fused[sid] = fused.get(sid, 0.0) + weight * value
    return fused
