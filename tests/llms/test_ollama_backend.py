"""The Ollama backend against a server speaking the Ollama HTTP API that
serves the real bundled model."""

import json
import time

import ollama
import pytest

from assistant.llms.base import LLMError
from assistant.llms.bundled import bundled_model_path
from assistant.llms.factory import resolve_backend
from assistant.llms.ollama_backend import OllamaBackend, probe_ollama
from assistant.settings import LLMSettings, Settings
from tests.support.ollama_server import create_app, free_port, run_server

MODEL = "qwen2.5-coder:1.5b"
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}, "citations": {
    "type": "array", "items": {"type": "integer"}}}, "required": ["citations", "answer"]}
MESSAGES = [{"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "Sources: [1] Rome is the capital of Italy. Question: What is the capital of Italy?"}]


@pytest.fixture(scope="module")
def ollama_url():
    app = create_app({MODEL: bundled_model_path(LLMSettings().models_dir)})
    url, stop = run_server(app)
    yield url
    stop()


@pytest.mark.slow
@pytest.mark.llm
def test_official_client_speaks_to_the_server(ollama_url):
    client = ollama.Client(host=ollama_url)
    assert MODEL in {m.model for m in client.list().models}
    assert client.show(MODEL).details is not None
    reply = client.chat(model=MODEL, messages=MESSAGES, format=SCHEMA, options={"temperature": 0})
    data = json.loads(reply.message.content)
    assert isinstance(data["answer"], str) and isinstance(data["citations"], list)
    pieces = list(client.chat(model=MODEL, messages=MESSAGES, stream=True, options={"num_predict": 20}))
    assert len(pieces) > 2 and pieces[-1].done


@pytest.mark.slow
@pytest.mark.llm
def test_backend_streams_and_follows_schema(ollama_url):
    backend = OllamaBackend(ollama_url, MODEL, timeout_s=120)
    assert backend.check()[0]
    pieces = list(backend.stream(MESSAGES, max_tokens=30))
    assert len(pieces) > 1 and "".join(pieces).strip()
    data = json.loads(backend.chat(MESSAGES, schema=SCHEMA))
    assert {"answer", "citations"} <= data.keys()


def test_probe_and_auto_choice(ollama_url, tmp_path):
    assert probe_ollama(ollama_url, MODEL)[0]
    ok, message = probe_ollama(ollama_url, "missing-model")
    assert not ok and "missing-model" in message
    closed = f"http://127.0.0.1:{free_port()}"
    assert not probe_ollama(closed, MODEL)[0]
    auto = lambda host: Settings(home=tmp_path, llm=LLMSettings(backend="auto", ollama_host=host, ollama_model=MODEL))  # noqa: E731
    assert resolve_backend(auto(ollama_url))[0] == "ollama"
    assert resolve_backend(auto(closed))[0] == "llamacpp"


def test_clear_errors(ollama_url):
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(LLMError, match="not running") as err:
        OllamaBackend(closed, MODEL, timeout_s=5).chat(MESSAGES)
    assert closed in str(err.value)
    with pytest.raises(LLMError, match="ollama pull missing-model"):
        OllamaBackend(ollama_url, "missing-model", timeout_s=5).chat(MESSAGES)


def test_timeout_is_bounded():
    url, stop = run_server(create_app({MODEL: bundled_model_path(LLMSettings().models_dir)}, hang_seconds=5))
    try:
        started = time.monotonic()
        with pytest.raises(LLMError, match="within 1 s"):
            OllamaBackend(url, MODEL, timeout_s=1).chat(MESSAGES)
        assert time.monotonic() - started < 4
    finally:
        stop()
