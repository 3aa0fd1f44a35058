"""Real uvicorn servers on loopback over an index of the seed dispatch plus
one dispatch whose text carries HTML/JS (it must always show as text)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from assistant.settings import LLMSettings
from tests.conftest import CORPUS, make_settings

XSS_DISPATCH = (
    "Ponte sul Ticino <img src=y onerror=\"window.__pwned='title'\">\n"
    "(ANSA) - Pavia, 12 marzo 2026 - Il sindaco di Pavia ha annunciato che i lavori del nuovo ponte sul Ticino "
    "<img src=x onerror=\"window.__pwned='img'\"> dureranno tre anni. "
    "Il progetto <script>window.__pwned='script' costerà 40 milioni di euro <svg onload=\"window.__pwned='svg'\">.\n")
XSS_QUESTION = "Quanto dureranno i lavori del nuovo ponte sul Ticino?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A uvicorn server running an app in a thread."""

    def __init__(self, app):
        import uvicorn

        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.time() + 60
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)

    @property
    def context(self):
        return self.app.state.context


def build_index(home: Path, extra: dict[str, str] | None = None):
    """An Assistant over the seed corpus (and extra files), real embedder."""
    from assistant.core import Assistant

    # a busy shared CPU can make one answer take minutes: a generous model time limit
    helper = Assistant(make_settings(home / "home", llm=LLMSettings(backend="llamacpp", timeout_s=600)))
    paths = [CORPUS]
    for name, text in (extra or {}).items():
        path = home / "extra" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    report = helper.ingest(paths, progress=False)
    assert report.ok, report.errors
    return helper


@pytest.fixture(scope="session")
def served_assistant(tmp_path_factory):
    return build_index(tmp_path_factory.mktemp("served"), {"ponte.txt": XSS_DISPATCH})


@pytest.fixture(scope="session")
def live(served_assistant):
    """The full app (API + UI), no API keys."""
    from assistant.server.app import build_app

    with LiveServer(build_app(served_assistant)) as server:
        yield server


@pytest.fixture(scope="session")
def client(live):
    with httpx.Client(base_url=live.url, timeout=httpx.Timeout(600, connect=10)) as c:
        yield c
