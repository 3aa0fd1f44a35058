"""Questions searched in translation: when to translate, the prompt, reply
cleaning, the service path with a stand-in model, and the bundled model."""

from __future__ import annotations

from collections import Counter

import pytest

from assistant.answering.service import AnswerService
from assistant.llms.base import LLMError
from assistant.query.translate import QuestionTranslator, target_language
from assistant.retrieval.fusion import fusion_weights, mixed
from assistant.settings import FusionSettings, RetrievalSettings, Settings
from assistant.text.language import detect_language

SHARE = RetrievalSettings().translate_below_share


class Recorder:
    """A ChatBackend stand-in that records prompts and replies with fixed text (or fails)."""

    def __init__(self, reply: str | Exception):
        self.reply, self.prompts = reply, []

    def chat(self, messages, schema=None, max_tokens=None):
        self.prompts.append(messages[0]["content"])
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def test_target_is_the_main_language_when_the_question_is_a_minority():
    assert target_language("en", Counter(it=90, en=10), SHARE) == "it"
    assert target_language("it", Counter(en=70, it=20, fr=10), SHARE) == "en"
    assert target_language("it", Counter(it=60, en=40), SHARE) is None  # already the majority
    assert target_language("en", Counter(it=50, en=50), SHARE) is None  # half the corpus is enough
    assert target_language("en", Counter(), SHARE) is None  # nothing indexed


def test_prompt_names_the_target_language_and_the_reply_is_cleaned():
    llm = Recorder('Italian: "Quando ha riaperto il porto di Genova?"\n(spiegazione)')
    out = QuestionTranslator(Settings(), lambda: llm).translate("When did the port of Genoa reopen?", "it")
    assert out == "Quando ha riaperto il porto di Genova?"
    prompt = llm.prompts[0]
    assert prompt.startswith("Translate the question into Italian")
    assert prompt.rstrip().endswith("Question: When did the port of Genoa reopen?\nItalian:")
    assert "Napoleone" in prompt  # the Italian examples of prompts/languages.toml
    english = Recorder("When did the port reopen?")
    QuestionTranslator(Settings(), lambda: english).translate("Quando ha riaperto il porto?", "en")
    assert "into English" in english.prompts[0] and "Napoleon lose" in english.prompts[0]


def test_a_question_is_translated_once_until_others_push_it_out(monkeypatch):
    from assistant.query import translate

    monkeypatch.setattr(translate, "KEPT", 2)
    llm = Recorder("Quando ha riaperto il porto?")
    translator = QuestionTranslator(Settings(), lambda: llm)
    for question in ("When did the port reopen?", "When did the port reopen?", "Who?", "What?",
                     "When did the port reopen?"):
        assert translator.translate(question, "it") == "Quando ha riaperto il porto?"
    assert len(llm.prompts) == 4  # the repeat was kept; after two others it is asked again
    failing = QuestionTranslator(Settings(), lambda: Recorder(LLMError("model down")))
    for _ in range(2):
        with pytest.raises(LLMError):  # a failure is not kept
            failing.translate("When did the port reopen?", "it")


@pytest.mark.parametrize("reply", ["", "   \n", "When did the port of Genoa reopen?", "x" * 400])
def test_unusable_replies_give_no_translation(reply):
    translator = QuestionTranslator(Settings(), lambda: Recorder(reply))
    assert translator.translate("When did the port of Genoa reopen?", "it") is None


def test_translated_words_weigh_less_and_dense_scores_mix():
    fusion = FusionSettings()
    plain = fusion_weights("it", Counter(it=100), fusion)
    translated = fusion_weights("it", Counter(it=100), fusion, translated=True)
    assert translated.dense == plain.dense
    assert translated.lexical == pytest.approx(fusion.translation_lexical_trust * plain.lexical)
    assert translated.document_lexical == pytest.approx(fusion.translation_lexical_trust * plain.document_lexical)
    assert mixed({"a": 0.8, "b": 0.6}, {"a": 0.4, "c": 0.9}, 0.25) == pytest.approx(
        {"a": 0.7, "b": 0.6, "c": 0.9})


class Retriever:
    """Records what AnswerService.find hands to retrieval."""

    def __init__(self, counts):
        self.calls = []
        self.catalog = type("Catalog", (), {"language_counts": lambda _self: counts})()

    def retrieve(self, question, language, top_k=None, filters=None, translation=None):
        self.calls.append(translation)
        return []


def _service(counts, llm, enabled=True):
    settings = Settings(retrieval=RetrievalSettings(translate_questions=enabled))
    retriever = Retriever(counts)
    return AnswerService(settings, retriever, lambda: llm, translator=QuestionTranslator(settings, lambda: llm)), retriever


def test_find_translates_only_minority_language_questions():
    llm = Recorder("Quando ha riaperto il porto?")
    service, retriever = _service({"it": 9, "en": 1}, llm)
    assert service.find("When did the port reopen?", "en") == ([], "Quando ha riaperto il porto?")
    assert retriever.calls == [("Quando ha riaperto il porto?", "it")]
    assert service.find("Quando ha riaperto il porto?", "it") == ([], None)
    assert retriever.calls[-1] is None and len(llm.prompts) == 1  # no model call for the majority language


def test_find_searches_as_asked_when_translation_is_off_or_the_model_fails():
    off, retriever = _service({"it": 9, "en": 1}, Recorder("Quando?"), enabled=False)
    assert off.find("When did the port reopen?", "en") == ([], None) and retriever.calls == [None]
    failing, retriever = _service({"it": 9, "en": 1}, Recorder(LLMError("model down")))
    assert failing.find("When did the port reopen?", "en") == ([], None) and retriever.calls == [None]


@pytest.mark.llm
def test_bundled_model_translates_into_the_corpus_language():
    from assistant.llms.factory import build_llm
    from tests.conftest import make_settings

    settings = make_settings(Settings().home)
    llm = build_llm(settings)
    translator = QuestionTranslator(settings, lambda: llm)
    question = "When did the port of Genoa reopen after the storm?"
    italian = translator.translate(question, "it")
    assert italian and detect_language(italian) == "it"
    assert "genov" in italian.lower() or "genoa" in italian.lower()  # the name survives
    english = translator.translate("Quando ha riaperto il porto di Genova dopo la tempesta?", "en")
    assert english and detect_language(english) == "en"


@pytest.mark.llm
def test_english_question_over_the_italian_seed_is_searched_in_italian_too(seed_assistant, monkeypatch):
    monkeypatch.setattr(seed_assistant.settings.retrieval, "translate_questions", True)
    answer = seed_assistant.ask("What did Lavrov say about Western troops?")
    assert answer.translated_question and detect_language(answer.translated_question) == "it"
    assert answer.language == "en" and answer.retrieved
    assert all(c.sentence_id in {r["sentence_id"] for r in answer.retrieved} for c in answer.citations)
