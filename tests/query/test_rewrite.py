"""Follow-up rewriting: prompt assembly and reply cleaning (no model)."""

from __future__ import annotations

from assistant.query.replies import clean_reply
from assistant.query.rewrite import QuestionRewriter, format_history, missing_names
from assistant.settings import Settings


class Recorder:
    """A ChatBackend stand-in that records the prompt and replies with fixed text."""

    def __init__(self, reply: str):
        self.reply, self.prompts = reply, []

    def chat(self, messages, schema=None, max_tokens=None):
        self.prompts.append(messages[0]["content"])
        return self.reply


HISTORY = [{"role": "user", "content": "Quando verranno dispiegate le forze occidentali secondo Rutte?"},
           {"role": "assistant", "content": "Dopo un accordo di pace [1]."}]


def test_no_history_means_no_rewrite_and_no_model_call():
    llm = Recorder("x")
    rewriter = QuestionRewriter(Settings(), lambda: llm)
    assert rewriter.rewrite("e cosa ha detto Lavrov?", []) is None
    assert llm.prompts == []


def test_prompt_holds_the_conversation_and_the_reply_is_cleaned():
    llm = Recorder('Rewritten question: "Cosa ha detto Lavrov sul dispiegamento delle forze occidentali?"\naltro')
    rewriter = QuestionRewriter(Settings(), lambda: llm)
    out = rewriter.rewrite("e cosa ha detto Lavrov?", HISTORY)
    assert out == "Cosa ha detto Lavrov sul dispiegamento delle forze occidentali?"
    prompt = llm.prompts[0]
    assert "User: Quando verranno dispiegate le forze occidentali secondo Rutte?" in prompt
    assert "Assistant: Dopo un accordo di pace." in prompt  # citation markers removed
    assert prompt.rstrip().endswith("Follow-up question: e cosa ha detto Lavrov?\nRewritten question:")


def test_a_rewrite_that_loses_the_subject_falls_back_to_both_questions():
    llm = Recorder("Quale è il prossimo accordo di pace tra Russia e Ucraina?")
    rewriter = QuestionRewriter(Settings(), lambda: llm)
    out = rewriter.rewrite("e cosa ha detto Lavrov?", HISTORY)
    assert out == "e cosa ha detto Lavrov? (Quando verranno dispiegate le forze occidentali secondo Rutte?)"


def test_helpers():
    assert missing_names("E Peskov cosa ha detto?", "Cosa ha detto Peskov?") == []
    assert missing_names("what did Lavrov say?", "What did he say?") == ["Lavrov"]
    assert clean_reply("", "q") is None
    assert clean_reply("x" * 400, "short?") is None
    assert format_history([{"role": "user", "content": "a\n b"}]) == "User: a b"


def test_rewriter_and_translator_reply_length_is_the_setting():
    from assistant.query.translate import QuestionTranslator
    from assistant.settings import LLMSettings

    settings = Settings(llm=LLMSettings(question_max_tokens=40))
    assert QuestionRewriter(settings, lambda: None).max_tokens == 40
    assert QuestionTranslator(settings, lambda: None).max_tokens == 40
    assert QuestionRewriter(Settings(), lambda: None).max_tokens == Settings().llm.question_max_tokens
