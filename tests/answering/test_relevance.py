"""The question check of citations (assistant/answering/relevance.py): a cited sentence
that supports the answer but is not what the retriever found for the question
is replaced by one that is, or dropped."""

from __future__ import annotations

import pytest

from assistant.answering.relevance import Relevance, RelevancePolicy, recheck, relevance_of
from assistant.answering.verify import VerifiedSentence


def test_relevance_signals():
    texts = ["Il ponte fu aperto nel 1932.", "Il ponte è lungo 300 metri.", "Il ponte collega due quartieri."]
    signals = relevance_of("Quando fu aperto il ponte?", [3.0, 1.5, 0.3], texts)
    assert [s.rank for s in signals] == [1, 2, 3]
    assert [round(s.relative, 2) for s in signals] == [1.0, 0.5, 0.1]
    assert [s.holds_kind for s in signals] == [True, False, False]
    assert {s.holds_kind for s in relevance_of("Chi aprì il ponte?", [1.0], texts[:1])} == {None}
    assert relevance_of("Quando?", [0.0], ["x"])[0].relative == 0.0


RELEVANCE = {1: Relevance(1, 1.0, True), 2: Relevance(2, 0.9, False), 3: Relevance(3, 0.4, True)}


def _sentence(sources, cited, passing):
    return VerifiedSentence(text="x", sources=sources, added=[n for n in sources if n not in cited],
                            cited=cited, passing=passing)


def test_a_failing_citation_is_replaced_by_the_best_passing_support():
    policy = RelevancePolicy(min_relative=0.5)
    [checked] = recheck([_sentence([3], cited=[3], passing=[3, 2, 1])], RELEVANCE, policy)
    assert checked.sources == [2] and checked.added == [2] and checked.rejected == [3]


def test_a_failing_citation_is_dropped_without_repointing_or_a_passing_support():
    [dropped] = recheck([_sentence([3], cited=[3], passing=[3])], RELEVANCE, RelevancePolicy(min_relative=0.5))
    assert not dropped.supported and dropped.rejected == [3]
    [plain] = recheck([_sentence([3], [3], [3, 1])], RELEVANCE, RelevancePolicy(min_relative=0.5, repoint=False))
    assert not plain.supported


@pytest.mark.parametrize("policy,kept", [(RelevancePolicy(), [2]), (RelevancePolicy(max_rank=1), [1]),
                                         (RelevancePolicy(require_kind=True), [1]),
                                         (RelevancePolicy(max_rank=2, require_kind=False), [2])])
def test_each_rule(policy, kept):
    [checked] = recheck([_sentence([2], cited=[2], passing=[2, 1])], RELEVANCE, policy)
    assert checked.sources == kept
    # what the model cited is kept as cited: a replacement counts as added
    assert checked.added == ([] if kept == [2] else kept)


def test_the_models_judgement_vetoes_a_citation_only_where_given():
    relevance = {1: Relevance(1, 1.0, None, judged=0.9), 2: Relevance(2, 0.9, None, judged=0.1),
                 3: Relevance(3, 0.8, None)}
    policy = RelevancePolicy(min_judged=0.5)
    assert [policy.passes(relevance[n]) for n in (1, 2, 3)] == [True, False, True]  # 3 was not judged
    [repointed] = recheck([_sentence([2], cited=[2], passing=[2, 1])], relevance, policy)
    assert repointed.sources == [1] and repointed.rejected == [2]
    judged = relevance_of("Chi?", [2.0, 1.0], ["a", "b"], {2: 0.3})
    assert [r.judged for r in judged] == [None, 0.3]


def test_preferring_rank_cites_the_best_ranked_supporting_source_that_passes():
    sentence = _sentence([3], cited=[3], passing=[3, 2, 1])
    [best] = recheck([sentence], RELEVANCE, RelevancePolicy(prefer_rank=True))
    assert best.sources == [1] and best.added == [1] and best.rejected == [3]
    [kind] = recheck([_sentence([2], cited=[2], passing=[2, 3])], RELEVANCE,
                     RelevancePolicy(prefer_rank=True, require_kind=True))
    assert kind.sources == [3]  # source 2 holds no date
    [none] = recheck([_sentence([2], cited=[2], passing=[2])], RELEVANCE,
                     RelevancePolicy(prefer_rank=True, require_kind=True))
    assert none.sources == [] and none.rejected == [2]
