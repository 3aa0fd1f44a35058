"""The OpenAI-compatible backend against llama-cpp-python's own server
(``python -m llama_cpp.server``) serving the bundled model, and against a
closed port and a server that never answers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.answering.events import Delta, Final
from assistant.llms.base import LLMError
from assistant.llms.openai_backend import OpenAIBackend
from assistant.settings import LLMSettings, VerificationSettings
from tests.conftest import CORPUS, make_settings
from tests.support.ollama_server import free_port
from tests.support.processes import wait_for_http

MODEL_ALIAS = "qwen-coder-1.5b"
SEED_QUESTION = "Quando saranno dispiegate in Ucraina le forze armate occidentali?"
SEED_DOC = "d4d6082e06082f5e"


@pytest.fixture(scope="module")
def llama_server(bundled_gguf: Path, tmp_path_factory):
    """Base URL (``.../v1``) of llama-cpp-python's OpenAI-compatible server on loopback."""
    pytest.importorskip("sse_starlette", reason="llama-cpp-python[server] extras (the test extra) not installed")
    port = free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf), "--model_alias", MODEL_ALIAS,
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    if not wait_for_http(f"{url}/models", proc, timeout_s=180):
        proc.kill()
        pytest.fail(f"llama_cpp.server did not start (see {log.name})")
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def openai_settings(home: Path, base_url: str, timeout_s: float = 600):
    """The OpenAI-compatible backend, with the citation judgement on (it reads top_logprobs)."""
    return make_settings(home, llm=LLMSettings(backend="openai", openai_base_url=base_url,
                                               openai_model=MODEL_ALIAS, timeout_s=timeout_s),
                         verification=VerificationSettings(question_judge=True))


@pytest.mark.slow
@pytest.mark.llm
def test_seed_question_through_the_assistant_streams_a_cited_answer(llama_server, tmp_path):
    from assistant.core import Assistant

    helper = Assistant(openai_settings(tmp_path / "home", llama_server))
    assert helper.ingest([CORPUS], progress=False).ok
    events = list(helper.ask_events(SEED_QUESTION))
    deltas = [e for e in events if isinstance(e, Delta)]
    final = events[-1]
    assert isinstance(final, Final)
    answer = final.answer
    assert len(deltas) >= 3, "the answer should arrive in pieces"
    assert "openai-compatible" in answer.backend
    assert not answer.abstained, answer.public()
    assert answer.citations, answer.public()
    assert all(c.doc_id == SEED_DOC for c in answer.citations)
    # the schema was sent in a form the server accepts (llama-cpp-python takes json_object + schema)
    assert helper.llm().schema_form in ("json_schema", "json_object")
    # the server returns top_logprobs: the citations were judged against the question
    assert answer.judged and all(0.0 <= p <= 1.0 for p in answer.judged.values())


def _settings(url: str, **kw) -> LLMSettings:
    """The model settings of a backend at ``url`` (no key needed)."""
    return LLMSettings(openai_base_url=url, openai_model=MODEL_ALIAS, openai_api_key="unused", **kw)


@pytest.mark.slow
@pytest.mark.llm
def test_first_token_log_probabilities_come_from_the_server(llama_server):
    from assistant.answering.judge import yes_probability

    backend = OpenAIBackend(_settings(llama_server, max_tokens=8, timeout_s=600))
    top = backend.next_token_logprobs([{"role": "user", "content": "Is Rome in Italy? Reply yes or no."}], top=5)
    assert top and len(top) <= 5 and all(lp <= 0.0 for lp in top.values())
    assert yes_probability(top) > 0.5


@pytest.mark.slow
@pytest.mark.llm
def test_json_schema_output_is_valid_json(llama_server):
    backend = OpenAIBackend(_settings(llama_server, max_tokens=80, timeout_s=600))
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "year": {"type": "integer"}},
              "required": ["city", "year"], "additionalProperties": False}
    text = backend.chat([{"role": "user", "content": "Rome was founded in 753 BC. Reply in JSON with the city "
                                                     "and the year (negative for BC)."}], schema=schema)
    data = json.loads(text)
    assert set(data) == {"city", "year"}
    assert isinstance(data["city"], str) and isinstance(data["year"], int)
    assert backend.schema_form in ("json_schema", "json_object")


@pytest.mark.slow
def test_server_down_gives_a_clear_error_and_the_fallback_quickly(seed_assistant, tmp_path):
    from assistant.answering.service import ModelUnavailable
    from assistant.core import Assistant

    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    backend = OpenAIBackend(_settings(url, timeout_s=5))
    started = time.monotonic()
    with pytest.raises(LLMError, match="Cannot reach the OpenAI-compatible server at http://127.0.0.1"):
        backend.chat([{"role": "user", "content": "hello"}])
    assert time.monotonic() - started < 10

    helper = Assistant(seed_assistant.settings.model_copy(update={"llm": LLMSettings(
        backend="openai", openai_base_url=url, openai_model=MODEL_ALIAS, timeout_s=5)}))
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        helper.ask(SEED_QUESTION)
    assert time.monotonic() - started < 60  # retrieval included, on a shared CPU
    assert url in str(caught.value)
    assert any(c.doc_id == SEED_DOC for c in caught.value.fallback.citations)


def test_server_that_never_answers_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # read nothing, answer nothing
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        backend = OpenAIBackend(_settings(url, timeout_s=2))
        started = time.monotonic()
        with pytest.raises(LLMError, match="did not answer within 2 s"):
            backend.chat([{"role": "user", "content": "hello"}])
        assert time.monotonic() - started < 8
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_response_format_forms():
    from assistant.llms.openai_backend import response_format

    schema = {"type": "object"}
    assert response_format("json_schema", schema)["json_schema"]["schema"] == schema
    assert response_format("json_object", schema) == {"type": "json_object", "schema": schema}
    assert response_format("none", schema) is None


def test_factory_passes_every_setting_to_the_openai_backend():
    from assistant.llms import build_llm

    settings = make_settings(Path("/nonexistent"), llm=LLMSettings(
        backend="openai", openai_base_url="http://127.0.0.1:9/v1", openai_model="m", context_window=16384,
        max_tokens=123, timeout_s=7))
    backend = build_llm(settings)
    assert isinstance(backend, OpenAIBackend)
    assert backend._llm.context_window == 16384 and backend._llm.max_tokens == 123 and backend.timeout_s == 7
