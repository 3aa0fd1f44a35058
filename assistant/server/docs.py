"""The OpenAPI schema and its documentation page, behind the API keys like
every other route. A browser opens ``/docs?key=<key>``; the page passes the
key on to ``/openapi.json``."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse


def build_docs_router() -> APIRouter:
    """``GET /openapi.json`` and ``GET /docs`` (add the key dependency when including it)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    def openapi(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @router.get("/docs")
    def docs(request: Request) -> HTMLResponse:
        key = request.query_params.get("key")
        schema = "/openapi.json" + (f"?key={quote(key, safe='')}" if key else "")
        return get_swagger_ui_html(openapi_url=schema, title=f"{request.app.title} – API")

    return router
