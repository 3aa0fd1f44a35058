"""The bytes of the answer streams: /api/ask/stream (SSE) and the OpenAI-compatible
/v1/chat/completions stream, for fixed events, equal to the recorded files in
tests/server/wire/ (no server, no model). A change of these files is a change
of the wire format that clients parse."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.answering.events import Citations, Delta, Error, Event, Final, Rewrite
from assistant.domain import Answer, AnswerSentence, Citation, ConflictSide
from assistant.server.openai_compat import completion_stream
from assistant.server.sse import answer_stream

WIRE = Path(__file__).parent / "wire"
CITATION = Citation(n=1, sentence_id="d1-s000", doc_id="d1", text="La linea M4 aprirà il 12 ottobre «presto».",
                    agency="ANSA", place="Milano", published_at=date(2025, 3, 10), char_start=0, char_end=42,
                    score=0.8125)


def _answer(conflict: bool = False) -> Answer:
    answer = Answer(question="Quando aprirà la M4?", standalone_question="Quando aprirà la linea M4 a Milano?",
                    answer="Il 12 ottobre [1].", language="it", abstained=False, citations=[CITATION],
                    backend="test", sentences=[AnswerSentence(text="Il 12 ottobre.", citations=[1])],
                    context_tokens=120, timings={"total": 1.5}, retrieved=[{"sentence_id": "d1-s000", "score": 0.9}],
                    checks=[{"text": "Il 12 ottobre."}])
    if conflict:
        answer.conflicts = [ConflictSide(value="12 ottobre", citations=[1], agency="ANSA",
                                         published_at=date(2025, 3, 10))]
        answer.conflict_kind = "disagree"
        answer.conflict_note = "Le fonti non concordano."
        answer.sentences.append(AnswerSentence(text="Le fonti non concordano.", citations=[1]))
    return answer


def _events(kind: str) -> list[Event]:
    cited = [CITATION.model_dump(mode="json")]
    if kind == "answer":
        return [Rewrite("Quando aprirà la linea M4 a Milano?"), Citations(True, cited),
                Delta("Il 12 "), Delta("ottobre [1]."), Citations(False, cited), Final(_answer(conflict=True))]
    if kind == "declined":
        return [Final(_answer())]
    return [Error(503, "The queue is full", retry_after=5),
            Error(503, "The language model is unavailable: down", fallback={"citations": cited})]


@pytest.mark.parametrize("kind", ["answer", "declined", "error"])
def test_sse_stream_bytes(kind):
    text = "".join(answer_stream(_events(kind)))
    assert text.encode() == (WIRE / f"sse_{kind}.txt").read_bytes()


@pytest.mark.parametrize("kind", ["answer", "declined", "error"])
def test_openai_stream_bytes(kind):
    text = "".join(completion_stream(_events(kind), "chatcmpl-1", 1700000000, "dispatch-assistant"))
    assert text.encode() == (WIRE / f"openai_{kind}.txt").read_bytes()


def test_a_streamed_draft_declined_by_the_checks_ends_with_the_decline():
    """The model's text went out as it was generated; the checks then declined it: a client that
    shows only ``content`` must end on the decline, not on the unverified draft."""
    import json

    declined = _answer().model_copy(update={"answer": "Non trovo la risposta nei dispacci disponibili.",
                                            "abstained": True, "abstain_reason": "unverified", "citations": []})
    events = [Delta("Il 12 "), Delta("ottobre [1]."), Final(declined)]
    chunks = [json.loads(line[6:]) for line in "".join(completion_stream(events, "c", 1, "m")).split("\n\n")
              if line.startswith("data: {")]
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert content == "Il 12 ottobre [1].\n\nNon trovo la risposta nei dispacci disponibili."
    assert chunks[-1]["dispatch_answer"]["abstained"] is True and chunks[-1]["choices"][0]["finish_reason"] == "stop"
