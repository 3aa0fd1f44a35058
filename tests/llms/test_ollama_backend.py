"""The Ollama backend against a server speaking the Ollama HTTP API that
serves the real bundled model (tests/support/ollama_server.py).

The official ``ollama`` client is run against the server first, so that the
backend tests rest on a server known to speak the API the way Ollama does."""

from __future__ import annotations

import json
import socket
import time

import httpx
import ollama
import pytest

from assistant.llms.base import LLMError
from assistant.llms.factory import resolve_backend
from assistant.llms.ollama_backend import OllamaBackend, probe_ollama
from assistant.settings import LLMSettings, Settings
from tests.support.ollama_server import create_app, run_server

MODEL = "qwen2.5-coder:1.5b"  # the name the ollama_server fixture serves the bundled model under
SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "citations": {"type": "array", "items": {"type": "integer"}},
    },
    "required": ["answer", "citations"],
}
MESSAGES = [
    {"role": "system", "content": "Answer briefly using the numbered sources."},
    {"role": "user", "content": "Sources: [1] Rome is the capital of Italy.\nQuestion: What is the capital of Italy?"},
]
JSON_MESSAGES = [
    {"role": "system", "content": "Reply with a JSON object with keys answer (string) and citations "
                                  "(list of source numbers)."},
    MESSAGES[1],
]


def closed_port_url() -> str:
    """http://127.0.0.1:<port> where nothing listens (bound to port 0, read, closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- the server, via the official client


@pytest.mark.slow  # a real server
def test_official_client_lists_and_shows(ollama_server):
    client = ollama.Client(host=ollama_server)
    listed = client.list().models
    assert [m.model for m in listed] == [MODEL]
    entry = listed[0]
    assert entry.size > 1_000_000_000 and len(entry.digest) == 64 and entry.modified_at is not None
    assert entry.details.format == "gguf" and entry.details.family == "qwen2"
    assert entry.details.quantization_level == "Q4_K_M" and entry.details.parameter_size == "1.5B"

    shown = client.show(MODEL)
    assert shown.details.family == "qwen2" and "completion" in shown.capabilities
    assert shown.modelinfo["general.architecture"] == "qwen2"
    assert "<|im_start|>" in shown.template  # the GGUF's ChatML template

    raw = httpx.get(ollama_server + "/")
    assert raw.status_code == 200 and raw.text == "Ollama is running"
    assert "version" in httpx.get(ollama_server + "/api/version").json()


@pytest.mark.slow  # a real server
def test_official_client_sees_ollama_errors(ollama_server):
    client = ollama.Client(host=ollama_server)
    with pytest.raises(ollama.ResponseError) as err:
        client.chat(model="missing-model", messages=MESSAGES)
    assert err.value.status_code == 404
    assert err.value.error == 'model "missing-model" not found, try pulling it first'
    with pytest.raises(ollama.ResponseError) as err:
        client.show("missing-model")
    assert err.value.status_code == 404
    bad = httpx.post(ollama_server + "/api/chat", json={"messages": MESSAGES})
    assert bad.status_code == 400 and bad.json() == {"error": "model is required"}


@pytest.mark.slow
@pytest.mark.llm
def test_official_client_chat_streaming_and_not(ollama_server):
    client = ollama.Client(host=ollama_server)
    options = {"temperature": 0, "num_predict": 24, "seed": 7}

    parts = list(client.chat(model=MODEL, messages=MESSAGES, stream=True, options=options))
    assert len(parts) > 2
    assert all(not p.done for p in parts[:-1]) and all(p.message.role == "assistant" for p in parts)
    last = parts[-1]
    assert last.done and last.done_reason in ("stop", "length") and last.message.content == ""
    assert last.prompt_eval_count > 0 and 0 < last.eval_count <= 24
    assert last.total_duration >= last.eval_duration > 0
    streamed = "".join(p.message.content for p in parts)
    assert "Rome" in streamed

    whole = client.chat(model=MODEL, messages=MESSAGES, stream=False, options=options)
    assert whole.done and whole.done_reason in ("stop", "length")
    assert whole.message.content == streamed  # temperature 0: same answer either way
    assert whole.prompt_eval_count == last.prompt_eval_count


@pytest.mark.slow
@pytest.mark.llm
def test_official_client_generate(ollama_server):
    client = ollama.Client(host=ollama_server)
    reply = client.generate(model=MODEL, prompt="What is the capital of Italy? One word.",
                            options={"temperature": 0, "num_predict": 8})
    assert reply.done and "Rome" in reply.response
    assert reply.context and reply.prompt_eval_count > 0

    parts = list(client.generate(model=MODEL, prompt="Count: 1, 2, 3,", raw=True, stream=True,
                                 options={"temperature": 0, "num_predict": 3}))
    assert parts[-1].done and parts[-1].done_reason == "length" and parts[-1].eval_count >= 2
    assert "".join(p.response for p in parts).strip().startswith("4")


@pytest.mark.slow
@pytest.mark.llm
def test_official_client_chat_with_schema_format(ollama_server):
    jsonschema = pytest.importorskip("jsonschema")
    client = ollama.Client(host=ollama_server)
    reply = client.chat(model=MODEL, messages=JSON_MESSAGES, format=SCHEMA,
                        options={"temperature": 0, "num_predict": 80})
    data = json.loads(reply.message.content)
    jsonschema.validate(data, SCHEMA)

    loose = client.chat(model=MODEL, messages=JSON_MESSAGES, format="json",
                        options={"temperature": 0, "num_predict": 80})
    assert isinstance(json.loads(loose.message.content), dict)


# --------------------------------------------------------------------------- the backend


@pytest.mark.slow
@pytest.mark.llm
def test_backend_streams_piece_by_piece(ollama_server):
    backend = OllamaBackend(LLMSettings(ollama_host=ollama_server, ollama_model=MODEL, max_tokens=32, timeout_s=120))
    assert backend.check() == (True, f"Ollama at {ollama_server} has {MODEL}")
    pieces = list(backend.stream(MESSAGES))
    assert len(pieces) > 1 and all(isinstance(p, str) and p for p in pieces)
    assert "Rome" in "".join(pieces)


@pytest.mark.slow
@pytest.mark.llm
def test_backend_chat_follows_schema(ollama_server):
    backend = OllamaBackend(LLMSettings(ollama_host=ollama_server, ollama_model=MODEL, max_tokens=80, timeout_s=120))
    data = json.loads(backend.chat(JSON_MESSAGES, schema=SCHEMA))
    assert {"answer", "citations"} <= data.keys()
    assert isinstance(data["answer"], str) and all(isinstance(c, int) for c in data["citations"])


@pytest.mark.slow
@pytest.mark.llm
def test_backend_per_call_max_tokens_reaches_the_server(ollama_app, ollama_server):
    backend = OllamaBackend(LLMSettings(ollama_host=ollama_server, ollama_model=MODEL, max_tokens=12, timeout_s=120))
    marker = f"request-{time.monotonic_ns()}"
    backend.chat([{"role": "user", "content": f"Write a long story about a cat. ({marker})"}], max_tokens=3)
    sent = next(body for body in reversed(ollama_app.state.received) if marker in json.dumps(body["messages"]))
    assert sent["options"]["num_predict"] == 3, sent["options"]


@pytest.mark.slow
@pytest.mark.llm
def test_backend_reads_first_token_log_probabilities(ollama_server, bundled_gguf):
    """The citation judgement's yes/no probabilities come through the official client."""
    from assistant.answering.judge import yes_probability
    from assistant.llms.llamacpp import LlamaCppBackend

    backend = OllamaBackend(LLMSettings(ollama_host=ollama_server, ollama_model=MODEL, timeout_s=120))
    messages = [{"role": "user", "content": "Is Rome the capital of Italy? Reply with one word: yes or no."}]
    top = backend.next_token_logprobs(messages, top=10)
    assert top and len(top) <= 10 and all(lp <= 0.0 for lp in top.values())
    assert yes_probability(top) > 0.5
    here = LlamaCppBackend(bundled_gguf, LLMSettings(context_window=1024, max_tokens=8))
    try:
        mine = here.next_token_logprobs(messages, top=10)
    finally:
        del here
    assert max(mine, key=mine.get) == max(top, key=top.get)  # the same greedy first token


