"""End to end on the seed dispatch with the real embedder and the real
bundled model: structure and citations, never exact wording."""

import json

import pytest
from typer.testing import CliRunner

from assistant.answering.events import Citations, Delta, Final
from assistant.text.language import detect_language

pytestmark = [pytest.mark.slow, pytest.mark.llm]

PEACE_SENTENCE = "Le forze armate occidentali saranno dispiegate in Ucraina solo dopo la conclusione di un accordo di pace"


def _cites_peace_sentence(answer) -> bool:
    return any(c.text.startswith(PEACE_SENTENCE) for c in answer.citations)


def test_italian_question_gets_italian_answer_citing_the_peace_sentence(seed_assistant):
    answer = seed_assistant.ask("Quando verranno dispiegate le forze armate occidentali in Ucraina?")
    assert not answer.abstained
    assert answer.language == "it" and detect_language(answer.answer) == "it"
    assert _cites_peace_sentence(answer)
    given = {r["sentence_id"] for r in answer.retrieved}
    assert all(c.sentence_id in given for c in answer.citations)
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer
        assert (c.agency, c.place, str(c.published_at)) == ("AGENPARL", "Roma", "2026-02-03")
    # the model's own judgement of its citations is off by default (question_judge)
    assert answer.judged == {} and "judgement" not in answer.timings


def test_switched_on_the_model_judges_its_citations_from_log_probabilities(seed_assistant, monkeypatch):
    monkeypatch.setattr(seed_assistant.settings.verification, "question_judge", True)
    answer = seed_assistant.ask("Quando verranno dispiegate le forze armate occidentali in Ucraina?")
    assert not answer.abstained and _cites_peace_sentence(answer)
    assert answer.judged and set(answer.judged) <= {i + 1 for i in range(len(answer.retrieved))}
    assert all(0.0 <= p <= 1.0 for p in answer.judged.values()) and "judgement" in answer.timings
    assert "judged" not in answer.public()


def test_english_question_gets_english_answer_with_the_same_citation(seed_assistant):
    answer = seed_assistant.ask("When will Western armed forces be deployed in Ukraine?")
    assert not answer.abstained
    assert answer.language == "en" and detect_language(answer.answer) == "en"
    assert _cites_peace_sentence(answer)


@pytest.mark.parametrize("question", [
    "Chi ha vinto il campionato di calcio di Serie A nel 2025?",
    "What is the price of a barrel of oil today?",
])
def test_unanswerable_question_is_declined(seed_assistant, question):
    answer = seed_assistant.ask(question)
    assert answer.abstained and answer.citations == []
    assert detect_language(answer.answer) == answer.language


def test_streamed_answer_equals_blocking_answer(seed_assistant):
    question = "Quando verranno dispiegate le forze armate occidentali in Ucraina?"
    events = list(seed_assistant.ask_events(question))
    final = events[-1].answer
    deltas = "".join(e.text for e in events if isinstance(e, Delta))
    assert isinstance(events[-1], Final) and deltas
    blocking = seed_assistant.ask(question)
    assert final.answer == blocking.answer
    assert [c.sentence_id for c in final.citations] == [c.sentence_id for c in blocking.citations]
    # the model's sources are shown as soon as it names them, before verification ends the stream
    early = [e for e in events if isinstance(e, Citations) and e.provisional]
    assert early and events.index(early[0]) < len(events) - 1
    given = {h["sentence_id"] for h in final.retrieved}
    assert all(c["sentence_id"] in given for e in early for c in e.citations)
    last = [e for e in events if isinstance(e, Citations)][-1]
    if final.citations:
        assert not last.provisional
        assert [c["sentence_id"] for c in last.citations] == [c.sentence_id for c in final.citations]


def test_per_sentence_citations_stream_and_cite_the_peace_sentence(seed_assistant, monkeypatch):
    monkeypatch.setattr(seed_assistant.settings.llm, "citations", "per_sentence")
    events = list(seed_assistant.ask_events("Quando verranno dispiegate le forze armate occidentali in Ucraina?"))
    final = events[-1].answer
    assert isinstance(events[-1], Final) and not final.abstained
    assert _cites_peace_sentence(final)
    streamed = "".join(e.text for e in events if isinstance(e, Delta))
    assert final.sentences and all(s.text in streamed for s in final.sentences)
    given = {r["sentence_id"] for r in final.retrieved}
    assert all(c.sentence_id in given for c in final.citations)


def test_cli_ask_json_shape(seed_assistant, monkeypatch):
    from assistant.cli import app

    monkeypatch.setenv("ASSISTANT_HOME", str(seed_assistant.settings.home))
    monkeypatch.setenv("ASSISTANT_LLM__BACKEND", "llamacpp")
    monkeypatch.setenv("ASSISTANT_LLM__TIMEOUT_S", "600")  # as make_settings: a busy 2-core machine is slow
    result = CliRunner().invoke(app, ["ask", "--json", "Cosa ha definito inaccettabile Lavrov?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"answer", "language", "abstained", "citations", "backend", "timings"} <= data.keys()
    for c in data["citations"]:
        assert {"n", "sentence_id", "doc_id", "text", "agency", "place", "published_at", "char_start",
                "char_end", "score"} <= c.keys()
