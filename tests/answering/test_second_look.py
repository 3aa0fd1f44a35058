"""The second look at the best-ranked source (AnswerService._second_look): an answer citing
only other sources is asked again on the best one alone, and replaced when that reply answers."""

from __future__ import annotations

import json

import pytest

from assistant.core import Assistant
from assistant.domain import Dispatch, Sentence, SentenceHit
from assistant.llms.base import ChatBackend, LLMError
from assistant.settings import RetrievalSettings, VerificationSettings
from tests.conftest import make_settings

TEXTS = ("Il vertice si terrà il 12 ottobre a Bruxelles.", "I ministri hanno discusso di energia a lungo.")


class _Replies(ChatBackend):
    """Cites source 2 when given several sources; given one, replies ``alone`` (or fails)."""

    def __init__(self, alone: str | None):
        self.alone, self.prompts = alone, []

    def stream(self, messages, schema=None, max_tokens=None):
        self.prompts.append(messages[1]["content"])
        if "[2]" in messages[1]["content"]:
            yield json.dumps({"citations": [2], "answer": "I ministri hanno discusso di energia."})
        elif self.alone is None:
            raise LLMError("the model went away")
        else:
            yield self.alone


class _Retriever:
    catalog = type("Catalog", (), {"language_counts": lambda _self: {"it": 2},
                                   "has_dated_dispatches": lambda _self: False})()

    def __init__(self, second_score: float = 0.5):
        self.hits = []
        for i, text in enumerate(TEXTS):
            dispatch = Dispatch(id=f"d{i}", body=text, language="it", agency="ANSA")
            sentence = Sentence(id=f"d{i}-s000", doc_id=dispatch.id, index=0, text=text, char_start=0,
                                char_end=len(text))
            self.hits.append(SentenceHit(sentence=sentence, dispatch=dispatch, score=1.0 if i == 0 else second_score,
                                         dense=0.95))

    def retrieve(self, question, language, top_k=None, filters=None, neighbours=None, translation=None):
        return self.hits

    def retrieve_depths(self, question, language, depths, filters=None, neighbours=None, translation=None):
        return [self.hits for _ in depths]


def _ask(tmp_path, alone: str | None, second_look: bool = True, second_score: float = 0.5, below: float = 0.7):
    settings = make_settings(tmp_path / "home", retrieval=RetrievalSettings(translate_questions=False),
                             verification=VerificationSettings(second_look=second_look, second_look_below=below))
    helper = Assistant(settings)
    llm = _Replies(alone)
    helper.__dict__.update(retriever=_Retriever(second_score), verifier=None)
    helper._llm = llm
    return helper.ask("Quando si terrà il vertice?"), llm


def test_an_answer_citing_another_source_is_replaced_by_the_reply_on_the_best_one(tmp_path):
    answer, llm = _ask(tmp_path, json.dumps({"citations": [1], "answer": "Il 12 ottobre."}))
    assert len(llm.prompts) == 2 and "[2]" not in llm.prompts[1] and TEXTS[0] in llm.prompts[1]
    assert not answer.abstained and [c.sentence_id for c in answer.citations] == ["d0-s000"]
    assert "12 ottobre" in answer.answer and "second_look" in answer.timings


@pytest.mark.parametrize("alone", [json.dumps({"citations": [], "answer": "NON_TROVATO"}), None])
def test_the_first_answer_stands_when_the_second_look_declines_or_fails(tmp_path, alone):
    answer, llm = _ask(tmp_path, alone)
    assert len(llm.prompts) == 2
    assert not answer.abstained and [c.sentence_id for c in answer.citations] == ["d1-s000"]
    assert "second_look" not in answer.timings


def test_no_second_look_when_it_is_off(tmp_path):
    answer, llm = _ask(tmp_path, json.dumps({"citations": [1], "answer": "Il 12 ottobre."}), second_look=False)
    assert len(llm.prompts) == 1 and [c.sentence_id for c in answer.citations] == ["d1-s000"]


@pytest.mark.parametrize("second_score,below,asked_again", [(0.5, 0.7, True), (0.9, 0.7, False), (0.9, 1.0, True),
                                                             (0.69, 0.7, True), (0.7, 0.7, False)])
def test_asked_again_only_when_the_cited_source_scores_under_the_gate(tmp_path, second_score, below, asked_again):
    answer, llm = _ask(tmp_path, json.dumps({"citations": [1], "answer": "Il 12 ottobre."}), second_score=second_score,
                       below=below)
    assert len(llm.prompts) == (2 if asked_again else 1)
    assert [c.sentence_id for c in answer.citations] == (["d0-s000"] if asked_again else ["d1-s000"])
