"""Fusion of the dense and lexical scores: relative fusion, neighbours, dispatch
and chunk scores, weights by question and corpus language."""

from collections import Counter

import pytest

from assistant.retrieval.fusion import (fusion_weights, min_max, relative_fusion, windowed, with_chunk_scores,
                                        with_document_boost, with_document_scores)
from assistant.settings import FusionSettings

FUSION = FusionSettings()


def test_relative_fusion_sums_weighted_normalised_scores():
    dense = {"a-s000": 0.90, "b-s000": 0.80, "c-s000": 0.70}
    lexical = {"c-s000": 12.0, "d-s000": 4.0}
    assert min_max(dense) == pytest.approx({"a-s000": 1.0, "b-s000": 0.5, "c-s000": 0.0})
    fused = relative_fusion([(dense, 1.0), (lexical, 0.7)])
    assert fused == pytest.approx({"a-s000": 1.0, "b-s000": 0.5, "c-s000": 0.7, "d-s000": 0.0})
    assert sorted(fused, key=fused.get, reverse=True) == ["a-s000", "c-s000", "b-s000", "d-s000"]
    # with a small lexical weight (across languages) the dense order holds
    light = relative_fusion([(dense, 1.0), (lexical, 0.1)])
    assert sorted(light, key=light.get, reverse=True)[:3] == ["a-s000", "b-s000", "c-s000"]


def test_sentence_scores_borrow_from_neighbours_and_their_dispatch():
    cosines = {"a-s001": 0.80, "b-s000": 0.82}
    known = {**cosines, "a-s000": 0.90, "a-s002": 0.70, "b-s001": 0.50}
    mixed = windowed(cosines, known, 0.2)
    assert mixed["a-s001"] == pytest.approx(0.8 * 0.80 + 0.2 * 0.80)
    assert mixed["b-s000"] == pytest.approx(0.8 * 0.82 + 0.2 * (0.82 + 0.50) / 2)  # no sentence before the first
    boosted = with_document_boost({"a-s000": 0.9, "a-s003": 0.6, "b-s000": 0.7}, 1.0)
    assert boosted == pytest.approx({"a-s000": 1.8, "a-s003": 1.5, "b-s000": 1.4})


def test_dispatch_level_lexical_score_lifts_every_sentence_of_the_dispatch():
    fused = {"a-s000": 1.0, "a-s004": 0.3, "b-s000": 0.6, "c-s002": 0.5}
    documents = {"b": 20.0, "c": 12.0, "z": 4.0}  # z has no candidate sentence: nothing to lift
    lifted = with_document_scores(fused, documents, 0.7)
    assert lifted == pytest.approx({"a-s000": 1.0, "a-s004": 0.3, "b-s000": 0.6 + 0.7, "c-s002": 0.5 + 0.7 * 0.5})
    assert sorted(lifted, key=lifted.get, reverse=True)[:2] == ["b-s000", "a-s000"]
    assert with_document_scores(fused, documents, 0.0) == fused


def test_chunk_score_lifts_every_sentence_of_the_chunk():
    fused = {"a-s000": 1.0, "a-s003": 0.2, "a-s004": 0.2, "b-s001": 0.5, "c-s000": 0.4}
    # a's second chunk (sentences 3-5) is the nearest; b's chunk 0-2 half as near; c's is the farthest fetched
    chunks = [("a", 3, 5, 0.90), ("b", 0, 2, 0.85), ("a", 0, 2, 0.82), ("c", 0, 1, 0.80)]
    lifted = with_chunk_scores(fused, chunks, 0.7)
    assert lifted == pytest.approx({"a-s000": 1.0 + 0.7 * 0.2, "a-s003": 0.2 + 0.7, "a-s004": 0.2 + 0.7,
                                    "b-s001": 0.5 + 0.7 * 0.5, "c-s000": 0.4})
    assert sorted(lifted, key=lifted.get, reverse=True)[:3] == ["a-s000", "a-s003", "a-s004"]
    assert with_chunk_scores(fused, chunks, 0.0) == fused
    assert with_chunk_scores(fused, [], 0.7) == fused
    # a sentence whose chunk was not among the nearest gets nothing
    assert with_chunk_scores({"d-s000": 0.3}, chunks, 0.7) == {"d-s000": 0.3}


def test_fusion_weights_follow_question_and_corpus_languages():
    italian = Counter({"it": 100})
    assert fusion_weights("it", italian, FUSION).lexical == pytest.approx(0.7)
    assert fusion_weights("en", italian, FUSION).lexical == pytest.approx(0.1)  # English words rarely match Italian text
    assert fusion_weights("it", italian, FUSION).document_lexical == pytest.approx(0.7)
    assert fusion_weights("en", italian, FUSION).document_lexical == 0.0
    mixed = Counter({"it": 50, "en": 50})
    assert fusion_weights("en", mixed, FUSION).lexical == pytest.approx(0.4)
    assert fusion_weights("it", mixed, FUSION).lexical == fusion_weights("en", mixed, FUSION).lexical
    assert fusion_weights("en", italian, FUSION).dense == fusion_weights("it", italian, FUSION).dense
