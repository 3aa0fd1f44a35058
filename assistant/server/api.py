"""The JSON API: ask (whole or streamed), browse dispatches, upload, health."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.answering.events import Event, StreamFailed, final_answer
from assistant.domain import Answer, Filters
from assistant.server.context import ServerContext
from assistant.server.gate import Busy, Ticket
from assistant.server.schemas import AskRequest
from assistant.server.sse import STREAM_HEADERS, answer_stream
from assistant.settings import Settings


def context(request: Request) -> ServerContext:
    return request.app.state.context


def busy_error(exc: Busy) -> HTTPException:
    return HTTPException(503, str(exc), headers={"Retry-After": str(exc.retry_after)})


def start_question(ctx: ServerContext, question: str) -> tuple[str, Ticket]:
    """The checked question and a place in the model queue, or a 422/503 HTTPException."""
    try:
        question = ctx.check_question(question)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    try:
        return question, ctx.ticket()
    except Busy as exc:
        raise busy_error(exc) from exc


def answer_or_raise(events: Iterable[Event]) -> Answer:
    """Run an event stream to the end (releasing the model): its answer, or
    the HTTPException of its error event."""
    try:
        return final_answer(events)
    except StreamFailed as exc:
        error = exc.error
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
        raise HTTPException(error.status, error.message, headers=headers) from None


def dispatch_summary(d) -> dict[str, Any]:
    return d.model_dump(mode="json", exclude={"body", "content_hash"})


def build_api_router(settings: Settings) -> APIRouter:
    """Routes under /api (body size limits from settings)."""
    router = APIRouter(prefix="/api", tags=["api"], max_body_size=settings.server.max_body_bytes)

    @router.post("/ask", summary="Answer a question with citations (same JSON as `assistant ask --json`)")
    def ask(body: AskRequest, request: Request) -> JSONResponse:
        ctx = context(request)
        question, ticket = start_question(ctx, body.question)
        history = [m.model_dump() for m in body.history]
        answer = answer_or_raise(ctx.events(ticket, question, body.filters, body.top_k, history))
        return JSONResponse(answer.public())

    @router.post("/ask/stream", summary="The answer as Server-Sent Events",
                 description="Events: `rewrite` {question} for a rewritten follow-up, `delta` {text}, "
                             "`citations` {citations}, then `final` (the /api/ask JSON) or `error` {status, message}.",
                 response_class=StreamingResponse)
    def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
        ctx = context(request)
        question, ticket = start_question(ctx, body.question)
        history = [m.model_dump() for m in body.history]
        events = ctx.events(ticket, question, body.filters, body.top_k, history)
        return StreamingResponse(answer_stream(events), media_type="text/event-stream", headers=STREAM_HEADERS)

    @router.get("/dispatches", summary="Indexed dispatches, newest first, paged and filterable")
    def dispatches(request: Request, q: str = Query("", max_length=200, description="Text in title or body, or an id."),
                   source: list[str] = Query([]), language: list[str] = Query([]),
                   since: date | None = None, until: date | None = None,
                   offset: int = Query(0, ge=0), limit: int = Query(20, ge=1, le=200)) -> dict[str, Any]:
        filters = Filters(since=since, until=until, sources=source, languages=language)
        total, items = context(request).assistant.list_dispatches(q.strip(), filters, offset, limit)
        return {"total": total, "offset": offset, "limit": limit, "items": [dispatch_summary(d) for d in items]}

    @router.get("/dispatches/{doc_id}", summary="One dispatch: metadata, body and sentences with offsets")
    def dispatch(doc_id: str, request: Request) -> dict[str, Any]:
        found = context(request).assistant.dispatch(doc_id)
        if found is None:
            raise HTTPException(404, f"No dispatch with id {doc_id!r}.")
        d, sentences = found
        return {"dispatch": d.model_dump(mode="json", exclude={"content_hash"}),
                "sentences": [s.model_dump(mode="json") for s in sentences]}

    @router.post("/ingest", summary="Upload dispatch files (.txt, .jsonl) and index them",
                 max_body_size=settings.server.max_upload_bytes)
    async def ingest(request: Request, files: list[UploadFile] = File(...)) -> JSONResponse:
        pairs = [(f.filename or "", await f.read()) for f in files]
        results, report = await run_in_threadpool(context(request).ingest_files, pairs)
        ok = all(r.error is None for r in results)
        body = {"ok": ok, "files": [asdict(r) for r in results],
                "report": ({k: v for k, v in asdict(report).items() if k != "errors"} if report else None)}
        return JSONResponse(body, status_code=200 if any(r.error is None for r in results) else 422)

    return router


def healthz(request: Request) -> JSONResponse:
    """Backends and index status; 503 when the vector store is unreachable."""
    ctx = context(request)
    try:
        info = ctx.assistant.status()
    except Exception as exc:  # the catalog itself failing is still an answer
        return JSONResponse({"ok": False, "error": f"{type(exc).__name__}: {exc}"}, status_code=503)
    ok = bool(info["backends"].get("vector_store_ok"))
    info["queue"] = {"in_use": ctx.gate.in_use, "max_waiting": ctx.gate.max_waiting}
    return JSONResponse({"ok": ok, **info}, status_code=200 if ok else 503)
