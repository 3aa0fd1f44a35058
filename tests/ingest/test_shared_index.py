"""Several workers on one index, as on several machines: each worker has a
home of its own (nothing of the index on a shared disk) and reaches one
PostgreSQL catalog and one `chroma run` server over loopback.

- two ingest workers started at once on overlapping files leave exactly the
  index a clean ingest gives (no duplicates, no half-written dispatch);
- an ingest worker killed mid-batch (SIGKILL) while another works leaves,
  once the other (and a rerun) finished, the index of a clean ingest;
- a dispatch ingested through one worker is listed and found by another;
- an ingest job of two worker processes does each file once, and a job
  killed half-way is finished by running it again."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from assistant.core import Assistant
from tests.conftest import ROOT
from tests.support.small_corpus import settings_for, snapshot, write_version

pytestmark = pytest.mark.slow


def _home(tmp_path, name: str, catalog: str, chroma: str, prefix: str):
    home = tmp_path / name
    home.mkdir()
    (home / "config.toml").write_text(
        f'[index]\ncatalog = "{catalog}"\nchroma = "{chroma}"\ncollection_prefix = "{prefix}"\n', encoding="utf-8")
    return home


def _ingest(home, *paths) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", "-q", *map(str, paths)], cwd=ROOT,
                            env={**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_EMBEDDER__THREADS": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _snapshot(home, *paths, ingest: bool = False) -> dict:
    helper = Assistant(settings_for(home))
    if ingest:
        report = helper.ingest(list(paths), progress=False)
        assert report.ok, report.errors
    try:
        state = snapshot(helper)
    finally:
        helper.catalog.close()
    return {k: v for k, v in state.items() if k != "files"}  # file records name the worker's own paths


@pytest.fixture
def shared(tmp_path, postgres, chroma_server):
    """A factory of worker homes sharing one new PostgreSQL database and one
    Chroma collection set; and the reference: a clean ingest of version 1."""
    catalog, prefix = postgres.create_database(), f"w{uuid.uuid4().hex[:8]}"
    docs = tmp_path / "docs"
    write_version(docs, 1)
    count = iter(range(100))
    make = lambda: _home(tmp_path, f"worker{next(count)}", catalog, chroma_server, prefix)  # noqa: E731
    reference = _home(tmp_path, "reference", postgres.create_database(), chroma_server, f"r{uuid.uuid4().hex[:8]}")
    return {"make": make, "docs": docs, "reference": _snapshot(reference, docs, ingest=True)}


def _check(state: dict, reference: dict) -> None:
    assert state["pending"] == []
    for part in reference:
        assert state[part] == reference[part], f"{part} differs from a clean ingest"
    ids = [s for s, _ in state["sentences"]]
    assert len(ids) == len(set(ids)) == len(state["vectors"]) > 0


def test_two_workers_ingesting_overlapping_files_at_once_leave_a_clean_index(shared):
    files = sorted(shared["docs"].iterdir())
    first, second = shared["make"](), shared["make"]()
    # each worker has its own copy of the files (its own disk); the copies overlap in two thirds
    for home, chosen in ((first, files[: 2 * len(files) // 3 + 1]), (second, files[len(files) // 3:])):
        (home / "docs").mkdir()
        for path in chosen:
            shutil.copy(path, home / "docs" / path.name)
    procs = [_ingest(first, first / "docs"), _ingest(second, second / "docs")]
    for proc in procs:
        assert proc.wait(timeout=600) == 0, proc.stderr.read().decode()[-2000:]
    _check(_snapshot(shared["make"]()), shared["reference"])


@pytest.mark.parametrize("point", ["ChromaSentences.upsert:after:2", "Catalog.write_dispatches:after:3"])
def test_a_worker_killed_mid_batch_is_repaired_by_the_others(shared, point):
    first, second = shared["make"](), shared["make"]()
    # the first worker kills itself (SIGKILL) at a point inside its writes, while the second ingests the same files
    killed = subprocess.Popen([sys.executable, "-m", "tests.support.crash_ingest", str(first), str(shared["docs"]),
                               point], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    running = _ingest(second, shared["docs"])
    assert killed.wait(timeout=600) == -signal.SIGKILL, f"{point} was not reached"
    assert running.wait(timeout=600) == 0, running.stderr.read().decode()[-2000:]
    # the dead worker's marks are left for whoever ingests next: a rerun on any worker repairs them
    assert _ingest(second, shared["docs"]).wait(timeout=600) == 0
    _check(_snapshot(shared["make"]()), shared["reference"])


def test_a_dispatch_ingested_through_one_worker_is_found_by_another(shared, tmp_path):
    first, second = shared["make"](), shared["make"]()
    extra = tmp_path / "extra.txt"
    extra.write_text("(ANSA) - Trieste, 4 Marzo 2026Il porto di Trieste ha riaperto il molo sette dopo i lavori. "
                     "La riapertura è stata annunciata dall'autorità portuale.\n", encoding="utf-8")
    assert _ingest(first, extra).wait(timeout=600) == 0
    reader = Assistant(settings_for(second))
    total, listed = reader.list_dispatches("molo sette")
    assert total == 1 and listed[0].place == "Trieste"
    hits = reader.retrieve("Quale molo ha riaperto a Trieste?")
    assert hits and hits[0].sentence.doc_id == listed[0].id


def test_an_ingest_job_of_two_workers_does_each_file_once(shared, monkeypatch):
    from assistant.ingest.job import run_job

    home = shared["make"]()
    monkeypatch.setenv("ASSISTANT_HOME", str(home))
    job = run_job([shared["docs"]], workers=2, progress=False, env={"ASSISTANT_EMBEDDER__THREADS": "1"})
    assert job.ok, job.errors
    files = len(list(shared["docs"].iterdir()))
    assert job.totals["files_ingested"] == files  # no file twice
    assert all(w["files_ingested"] >= 1 for w in job.per_worker), job.per_worker  # both did some
    assert job.totals["dispatches_written"] == 40
    _check(_snapshot(shared["make"]()), shared["reference"])


def test_an_ingest_job_stopped_half_way_is_resumed_by_running_it_again(shared):
    home = shared["make"]()
    env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_EMBEDDER__THREADS": "1"}
    job = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", "--workers", "2", "-q",
                            str(shared["docs"])], cwd=ROOT, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    helper = Assistant(settings_for(home))
    deadline = time.monotonic() + 300
    while helper.catalog.stats()["dispatches"] < 8 and time.monotonic() < deadline:  # some files in
        time.sleep(0.2)
    os.killpg(job.pid, signal.SIGKILL)  # the job and its workers, as a power cut would
    job.wait(timeout=60)
    assert helper.catalog.stats()["dispatches"] < 40, "the job finished before it could be stopped"
    helper.catalog.close()
    rerun = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--workers", "2", "-q",
                            str(shared["docs"])], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    _check(_snapshot(shared["make"]()), shared["reference"])


def test_workers_need_a_shared_index(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, ["ingest", "--workers", "2", str(tmp_path)])
    assert result.exit_code == 2 and "needs a shared index" in result.output
