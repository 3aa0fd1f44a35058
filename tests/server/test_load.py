"""Load: 20 concurrent clients against a real server on loopback for a bounded
time while dispatches are uploaded and indexed. Questions mostly stop before
the model (an empty date range, or off-topic and declined by the relevance
threshold); a few reach the bundled model. Outcomes and latencies are printed
and written to ``tests/artifacts/load_run.json`` (see tests/RELIABILITY.md)."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections import Counter
from datetime import datetime, timezone

import httpx
import pytest

from assistant.settings import EmbedderSettings, LLMSettings
from tests.conftest import CORPUS, make_settings
from tests.server.conftest import LiveServer

DURATION_S = 60
SEED_DOC = "d4d6082e06082f5e"
EMPTY_RANGE = {"since": "1990-01-01", "until": "1990-12-31"}  # nothing is dated then: declined before the model
ON_TOPIC = "Quando saranno dispiegate in Ucraina le forze armate occidentali?"
OFF_TOPIC = ["What is the recipe for a classic carbonara?", "Qual è la ricetta della pastiera napoletana?",
             "How many moons does Jupiter have?"]
MODEL_QUESTIONS = 2
UPLOAD_BATCHES = 6


def records(prefix: str, n: int) -> list[dict]:
    places = ["Roma", "Milano", "Napoli", "Torino", "Bari"]
    return [{"id": f"{prefix}-{i}", "title": f"Notizia {prefix} {i}", "source": "ANSA", "published_at": "2024-03-0"
             f"{1 + i % 9}", "body": f"(ANSA) - {places[i % 5]}, {1 + i % 9} marzo 2024 - Il consiglio comunale "
             f"ha approvato la delibera {prefix}-{i} sul trasporto pubblico. La misura entrerà in vigore entro "
             f"{2 + i % 7} settimane, secondo l'assessore."} for i in range(n)]


def jsonl(recs: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode()


@pytest.fixture(scope="module")
def load_server(tmp_path_factory):
    from assistant.core import Assistant
    from assistant.server.app import build_app

    root = tmp_path_factory.mktemp("load")
    (root / "base.jsonl").write_bytes(jsonl(records("base", 30)))
    helper = Assistant(make_settings(root / "home", embedder=EmbedderSettings(threads=1),
                                     llm=LLMSettings(backend="llamacpp", timeout_s=600)))
    report = helper.ingest([CORPUS, root / "base.jsonl"], progress=False)
    assert report.ok, report.errors
    with LiveServer(build_app(helper, ui=False)) as server:
        yield server


class Log:
    """Thread-safe record of (kind, status, seconds, note)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, float, str]] = []
        self._lock = threading.Lock()

    def add(self, kind: str, status: int, seconds: float, note: str = "") -> None:
        with self._lock:
            self.rows.append((kind, status, seconds, note))


