"""`assistant serve` as a user runs it: a subprocess answering on the configured port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import build_index, free_port

pytestmark = pytest.mark.slow


def test_assistant_serve_starts_the_api_and_the_ui(tmp_path):
    seeded = build_index(tmp_path)
    port = free_port()
    env = {**os.environ, "ASSISTANT_HOME": str(seeded.settings.home), "ASSISTANT_LLM__BACKEND": "llamacpp"}
    exe = Path(sys.executable).parent / "assistant"
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"assistant serve did not start: {proc.stdout.read() if proc.poll() is not None else ''}")
                time.sleep(0.5)
        assert health.status_code == 200 and health.json()["dispatches"] == 1
        assert httpx.get(f"http://127.0.0.1:{port}/ui/", timeout=30).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30, follow_redirects=False).headers["location"] == "/ui/"
        assert "/api/ask/stream" in httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=30).json()["paths"]
        assert httpx.get(f"http://127.0.0.1:{port}/docs", timeout=30).status_code == 200
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/ui/" in output
