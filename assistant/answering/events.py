"""The answer stream's events, and running a stream to its final answer.

A stream is ``Rewrite`` (a follow-up rewritten to stand alone), then
``Citations`` and ``Delta`` events while the model writes, then one ``Final``;
a server turns failures into one ``Error`` instead. ``payload()`` is an
event's JSON data on the wire (the SSE ``data:`` line)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from assistant.domain import Answer


@dataclass(frozen=True)
class Rewrite:
    """The follow-up question, rewritten to stand alone (searched instead)."""

    question: str
    kind: ClassVar[str] = "rewrite"

    def payload(self) -> dict[str, Any]:
        return {"question": self.question}


@dataclass(frozen=True)
class Delta:
    """Answer text as the model generates it."""

    text: str
    kind: ClassVar[str] = "delta"

    def payload(self) -> dict[str, Any]:
        return {"text": self.text}


@dataclass(frozen=True)
class Citations:
    """The sources shown so far: ``provisional`` ones as soon as the model
    names them, then the verified ones (``Citation`` JSON dicts)."""

    provisional: bool
    citations: list[dict[str, Any]]
    kind: ClassVar[str] = "citations"

    def payload(self) -> dict[str, Any]:
        return {"provisional": self.provisional, "citations": self.citations}


@dataclass
class Final:
    """The complete answer (the same as a blocking ``ask``)."""

    answer: Answer
    kind: ClassVar[str] = "final"

    def payload(self) -> dict[str, Any]:
        return self.answer.public()


@dataclass(frozen=True)
class Error:
    """Why no answer came, with an HTTP-like status; ``retry_after`` (seconds)
    when the model queue was full, ``fallback`` (the public JSON of the most
    relevant source sentences) when the model failed after retrieval."""

    status: int
    message: str
    retry_after: int | None = None
    fallback: dict[str, Any] | None = None
    kind: ClassVar[str] = "error"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.retry_after is not None:
            data["retry_after"] = self.retry_after
        if self.fallback is not None:
            data["fallback"] = self.fallback
        return data


Event = Rewrite | Delta | Citations | Final | Error


class StreamFailed(Exception):
    """A stream ended in an ``Error`` event, or without an answer."""

    def __init__(self, error: Error):
        super().__init__(error.message)
        self.error = error


def final_answer(events: Iterable[Event]) -> Answer:
    """Run ``events`` to their end (so that whatever the stream holds, such as
    the model's slot, is released) and return the final answer; raises
    ``StreamFailed`` with the error event, or a 500 one when none came."""
    answer, error = None, None
    for event in events:
        if isinstance(event, Final):
            answer = event.answer
        elif isinstance(event, Error):
            error = event
    if error is None and answer is None:
        error = Error(500, "The answer stream ended without a result.")
    if error is not None:
        raise StreamFailed(error)
    return answer