@pytest.mark.slow  # a real server
def test_probe_ollama(ollama_server):
    assert probe_ollama(ollama_server, MODEL, timeout=2.0) == (True, f"Ollama at {ollama_server} has {MODEL}")

    ok, message = probe_ollama(ollama_server, "missing-model", timeout=2.0)
    assert not ok
    assert "missing-model" in message and MODEL in message  # says what it has instead

    closed = closed_port_url()
    started = time.monotonic()
    ok, message = probe_ollama(closed, MODEL, timeout=2.0)
    assert not ok and closed in message and "not reachable" in message
    assert time.monotonic() - started < 2.0


@pytest.mark.slow  # a real server
def test_resolve_backend_auto(ollama_server, tmp_path):
    def auto(host: str) -> Settings:
        return Settings(home=tmp_path / "home", llm=LLMSettings(backend="auto", ollama_host=host, ollama_model=MODEL,
                                                                probe_timeout_s=2.0))

    backend, reason = resolve_backend(auto(ollama_server))
    assert backend == "ollama" and MODEL in reason

    closed = closed_port_url()
    backend, reason = resolve_backend(auto(closed))
    assert backend == "llamacpp" and closed in reason and "bundled" in reason


# --------------------------------------------------------------------------- clear errors


def test_closed_port_says_not_running():
    closed = closed_port_url()
    backend = OllamaBackend(LLMSettings(ollama_host=closed, ollama_model=MODEL, timeout_s=5))
    assert backend.check()[0] is False
    with pytest.raises(LLMError) as err:
        backend.chat(MESSAGES)
    assert closed in str(err.value) and "not running" in str(err.value)


@pytest.mark.slow  # a real server
def test_missing_model_suggests_pull(ollama_server):
    backend = OllamaBackend(LLMSettings(ollama_host=ollama_server, ollama_model="missing-model", timeout_s=10))
    assert backend.check()[0] is False
    with pytest.raises(LLMError) as err:
        backend.chat(MESSAGES)
    message = str(err.value)
    assert "missing-model" in message and "ollama pull missing-model" in message and ollama_server in message


@pytest.mark.slow  # a real server
def test_timeout_is_bounded(bundled_gguf):
    url, stop = run_server(create_app({MODEL: bundled_gguf}, hang_seconds=5))
    try:
        backend = OllamaBackend(LLMSettings(ollama_host=url, ollama_model=MODEL, timeout_s=1))
        started = time.monotonic()
        with pytest.raises(LLMError) as err:
            backend.chat(MESSAGES)
        elapsed = time.monotonic() - started
        assert elapsed < 4, f"took {elapsed:.1f} s with timeout_s=1"
        message = str(err.value)
        assert "within 1 s" in message and "TIMEOUT_S" in message and url in message and MODEL in message
    finally:
        stop()
