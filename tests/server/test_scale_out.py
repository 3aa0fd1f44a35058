"""Scale-out: two `assistant serve` processes on different ports share one
index and one Chroma server (ASSISTANT_INDEX__CHROMA=host:port): on one
machine through the same ASSISTANT_HOME (the SQLite catalog, WAL mode, and
the upload folder); as on several machines with homes of their own and one
PostgreSQL catalog (ASSISTANT_INDEX__CATALOG). A dispatch uploaded through
either is found, listed, retrieved and answered through the other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEED
from tests.server.conftest import free_port
from tests.support.processes import wait_for_http

pytestmark = pytest.mark.slow
KEY = "scale-out-key-3f9a"
AUTH = {"Authorization": f"Bearer {KEY}"}
BRIDGE = {"id": "scale-bridge", "title": "Stretto di Messina", "source": "ANSA", "published_at": "2026-02-10",
          "body": "(ANSA) - Messina, 10 febbraio 2026 - Il ministro delle Infrastrutture ha annunciato che il ponte "
                  "sullo Stretto di Messina sarà completato nel 2033. I lavori costeranno 13,5 miliardi di euro."}
FERRY = {"id": "scale-ferry", "title": "Traghetti", "source": "ANSA", "published_at": "2026-02-11",
         "body": "(ANSA) - Reggio Calabria, 11 febbraio 2026 - Le corse dei traghetti tra Reggio Calabria e Messina "
                 "saranno raddoppiate da aprile. La compagnia assumerà 120 marinai."}


class Worker:
    """`assistant serve` in a subprocess with the given environment."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        exe = Path(sys.executable).parent / "assistant"
        self._out = log.open("w")
        self.proc = subprocess.Popen([str(exe), "serve", "--port", str(self.port)], env=env, stdout=self._out,
                                     stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 180) -> None:
        if not wait_for_http(f"{self.url}/healthz", self.proc, timeout_s):
            raise RuntimeError(f"assistant serve did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()
        return self.log.read_text()


@pytest.fixture(scope="module", params=["shared-home", "postgresql"])
def workers(chroma_server, tmp_path_factory, request):
    root = tmp_path_factory.mktemp(f"scale-out-{request.param}")
    env = {**os.environ, "ASSISTANT_HOME": str(root / "home"), "ASSISTANT_INDEX__CHROMA": chroma_server,
           "ASSISTANT_INDEX__COLLECTION_PREFIX": f"scaleout_{request.param.replace('-', '_')}",
           "ASSISTANT_LLM__BACKEND": "llamacpp",
           "ASSISTANT_LLM__TIMEOUT_S": "600", "ASSISTANT_EMBEDDER__THREADS": "1",
           "ASSISTANT_SERVER__API_KEYS": json.dumps([KEY])}
    envs = {n: env for n in "ab"}
    if request.param == "postgresql":  # nothing shared on disk: each worker its own home
        catalog = request.getfixturevalue("postgres").create_database()
        envs = {n: {**env, "ASSISTANT_HOME": str(root / f"home-{n}"), "ASSISTANT_INDEX__CATALOG": catalog}
                for n in "ab"}
    started = [Worker(envs[n], root / f"worker-{n}.log") for n in "ab"]
    try:
        for w in started:
            w.wait_ready()
        yield started
    finally:
        logs = [w.stop() for w in started]
        for text in logs:  # the API key is never written to the server log
            assert KEY not in text


def upload(worker: Worker, name: str, record: dict) -> httpx.Response:
    return httpx.post(f"{worker.url}/api/ingest", headers=AUTH, timeout=300,
                      files=[("files", (name, (json.dumps(record) + "\n").encode(), "application/json"))])


def test_a_dispatch_uploaded_to_one_worker_is_found_through_the_other(workers):
    a, b = workers
    r = httpx.post(f"{a.url}/api/ingest", headers=AUTH, timeout=300,
                   files=[("files", ("seed.txt", SEED.read_bytes(), "text/plain"))])
    assert r.status_code == 200 and r.json()["ok"], r.text
    assert upload(a, "bridge.jsonl", BRIDGE).json()["ok"]

    detail = httpx.get(f"{b.url}/api/dispatches/scale-bridge", headers=AUTH, timeout=30)
    assert detail.status_code == 200
    assert [s["id"] for s in detail.json()["sentences"]] == ["scale-bridge-s000", "scale-bridge-s001"]
    listed = httpx.get(f"{b.url}/api/dispatches", params={"q": "Messina"}, headers=AUTH, timeout=30).json()
    assert [d["id"] for d in listed["items"]] == ["scale-bridge"]
    health = httpx.get(f"{b.url}/healthz", timeout=30).json()
    assert health["dispatches"] == 2 and health["backends"]["vectors"] == health["sentences"]


@pytest.mark.llm
def test_the_other_worker_answers_from_the_new_dispatch(workers):
    a, b = workers
    if httpx.get(f"{b.url}/api/dispatches/scale-bridge", headers=AUTH, timeout=30).status_code != 200:
        assert upload(a, "bridge.jsonl", BRIDGE).json()["ok"]
    r = httpx.post(f"{b.url}/api/ask", headers=AUTH, timeout=700,
                   json={"question": "Quando sarà completato il ponte sullo Stretto di Messina?"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert not answer["abstained"], answer
    assert answer["citations"] and {c["doc_id"] for c in answer["citations"]} == {"scale-bridge"}


def test_uploads_to_both_workers_at_once_are_all_indexed(workers):
    a, b = workers
    results: dict[str, httpx.Response] = {}
    threads = [threading.Thread(target=lambda w=w, rec=rec: results.__setitem__(rec["id"], upload(w, f"{rec['id']}.jsonl", rec)))
               for w, rec in ((a, FERRY), (b, {**BRIDGE, "id": "scale-bridge-2", "body": BRIDGE["body"] + " Fine."}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert all(r.status_code == 200 and r.json()["ok"] for r in results.values()), {k: v.text for k, v in results.items()}
    for w in (a, b):
        for doc in ("scale-ferry", "scale-bridge-2"):
            assert httpx.get(f"{w.url}/api/dispatches/{doc}", headers=AUTH, timeout=30).status_code == 200
    health = [httpx.get(f"{w.url}/healthz", timeout=30).json() for w in (a, b)]
    assert health[0]["dispatches"] == health[1]["dispatches"]
    assert health[0]["backends"]["vectors"] == health[0]["sentences"]
    # wrong and missing keys are refused by both; the key is checked, never logged (see the fixture)
    for w in (a, b):
        assert httpx.get(f"{w.url}/api/dispatches", timeout=30).status_code == 401
        assert httpx.get(f"{w.url}/api/dispatches", headers={"Authorization": "Bearer nope"}, timeout=30).status_code == 403
        assert httpx.get(f"{w.url}/embed", params={"key": KEY}, timeout=30).status_code == 200
