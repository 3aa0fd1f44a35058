"""``POST /v1/chat/completions``, compatible with OpenAI clients.

The last user message is the question and earlier user/assistant messages the
history. Citations travel in an extra ``citations`` field of the response (and
of the last stream chunk), with the whole answer JSON in ``dispatch_answer``.
When streaming, content deltas are the text as generated; when the checks then decline
that draft (or replace it), the decline (or the replacement) follows it after a blank line, so
the last words a plain client shows are the final ones. The final text (with [n] markers, or
the decline when the assistant abstains) is ``dispatch_answer.answer``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.answering.events import Delta, Error, Event, Final
from assistant.server.api import answer_or_raise, context, start_question
from assistant.server.schemas import ChatCompletionRequest
from assistant.server.sse import STREAM_HEADERS
from assistant.settings import Settings

MODEL_ID = "dispatch-assistant"


def split_messages(body: ChatCompletionRequest) -> tuple[str, list[dict[str, str]]]:
    """(question, history): the last message must come from the user."""
    last = body.messages[-1]
    if last.role != "user":
        raise HTTPException(422, "The last message must have role 'user' (it is the question).")
    history = [{"role": m.role, "content": m.text()} for m in body.messages[:-1]
               if m.role in ("user", "assistant") and m.text().strip()]
    return last.text(), history


def _extras(answer) -> dict[str, Any]:
    public = answer.public()
    return {"citations": public["citations"], "conflicts": public["conflicts"], "dispatch_answer": public}


def _chunk(cid: str, created: int, model: str, delta: dict, finish: str | None = None, **extra) -> str:
    payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(payload, ensure_ascii=False, default=str)}\n\n"


def completion_stream(events: Iterable[Event], cid: str, created: int, model: str) -> Iterator[str]:
    """The answer events as OpenAI ``chat.completion.chunk`` lines, then ``[DONE]``."""
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    streamed = False
    for event in events:
        if isinstance(event, Delta):
            streamed = True
            yield _chunk(cid, created, model, {"content": event.text})
        elif isinstance(event, Final):
            answer = event.answer
            if not streamed:
                yield _chunk(cid, created, model, {"content": answer.answer})
            elif answer.abstained or "second_look" in answer.timings:
                # the checks declined the streamed draft, or a second look replaced it: the final text is last
                yield _chunk(cid, created, model, {"content": "\n\n" + answer.answer})
            elif answer.conflicts:  # the closing sentence on the conflicting sources, added after generation
                yield _chunk(cid, created, model, {"content": " " + answer.sentences[-1].text})
            yield _chunk(cid, created, model, {}, "stop", **_extras(answer))
        elif isinstance(event, Error):
            error = {"message": event.message, "type": "server_error", "code": event.status}
            yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def build_openai_router(settings: Settings) -> APIRouter:
    """Routes under /v1."""
    router = APIRouter(prefix="/v1", tags=["openai-compatible"], max_body_size=settings.server.max_body_bytes)

    @router.get("/models", summary="The one model this server offers")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0,
                                            "owned_by": "dispatch-assistant"}]}

    @router.post("/chat/completions", summary="OpenAI-compatible chat completion (streaming or not)")
    def chat_completions(body: ChatCompletionRequest, request: Request):
        ctx = context(request)
        question, history = split_messages(body)
        question, ticket = start_question(ctx, question)
        events = ctx.events(ticket, question, body.filters, body.top_k, history)
        cid, created, model = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), body.model or MODEL_ID
        if body.stream:
            return StreamingResponse(completion_stream(events, cid, created, model), media_type="text/event-stream",
                                     headers=STREAM_HEADERS)
        answer = answer_or_raise(events)
        completion = max(1, len(answer.answer) // 4)
        return JSONResponse({
            "id": cid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": answer.context_tokens, "completion_tokens": completion,
                      "total_tokens": answer.context_tokens + completion},
            **_extras(answer)})

    return router
