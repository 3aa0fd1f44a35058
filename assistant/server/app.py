"""The one server: FastAPI (JSON API, OpenAI-compatible API, /embed, /healthz)
with the Gradio UI mounted at /ui, all sharing one Assistant."""

from __future__ import annotations

import logging
import threading

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse

from assistant.core import Assistant
from assistant.server.api import build_api_router, healthz
from assistant.server.auth import redact_keys, require_key, ui_login
from assistant.server.context import ServerContext
from assistant.server.docs import build_docs_router
from assistant.server.embed import build_embed_router
from assistant.server.openai_compat import build_openai_router
from assistant.settings import ServerSettings, Settings

log = logging.getLogger(__name__)
UI_PATH = "/ui"


def error_body(status: int, message: str) -> dict:
    """One error shape for every route (OpenAI clients read ``error.message``)."""
    return {"error": {"message": message, "type": "invalid_request_error" if status < 500 else "server_error",
                      "code": status}, "detail": message}


def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse(error_body(exc.status_code, str(exc.detail)), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
        parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
    return JSONResponse(error_body(422, "Invalid request: " + "; ".join(parts)), status_code=422)


def build_app(assistant: Assistant | None = None, settings: Settings | None = None, ui: bool = True,
              server: ServerSettings | None = None) -> FastAPI:
    """The FastAPI app; ``ui=False`` leaves out the Gradio UI; ``server``
    overrides the assistant's server settings (keys, limits)."""
    assistant = assistant or Assistant(settings or Settings())
    ctx = ServerContext(assistant, server)
    settings = assistant.settings.model_copy(update={"server": ctx.server})
    app = FastAPI(title="Dispatch Assistant", version="0.1.0",
                  description="Questions about news dispatches answered with citations to source sentences. "
                              "When API keys are configured, send `Authorization: Bearer <key>`.",
                  docs_url=None, redoc_url=None, openapi_url=None)  # served by build_docs_router, keyed
    app.state.context = ctx
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    if settings.server.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.server.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    keyed = [Depends(require_key)]
    app.include_router(build_api_router(settings), dependencies=keyed)
    app.include_router(build_openai_router(settings), dependencies=keyed)
    app.include_router(build_embed_router(), dependencies=keyed)
    app.include_router(build_docs_router(), dependencies=keyed)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"], summary="Backends and index status")

    if ui:
        import gradio as gr

        from assistant.server.render import CSS
        from assistant.server.ui import build_ui

        @app.get("/", include_in_schema=False)
        def home() -> RedirectResponse:
            return RedirectResponse(f"{UI_PATH}/")

        keys = settings.server.api_keys
        gr.mount_gradio_app(app, build_ui(ctx), path=UI_PATH, css=CSS, footer_links=["api"],
                            auth=ui_login(keys) if keys else None,
                            auth_message="Sign in with any user name and an API key as the password." if keys else None,
                            max_file_size=settings.server.max_upload_bytes, ssr_mode=False)
    return app


def preload(assistant: Assistant) -> threading.Thread:
    """Load the embedder and the language model in the background, so the
    first question does not pay for it."""
    def run() -> None:
        try:
            assistant.embedder  # noqa: B018
            assistant.llm()
            log.info("models loaded")
        except Exception as exc:  # the first question will report it readably
            log.warning("preloading the models failed: %s", exc)
    thread = threading.Thread(target=run, name="preload-models", daemon=True)
    thread.start()
    return thread


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """Run the server with uvicorn until interrupted."""
    import uvicorn

    assistant = Assistant(settings or Settings())
    server = assistant.settings.server
    app = build_app(assistant)
    preload(assistant)
    config = uvicorn.Config(app, host=host or server.host, port=port or server.port, log_level="info")
    logging.getLogger("uvicorn.access").addFilter(redact_keys)  # after Config set up logging
    uvicorn.Server(config).run()
