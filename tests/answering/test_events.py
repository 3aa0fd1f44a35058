"""Running an answer stream to its final answer, and the HTTP error it becomes."""

import pytest
from fastapi import HTTPException

from assistant.answering.events import Delta, Error, Final, StreamFailed, final_answer
from assistant.domain import Answer
from assistant.server.api import answer_or_raise

ANSWER = Answer(question="Chi?", answer="Rutte [1].", language="it", abstained=False)


def test_the_final_answer_comes_after_the_whole_stream():
    seen = []

    def events():
        yield Delta("Rutte")
        yield Final(ANSWER)
        seen.append("drained")  # what follows the final event still runs (the model slot is released)

    assert final_answer(events()) is ANSWER and seen == ["drained"]


def test_an_error_event_or_no_answer_fails_the_stream():
    with pytest.raises(StreamFailed) as failed:
        final_answer([Delta("x"), Error(503, "busy", retry_after=4)])
    assert failed.value.error == Error(503, "busy", retry_after=4)
    with pytest.raises(StreamFailed) as empty:
        final_answer([Delta("x")])
    assert empty.value.error.status == 500


def test_the_api_raises_the_error_with_retry_after():
    assert answer_or_raise([Final(ANSWER)]) is ANSWER
    with pytest.raises(HTTPException) as raised:
        answer_or_raise([Error(503, "The queue is full", retry_after=4)])
    assert (raised.value.status_code, raised.value.detail, raised.value.headers) == (
        503, "The queue is full", {"Retry-After": "4"})
    with pytest.raises(HTTPException) as plain:
        answer_or_raise([Error(422, "The question is empty")])
    assert plain.value.headers is None
