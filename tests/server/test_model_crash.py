"""`assistant serve` outlives its model. The model's child process is killed
with SIGSEGV, then with SIGKILL, in the middle of a streamed answer while
five clients are asking and an upload is being ingested; then stopped with
SIGSTOP. The server stays up, every client gets an answer or a clear 503,
the next question after the restart is answered with valid citations, and
the index equals a clean ingest of the same files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import CORPUS
from tests.server.test_scale_out import Worker
from tests.support.small_corpus import settings_for, snapshot, write_version

pytestmark = [pytest.mark.slow, pytest.mark.llm]

QUESTIONS = ["Quando saranno dispiegate in Ucraina le forze armate occidentali?",
             "Chi ha firmato la dichiarazione di Parigi?",
             "Che cosa prevede la coalizione dei volenterosi?",
             "Dove si è svolto il vertice?",
             "Quali garanzie di sicurezza sono state discusse?"]
STALL_S = 5


def _stream(url: str, question: str, generating: threading.Event | None = None) -> list[dict]:
    """The SSE events of one streamed answer; ``generating`` is set at the first delta."""
    events = []
    with httpx.stream("POST", f"{url}/api/ask/stream", json={"question": question},
                      timeout=httpx.Timeout(900, connect=10)) as response:
        if response.status_code != 200:
            return [{"event": "http", "status": response.status_code, "body": response.read().decode()}]
        name = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append({"event": name, **json.loads(line.split(":", 1)[1])})
                if name == "delta" and generating is not None:
                    generating.set()
    return events


def _model(url: str) -> dict:
    return httpx.get(f"{url}/healthz", timeout=30).json()["backends"]["llm_state"]


def _wait_model(url: str, predicate, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _model(url)
        if predicate(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"model state not reached: {_model(url)}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("model-crash")
    home = base / "home"
    env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_LLM__BACKEND": "llamacpp",
           "ASSISTANT_LLM__TIMEOUT_S": "600", "ASSISTANT_LLM__STALL_S": str(STALL_S),
           "ASSISTANT_LLM__RESTART_BACKOFF_MAX_S": "2", "ASSISTANT_SERVER__MAX_WAITING": "10",
           "ASSISTANT_SERVER__WAIT_TIMEOUT_S": "900", "ASSISTANT_EMBEDDER__THREADS": "1",
           "ASSISTANT_RETRIEVAL__TRANSLATE_QUESTIONS": "false"}
    from assistant.core import Assistant

    seeded = Assistant(settings_for(home))
    assert seeded.ingest([CORPUS], progress=False).ok
    seeded.catalog.close()
    del seeded
    worker = Worker(env, base / "serve.log")
    worker.wait_ready()
    _wait_model(worker.url, lambda s: s["state"] == "up")
    yield {"worker": worker, "base": base, "home": home, "docs": base / "docs", "rounds": []}
    worker.stop()


def _kill_mid_answer(server, sig: signal.Signals, version: int) -> None:
    url = server["worker"].url
    before = _model(url)
    docs = server["docs"]
    write_version(docs, version)
    _write_bulk(docs / "bulk.jsonl", version)  # enough to keep the ingest busy while the model dies
    results: dict[int, list[dict]] = {}
    ingest: dict = {}
    generating = threading.Event()

    def ask(i: int) -> None:
        results[i] = _stream(url, QUESTIONS[i], generating)

    def upload() -> None:
        files = [("files", (p.name, p.read_bytes())) for p in sorted(docs.iterdir())]
        response = httpx.post(f"{url}/api/ingest", files=files, timeout=900)
        ingest["status"], ingest["body"] = response.status_code, response.json()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    # a streamed answer is being generated: the model process is mid-decode
    assert generating.wait(timeout=600), "no answer started"
    uploading = threading.Thread(target=upload)
    uploading.start()
    threads.append(uploading)
    time.sleep(1.5)  # the upload is received and being ingested
    assert ingest == {}, "the ingest should still be running when the model dies"
    os.kill(before["pid"], sig)
    for t in threads:
        t.join(timeout=900)
    assert all(not t.is_alive() for t in threads), "a client never got a reply"
    assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200  # the server stayed up

    outcomes = []
    for i, events in sorted(results.items()):
        last = events[-1]
        if last["event"] == "final":
            outcomes.append("answered")
            assert last["abstained"] or last["citations"], last
        else:
            assert last["event"] == "error" and last["status"] == 503, events[-3:]
            assert "language model is unavailable" in last["message"] and sig.name in last["message"], last
            assert last["fallback"]["citations"], "the most relevant sentences come with the 503"
            outcomes.append("503")
    assert "503" in outcomes, "the answer in flight should have been cut off"
    assert ingest["status"] == 200 and ingest["body"]["ok"], ingest

    after = _wait_model(url, lambda s: s["state"] == "up" and s["pid"] != before["pid"])
    assert after["crashes"] == before["crashes"] + 1 and sig.name in after["last_reason"]
    answer = httpx.post(f"{url}/api/ask", json={"question": QUESTIONS[0]}, timeout=900)
    assert answer.status_code == 200, answer.text
    _assert_valid_citations(url, answer.json())
    server["rounds"].append({"signal": sig.name, "outcomes": outcomes, "model_after": after})


def _write_bulk(path: Path, version: int, n: int = 150) -> None:
    from tests.support.small_corpus import PLACES, TOPICS

    lines = []
    for i in range(n):
        place, topic = PLACES[i % len(PLACES)], TOPICS[(i + version) % len(TOPICS)]
        body = " ".join([f"(ANSA) - {place}, {1 + i % 28} aprile 2024 - La giunta ha approvato {topic} (atto {i})."]
                        + [f"L'atto {i} della versione {version} prevede la fase {k} entro {k + 2} mesi."
                           for k in range(1, 5)])
        lines.append(json.dumps({"id": f"bulk-{i}", "title": f"Atto {i}", "source": "ANSA", "body": body},
                                ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _assert_valid_citations(url: str, body: dict) -> None:
    assert not body["abstained"] and body["citations"], body
    for c in body["citations"]:
        doc = httpx.get(f"{url}/api/dispatches/{c['doc_id']}", timeout=30).json()
        texts = {s["id"]: s["text"] for s in doc["sentences"]}
        assert texts.get(c["sentence_id"]) == c["text"], c


def test_sigsegv_mid_answer_under_load(server):
    _kill_mid_answer(server, signal.SIGSEGV, version=1)


def test_sigkill_mid_answer_under_load(server):
    _kill_mid_answer(server, signal.SIGKILL, version=2)


def test_a_stopped_model_is_detected_within_the_stall_limit(server):
    url = server["worker"].url
    before = _wait_model(url, lambda s: s["state"] == "up")
    generating = threading.Event()
    result: dict = {}

    def ask() -> None:
        result["events"] = _stream(url, QUESTIONS[0], generating)
        result["at"] = time.monotonic()

    t = threading.Thread(target=ask)
    t.start()
    deadline = time.monotonic() + 600
    while not generating.wait(timeout=0.2) and t.is_alive() and time.monotonic() < deadline:
        pass
    assert generating.is_set(), f"no answer started: {result.get('events', [])[-2:]}"
    os.kill(before["pid"], signal.SIGSTOP)
    stopped_at = time.monotonic()
    t.join(timeout=120)
    assert not t.is_alive()
    last = result["events"][-1]
    assert last["event"] == "error" and last["status"] == 503 and "stopped responding" in last["message"]
    assert result["at"] - stopped_at < STALL_S + 5
    after = _wait_model(url, lambda s: s["state"] == "up" and s["pid"] != before["pid"])
    assert "stopped responding" in after["last_reason"]
    answer = httpx.post(f"{url}/api/ask", json={"question": QUESTIONS[0]}, timeout=900)
    assert answer.status_code == 200
    _assert_valid_citations(url, answer.json())


def test_zz_the_index_equals_a_clean_ingest(server, artifacts_dir):
    """After the crashes, the server's index holds exactly what a clean ingest
    of the seed corpus and the uploaded files (their last version) holds."""
    from assistant.core import Assistant

    assert len(server["rounds"]) == 2, "the crash rounds did not run"
    log = server["worker"].stop()
    uploads = server["home"] / "uploads"
    clean_docs = server["base"] / "clean-docs"
    shutil.copytree(uploads, clean_docs)
    served = Assistant(settings_for(server["home"]))
    clean = Assistant(settings_for(server["base"] / "clean-home"))
    assert clean.ingest([CORPUS, clean_docs], progress=False).ok
    got, want = snapshot(served), snapshot(clean)
    for part in want:
        if part != "files":  # the same files, under other folder names
            assert got[part] == want[part], f"{part} differs from a clean ingest"
    assert got["pending"] == []
    assert sorted(Path(p).name for p, *_ in got["files"]) == sorted(Path(p).name for p, *_ in want["files"])
    (artifacts_dir / "model-crash.json").write_text(json.dumps(server["rounds"], indent=2))
    (artifacts_dir / "model-crash-serve.log").write_text(log)
