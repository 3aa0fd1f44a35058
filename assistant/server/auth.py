"""API keys: when ``server.api_keys`` is set, requests need
``Authorization: Bearer <key>`` (401 when missing, 403 when wrong)."""

from __future__ import annotations

import hmac
import logging
import re

from fastapi import HTTPException, Request

#: pages opened by a browser, which take the key as ``?key=``
KEY_IN_URL = ("/embed", "/docs", "/openapi.json")
_KEY_PARAM = re.compile(r"([?&]key=)[^&\s]*")


def key_matches(candidate: str, keys: list[str]) -> bool:
    """Constant-time comparison against every configured key."""
    return any(hmac.compare_digest(candidate.encode(), k.encode()) for k in keys)


def presented_key(request: Request) -> str | None:
    """The bearer token of a request (or ``?key=`` for pages a browser opens:
    /embed in an iframe, the API docs)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query_params.get("key") if request.url.path in KEY_IN_URL else None


def require_key(request: Request) -> None:
    """FastAPI dependency enforcing the configured API keys."""
    keys = request.app.state.context.server.api_keys
    if not keys:
        return
    key = presented_key(request)
    if key is None:
        raise HTTPException(401, "An API key is required: send 'Authorization: Bearer <key>'.",
                            headers={"WWW-Authenticate": "Bearer"})
    if not key_matches(key, keys):
        raise HTTPException(403, "The API key is not valid.")


def ui_login(keys: list[str]):
    """Gradio ``auth`` callable: any user name, an API key as the password."""
    def check(username: str, password: str) -> bool:
        return bool(password) and key_matches(password, keys)
    return check


def redact_keys(record: logging.LogRecord) -> bool:
    """Logging filter: ``?key=...`` in an access-log line (the key of a page a
    browser opens, see ``KEY_IN_URL``) is written as ``key=***``."""
    if isinstance(record.args, tuple):
        record.args = tuple(_KEY_PARAM.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
    return True