def timed(log: Log, kind: str, send) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        r = send()
    except httpx.HTTPError as exc:
        log.add(kind, -1, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
        return None
    note = ""
    if r.status_code == 503:
        note = "retry-after" if r.headers.get("retry-after", "").isdigit() else "503 without Retry-After"
    elif r.status_code == 200 and kind.startswith("ask"):
        body = r.json()
        note = f"declined:{body['abstain_reason']}" if body["abstained"] else "answered"
    log.add(kind, r.status_code, time.perf_counter() - started, note)
    return r


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


@pytest.mark.slow
@pytest.mark.llm
def test_twenty_clients_during_an_ingest(load_server, artifacts_dir):
    url, log = load_server.url, Log()
    known = [SEED_DOC] + [f"base-{i}" for i in range(30)]
    uploaded: list[str] = []
    stop_at = time.monotonic() + DURATION_S
    model_left = [MODEL_QUESTIONS]
    model_lock = threading.Lock()

    def lookups(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            i = n
            while time.monotonic() < stop_at:
                i += 1
                if i % 2:
                    timed(log, "list", lambda: c.get("/api/dispatches", params={"q": "consiglio", "limit": 20,
                                                                                 "offset": i % 3 * 10}))
                else:
                    r = timed(log, "detail", lambda: c.get(f"/api/dispatches/{known[i % len(known)]}"))
                    assert r is None or r.status_code != 200 or r.json()["sentences"]

    def questions(n: int) -> None:
        with httpx.Client(base_url=url, timeout=700) as c:
            i = n
            while time.monotonic() < stop_at:
                i += 1
                if i % 3 == 0:
                    body = {"question": OFF_TOPIC[i % len(OFF_TOPIC)]}
                    kind = "ask-offtopic"
                else:
                    body = {"question": ON_TOPIC, "filters": EMPTY_RANGE}
                    kind = "ask-empty-range"
                r = timed(log, kind, lambda: c.post("/api/ask", json=body))
                if r is not None and r.status_code == 503:
                    time.sleep(0.5)  # a real client would wait Retry-After; keep the pressure on

    def model_questions() -> None:
        with httpx.Client(base_url=url, timeout=700) as c:
            while time.monotonic() < stop_at:
                with model_lock:
                    if model_left[0] == 0:
                        return
                r = timed(log, "ask-model", lambda: c.post("/api/ask", json={"question": ON_TOPIC}))
                if r is not None and r.status_code == 200:
                    with model_lock:
                        model_left[0] -= 1
                else:
                    time.sleep(1)

    def ingest() -> None:
        with httpx.Client(base_url=url, timeout=600) as c:
            for b in range(UPLOAD_BATCHES):
                recs = records(f"up{b}", 5)
                r = timed(log, "ingest", lambda: c.post("/api/ingest", files=[
                    ("files", (f"batch_{b}.jsonl", jsonl(recs), "application/json"))]))
                if r is not None and r.status_code == 200 and r.json()["ok"]:
                    uploaded.extend(x["id"] for x in recs)
                time.sleep(DURATION_S / (UPLOAD_BATCHES + 2))
            # the first batch again, unchanged: nothing new, nothing duplicated
            timed(log, "ingest", lambda: c.post("/api/ingest", files=[
                ("files", ("batch_0.jsonl", jsonl(records("up0", 5)), "application/json"))]))

    workers = ([threading.Thread(target=lookups, args=(n,)) for n in range(8)]
               + [threading.Thread(target=questions, args=(n,)) for n in range(10)]
               + [threading.Thread(target=model_questions), threading.Thread(target=ingest)])
    assert len(workers) == 20
    started = time.monotonic()
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=DURATION_S + 900)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in workers)

    # --- outcomes -------------------------------------------------------------
    outcomes = Counter((kind, status, note.split(":")[0] if status == -1 else note) for kind, status, _, note in log.rows)
    latency = {kind: {"n": len(v), "p50_ms": round(1000 * statistics.median(v)), "p95_ms":
                      round(1000 * percentile(v, 0.95))}
               for kind in ("list", "detail", "ingest", "ask-empty-range", "ask-offtopic", "ask-model")
               if (v := [s for k, st, s, _ in log.rows if k == kind and st == 200])}
    summary = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "clients": len(workers),
               "duration_s": round(elapsed, 1), "requests": len(log.rows),
               "outcomes": [{"route": k, "status": s, "note": n, "count": c}
                            for (k, s, n), c in sorted(outcomes.items())],
               "latency_200": latency}
    print(json.dumps(summary, indent=1))
    (artifacts_dir / "load_run.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")

    bad = [r for r in log.rows if r[1] == -1 or (r[1] >= 500 and not (r[1] == 503 and r[3] == "retry-after"))]
    assert not bad, bad[:5]
    assert all(r[1] == 200 for r in log.rows if r[0] in ("list", "detail", "ingest")), \
        Counter((r[0], r[1]) for r in log.rows)
    assert all(r[1] in (200, 503) for r in log.rows if r[0].startswith("ask"))
    assert all(r[3] == "declined:no_sources" or r[1] != 200 for r in log.rows if r[0] == "ask-empty-range")
    assert any(r[0] == "ask-model" and r[3] == "answered" for r in log.rows), "no question reached the model"
    assert sum(1 for r in log.rows if r[0] in ("list", "detail")) > 200
    assert len(uploaded) == 5 * UPLOAD_BATCHES

    # --- nothing lost or duplicated ---------------------------------------------
    ctx = load_server.context
    catalog, vectors = ctx.assistant.catalog, ctx.assistant.vectors
    doc_ids = [r["id"] for r in catalog._rows("SELECT id FROM dispatches")]
    assert sorted(doc_ids) == sorted(known + uploaded)
    sentence_ids = [r["id"] for r in catalog._rows("SELECT id FROM sentences")]
    chroma_ids = vectors._collection.get(include=[])["ids"]
    assert len(chroma_ids) == len(set(chroma_ids))
    assert sorted(chroma_ids) == sorted(sentence_ids)
    assert not catalog.pending()
    assert ctx.gate.in_use == 0
