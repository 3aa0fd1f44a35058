"""The model's judgement of citations against the question (assistant/judge.py)."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

from assistant.answering.judge import candidates_of, judge_sources, yes_probability
from assistant.llms.base import ChatBackend
from assistant.answering.prompting import NumberedSource
from assistant.answering.verify import VerifiedSentence

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


def test_yes_probability_reads_yes_against_no_whatever_the_case():
    top = {"Yes": math.log(0.6), "no": math.log(0.2), "The": math.log(0.1)}
    assert abs(yes_probability(top) - 0.75) < 1e-9
    assert yes_probability({"Sì": math.log(0.5), "No": math.log(0.5)}) == 0.5
    assert yes_probability({"The": 0.0}) is None


def test_candidates_are_the_supporting_citations_then_other_support():
    checked = [VerifiedSentence(text="a", sources=[3], passing=[3, 5, 6]),
               VerifiedSentence(text="b", sources=[1, 3], passing=[1, 3, 2])]
    assert candidates_of(checked, 3) == [3, 1, 5]
    assert candidates_of(checked, 10) == [3, 1, 5]  # two strongest supports a sentence


class _Scripted(ChatBackend):
    """Returns fixed log-probabilities and records the prompts it was given."""

    def __init__(self, top):
        self.top, self.prompts = top, []

    def stream(self, messages, schema=None, max_tokens=None):
        yield ""

    def next_token_logprobs(self, messages, top=20):
        self.prompts.append(messages)
        return self.top


def _source(n: int, text: str) -> NumberedSource:
    return NumberedSource(n=n, hit=SimpleNamespace(sentence=SimpleNamespace(text=text)))


def test_each_candidate_is_asked_as_a_follow_up_of_the_answer():
    llm = _Scripted({"yes": math.log(0.9), "no": math.log(0.1)})
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    judged = judge_sources(llm, messages, '{"answer": "x"}', [_source(2, "Il ponte aprì nel 1932.")],
                           "Quando aprì il ponte?", PROMPTS)
    assert judged == {2: 0.9}
    [prompt] = llm.prompts
    assert prompt[:2] == messages and prompt[2] == {"role": "assistant", "content": '{"answer": "x"}'}
    assert "[2]" in prompt[3]["content"] and "1932" in prompt[3]["content"] and "Quando" in prompt[3]["content"]


def test_a_backend_without_log_probabilities_gives_no_judgement():
    assert judge_sources(_Scripted(None), [], "r", [_source(1, "x")], "q", PROMPTS) is None


def test_token_tables_keep_the_likelier_of_two_spellings():
    from assistant.llms.base import token_table

    assert token_table([(" yes", -6.5), ("yes", -0.5), ("No", -3.0), ("", -0.1)]) == {"yes": -0.5, "No": -3.0}
    assert list(token_table([("a", -2.0), ("b", -1.0)])) == ["b", "a"]
