"""Server-Sent Events: the wire format and the answer stream of /api/ask/stream."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from assistant.answering.events import Event

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_event(name: str | None, data: Any) -> str:
    """One event: ``event: <name>`` (optional) and one ``data:`` line of JSON."""
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def answer_stream(events: Iterable[Event]) -> Iterator[str]:
    """Answer events as SSE: ``rewrite``, ``delta`` {text}, ``citations``
    {citations, provisional} (early ones, then the verified ones), then ``final`` (the ``Answer.public()`` JSON) or ``error``
    {status, message}."""
    for event in events:
        yield sse_event(event.kind, event.payload())
