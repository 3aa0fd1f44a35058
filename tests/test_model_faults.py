"""A model that cannot answer gives a clear message within the timeout, and the
CLI falls back to the most relevant source sentences, labelled as such:
corrupt or missing bundled model file, Ollama not running, Ollama hanging."""

from __future__ import annotations

import json
import socket
import time

import pytest
from typer.testing import CliRunner

from assistant.cli import app

pytestmark = pytest.mark.slow  # a real embedding model

QUESTION = "Quando saranno dispiegate in Ucraina le forze armate occidentali?"


@pytest.fixture
def cli(seed_assistant, monkeypatch):
    monkeypatch.setenv("ASSISTANT_HOME", str(seed_assistant.settings.home))

    def run(*args: str, **env: str):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        started = time.perf_counter()
        result = CliRunner().invoke(app, list(args), catch_exceptions=False)
        return result, time.perf_counter() - started

    return run


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_sources_only(output: str) -> None:
    data = json.loads(output[output.index("{"):])
    assert data["abstained"] is True and data["abstain_reason"] == "model_unavailable"
    assert "senza una risposta generata" in data["answer"]
    assert 1 <= len(data["citations"]) <= 3
    assert data["citations"][0]["sentence_id"].startswith("d4d6082e06082f5e-s")


def test_corrupt_model_file(cli, tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"this is not a model" * 100)
    result, seconds = cli("ask", "--json", QUESTION, ASSISTANT_LLM__BACKEND="llamacpp",
                          ASSISTANT_LLM__MODEL_PATH=str(bad))
    assert result.exit_code == 3
    assert "unavailable" in result.output and str(bad) in result.output.replace("\n", "")
    _assert_sources_only(result.output)
    assert seconds < 30


def test_missing_model_file(cli, tmp_path):
    result, _ = cli("ask", QUESTION, ASSISTANT_LLM__BACKEND="llamacpp",
                    ASSISTANT_LLM__MODEL_PATH=str(tmp_path / "absent.gguf"))
    assert result.exit_code == 3 and "absent.gguf" in result.output.replace("\n", "")
    assert "senza una risposta generata" in result.output  # the labelled fallback is printed
    assert "[1]" in result.output


def test_ollama_not_running(cli):
    result, seconds = cli("ask", "--json", QUESTION, ASSISTANT_LLM__BACKEND="ollama",
                          ASSISTANT_LLM__OLLAMA_HOST=f"http://127.0.0.1:{_closed_port()}",
                          ASSISTANT_LLM__TIMEOUT_S="5")
    assert result.exit_code == 3 and "ollama" in result.output.lower()
    _assert_sources_only(result.output)
    assert seconds < 15


def test_ollama_hanging_past_the_timeout(cli):
    """A server that accepts the connection and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        result, seconds = cli("ask", "--json", QUESTION, ASSISTANT_LLM__BACKEND="ollama",
                              ASSISTANT_LLM__OLLAMA_HOST=f"http://127.0.0.1:{port}", ASSISTANT_LLM__TIMEOUT_S="3")
    assert result.exit_code == 3
    _assert_sources_only(result.output)
    assert seconds < 15  # bounded by the configured timeout, not hanging
