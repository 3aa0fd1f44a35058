"""The JSON API against a real server: browsing, upload, errors, limits, the model queue.
No language-model calls here (see test_answers.py)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from assistant.settings import LLMSettings, ServerSettings
from tests.conftest import make_settings
from tests.server.conftest import LiveServer, build_index, free_port

pytestmark = pytest.mark.slow


def test_healthz_reports_index_and_backends(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True and body["dispatches"] == 2 and body["sentences"] >= 12
    assert body["backends"]["vector_store_ok"] is True and body["backends"]["llm"] == "llamacpp"
    assert body["queue"]["in_use"] == 0


def test_dispatch_list_filters_and_paging(client):
    everything = client.get("/api/dispatches").json()
    assert everything["total"] == 2 and len(everything["items"]) == 2
    assert "body" not in everything["items"][0]
    rutte = client.get("/api/dispatches", params={"q": "Rutte"}).json()
    assert rutte["total"] == 1 and rutte["items"][0]["agency"] == "AGENPARL"
    assert client.get("/api/dispatches", params={"source": "ANSA"}).json()["total"] == 1
    assert client.get("/api/dispatches", params={"language": "en"}).json()["total"] == 0
    assert client.get("/api/dispatches", params={"since": "2026-03-01"}).json()["total"] == 1
    assert client.get("/api/dispatches", params={"until": "2026-02-28"}).json()["total"] == 1
    page = client.get("/api/dispatches", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["id"] != client.get("/api/dispatches", params={"limit": 1}).json()["items"][0]["id"]


@pytest.mark.parametrize("params", [{"since": "3 feb"}, {"limit": 0}, {"offset": -1}])
def test_dispatch_list_rejects_bad_parameters(client, params):
    r = client.get("/api/dispatches", params=params)
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("Invalid request:")


def test_dispatch_detail_has_sentences_with_offsets(client):
    doc_id = client.get("/api/dispatches", params={"q": "Rutte"}).json()["items"][0]["id"]
    body = client.get(f"/api/dispatches/{doc_id}").json()
    text = body["dispatch"]["body"]
    assert len(body["sentences"]) == 10
    for s in body["sentences"]:
        assert s["id"].startswith(f"{doc_id}-s") and text[s["char_start"]:s["char_end"]] == s["text"]


def test_unknown_dispatch_is_404_json(client):
    r = client.get("/api/dispatches/does-not-exist")
    assert r.status_code == 404
    assert "does-not-exist" in r.json()["error"]["message"]


def test_question_limits(client):
    too_long = client.post("/api/ask", json={"question": "perché " * 400})
    assert too_long.status_code == 422 and "limit is 2000" in too_long.json()["error"]["message"]
    empty = client.post("/api/ask", json={"question": "   "})
    assert empty.status_code == 422 and "empty" in empty.json()["error"]["message"]
    missing = client.post("/api/ask", json={"filters": {}})
    assert missing.status_code == 422 and "question" in missing.json()["error"]["message"]
    bad_filter = client.post("/api/ask", json={"question": "x", "filters": {"since": "ieri"}})
    assert bad_filter.status_code == 422 and "since" in bad_filter.json()["error"]["message"]
    huge = client.post("/api/ask", content=b'{"question": "' + b"a" * 70_000 + b'"}',
                       headers={"content-type": "application/json"})
    assert huge.status_code == 413
    stream_long = client.post("/api/ask/stream", json={"question": "x" * 2001})
    assert stream_long.status_code == 422
    not_user = client.post("/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "hi"}]})
    assert not_user.status_code == 422 and "role 'user'" in not_user.json()["error"]["message"]


def test_upload_saves_inside_the_upload_folder_and_reports_bad_files(client, live):
    good = "(ANSA) - Torino, 5 marzo 2026 - La giunta di Torino ha approvato il nuovo piano per le piste ciclabili."
    files = [("files", ("../../escape-attempt.txt", good.encode(), "text/plain")),
             ("files", ("broken.txt", b"\x00\x01\x02binary\x00" * 50, "text/plain")),
             ("files", ("slides.pdf", b"%PDF-1.4", "application/pdf")),
             ("files", ("empty.jsonl", b"", "application/octet-stream"))]
    r = client.post("/api/ingest", files=files)
    assert r.status_code == 200
    body = r.json()
    results = {f["name"]: f for f in body["files"]}
    assert body["ok"] is False
    assert results["../../escape-attempt.txt"]["error"] is None
    assert results["../../escape-attempt.txt"]["saved_as"] == "escape-attempt.txt"
    assert "binary" in results["broken.txt"]["error"]
    assert ".txt" in results["slides.pdf"]["error"] and results["slides.pdf"]["saved_as"] is None
    assert "empty" in results["empty.jsonl"]["error"]
    upload_dir = live.context.upload_dir
    assert (upload_dir / "escape-attempt.txt").is_file()
    assert not (upload_dir.parent.parent / "escape-attempt.txt").exists()
    assert body["report"]["dispatches_written"] == 1
    found = client.get("/api/dispatches", params={"q": "piste ciclabili"}).json()
    assert found["total"] == 1 and found["items"][0]["place"] == "Torino"
    # everything failing is a 4xx
    r = client.post("/api/ingest", files=[("files", ("x.exe", b"MZ", "application/octet-stream"))])
    assert r.status_code == 422 and r.json()["files"][0]["error"]


def test_upload_over_the_size_limit_is_413(served_assistant):
    from assistant.server.app import build_app

    app = build_app(served_assistant, ui=False, server=ServerSettings(max_upload_bytes=1000))
    with LiveServer(app) as server:
        r = httpx.post(f"{server.url}/api/ingest", files=[("files", ("big.txt", b"a" * 5000, "text/plain"))])
        assert r.status_code == 413


def test_api_keys(served_assistant):
    from assistant.server.app import build_app

    app = build_app(served_assistant, ui=False, server=ServerSettings(api_keys=["k-one", "k-two"]))
    with LiveServer(app) as server:
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/healthz").status_code == 200
            for path in ("/api/dispatches", "/v1/models", "/embed", "/docs", "/openapi.json"):
                missing = c.get(path)
                assert missing.status_code == 401, path
                assert missing.headers["www-authenticate"] == "Bearer"
                assert c.get(path, headers={"Authorization": "Bearer nope"}).status_code == 403, path
                assert c.get(path, headers={"Authorization": "Bearer k-two"}).status_code == 200, path
            assert c.post("/api/ask", json={"question": "x"}).status_code == 401
            assert c.post("/api/ingest", headers={"Authorization": "Bearer bad"},
                          files=[("files", ("a.txt", b"a", "text/plain"))]).status_code == 403
            assert c.get("/embed", params={"key": "k-one"}).status_code == 200
            assert c.get("/embed", params={"key": "wrong"}).status_code == 403
            assert c.get("/api/dispatches", params={"key": "k-one"}).status_code == 401  # ?key= only for pages
            page = c.get("/docs", params={"key": "k-one"})  # the docs page hands its key to the schema
            assert page.status_code == 200 and "/openapi.json?key=k-one" in page.text
            assert "/api/ask/stream" in c.get("/openapi.json", params={"key": "k-one"}).json()["paths"]
            assert c.get("/openapi.json", params={"key": "nope"}).status_code == 403


def test_cors_allowlist(served_assistant):
    from assistant.server.app import build_app

    app = build_app(served_assistant, ui=False, server=ServerSettings(cors_origins=["https://portal.example"]))
    with LiveServer(app) as server:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        ok = httpx.options(f"{server.url}/api/ask/stream", headers={"Origin": "https://portal.example", **preflight})
        assert ok.headers.get("access-control-allow-origin") == "https://portal.example"
        other = httpx.options(f"{server.url}/api/ask/stream", headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers


def test_full_queue_is_503_with_retry_after(served_assistant):
    from assistant.server.app import build_app

    app = build_app(served_assistant, ui=False, server=ServerSettings(max_waiting=0))
    with LiveServer(app) as server:
        held = server.context.gate.ticket()  # someone is using the model
        try:
            for path, body in (("/api/ask", {"question": "Chi è Rutte?"}),
                               ("/api/ask/stream", {"question": "Chi è Rutte?"}),
                               ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Chi è Rutte?"}]})):
                r = httpx.post(f"{server.url}{path}", json=body)
                assert r.status_code == 503, path
                assert int(r.headers["retry-after"]) > 0 and "busy" in r.json()["error"]["message"]
        finally:
            held.release()
        assert server.context.gate.in_use == 0


def test_question_declined_before_the_model_does_not_wait_for_it(served_assistant):
    """While another question holds the model, one that retrieval declines
    (an empty date range) is answered at once instead of queueing behind it."""
    from assistant.server.app import build_app

    app = build_app(served_assistant, ui=False, server=ServerSettings(max_waiting=4, wait_timeout_s=30))
    with LiveServer(app) as server:
        holder = server.context.gate.ticket()
        with holder.turn():  # the model is busy answering someone else
            start = time.perf_counter()
            r = httpx.post(f"{server.url}/api/ask", timeout=20, json={
                "question": "Chi è Rutte?", "filters": {"since": "1990-01-01", "until": "1990-01-02"}})
            waited = time.perf_counter() - start
            assert r.status_code == 200 and r.json()["abstain_reason"] == "no_sources"
            assert waited < 10, f"a declined question waited {waited:.1f} s for the model"
        holder.release()
        assert server.context.gate.in_use == 0


def test_model_down_is_a_readable_503_within_bounded_time(tmp_path):
    """Ollama configured at a port where nothing listens: a clear 503, not a hang or a stack trace."""
    from assistant.core import Assistant
    from assistant.server.app import build_app

    seeded = build_index(tmp_path)
    down = LLMSettings(backend="ollama", ollama_host=f"http://127.0.0.1:{free_port()}", timeout_s=10)
    helper = Assistant(make_settings(seeded.settings.home, llm=down))
    with LiveServer(build_app(helper, ui=False)) as server:
        question = "Quando verranno dispiegate le forze occidentali in Ucraina?"
        started = time.monotonic()
        r = httpx.post(f"{server.url}/api/ask", json={"question": question}, timeout=60)
        assert time.monotonic() - started < 30
        assert r.status_code == 503
        message = r.json()["error"]["message"]
        assert message.startswith("The language model is unavailable") and "127.0.0.1" in message
        assert "Traceback" not in r.text
        with httpx.stream("POST", f"{server.url}/api/ask/stream", json={"question": question}, timeout=60) as s:
            assert s.status_code == 200
            text = "".join(s.iter_text())
        assert "event: error" in text and "unavailable" in text and "event: final" not in text
        error = json.loads(text.split("event: error\ndata: ", 1)[1].split("\n", 1)[0])
        assert error["status"] == 503 and error["fallback"]["abstain_reason"] == "model_unavailable"
        assert error["fallback"]["citations"], "the most relevant sentences travel with the error"
        assert server.context.gate.in_use == 0


def test_ui_asks_for_a_login_when_keys_are_set(served_assistant):
    from assistant.server.app import build_app

    app = build_app(served_assistant, ui=True, server=ServerSettings(api_keys=["k-one"]))
    with LiveServer(app) as server, httpx.Client(base_url=server.url) as c:
        assert c.get("/ui/config").status_code == 401
        assert c.post("/ui/login", data={"username": "anyone", "password": "wrong"}).status_code == 400
        assert c.post("/ui/login", data={"username": "anyone", "password": "k-one"}).status_code == 200
        assert c.get("/ui/config").status_code == 200  # the session cookie now opens the UI
