"""Crash safety: ingestion killed with SIGKILL at many points (named points
inside the write sequence, a second kill during recovery, and random delays
on the real CLI), then run again, leaves exactly the index a clean ingest of
the same files gives: same dispatch, sentence and chunk ids, no duplicates,
the lexical (FTS5) and vector (Chroma) indexes holding the same sentences.
The same holds when the kill hits the replacement of changed files, and with
the catalog on PostgreSQL (a real server; each home names its own database)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from assistant.core import Assistant
from assistant.index.embedders import build_embedder
from tests.conftest import ROOT
from tests.support.small_corpus import settings_for, snapshot, write_version

pytestmark = pytest.mark.slow

# (corpus version the killed run ingests, kill point); version 2 runs start from an index of version 1
HOOKED = [
    (1, "Catalog.mark_pending:after:1"),            # pending marked, nothing written yet
    (1, "pipeline.embed_passages:before:3"),        # between files, while embedding
    (1, "ChromaSentences.upsert:after:4"),          # a batch's vectors written, its catalog rows not
    (1, "Catalog.write_dispatches:after:5"),        # catalog rows written, file not recorded
    (1, "Catalog.record_file:after:9"),             # a file recorded, the next one not started
    (2, "ChromaSentences.delete_docs:after:1"),     # old vectors of replaced dispatches gone, new not written
    (2, "ChromaSentences.upsert:after:2"),          # replacement half written (file with changed and dropped)
    (2, "Catalog.write_dispatches:before:1"),       # all new vectors written, catalog still old
    (2, "Catalog.delete_dispatches:before:1"),      # stale dispatches' vectors removed, rows not yet
    (2, "Catalog.record_file:before:2"),            # replacement written, file still recorded as old
]
# real CLI killed after a random delay: (version, rough share of the clean ingest time it had run for)
TIMED = [(1, 0.2), (1, 0.6), (2, 0.2), (2, 0.6)]


def _cli(home, docs) -> tuple[subprocess.Popen, threading.Event]:
    """Start the real CLI; the event is set when it starts ingesting (its
    progress bar appears), i.e. after imports, model and index loading."""
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(docs)], cwd=ROOT,
                            env={**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_EMBEDDER__THREADS": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    started = threading.Event()

    def watch():
        seen = b""
        while chunk := os.read(proc.stderr.fileno(), 4096):
            seen = (seen + chunk)[-200:]
            if b"Ingesting" in seen:
                started.set()
        started.set()

    threading.Thread(target=watch, daemon=True).start()
    return proc, started


def _crash(home, docs, point: str) -> int:
    args = [sys.executable, "-m", "tests.support.crash_ingest", str(home), str(docs), point]
    return subprocess.run(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300).returncode


def _state(home, docs, embedder) -> tuple[dict, object]:
    """Run ingest again in this process (as a user would after the crash) and
    snapshot the index."""
    helper = Assistant(settings_for(home))
    helper.embedder = embedder
    report = helper.ingest([docs], progress=False)
    try:
        return snapshot(helper), report
    finally:
        helper.catalog.close()


def _new_home(world: dict, name: str, copy_of: str | None = None):
    """A home folder; on PostgreSQL with a database of its own (named in its
    config.toml), a copy of ``copy_of``'s when given."""
    home = world["base"] / name
    if copy_of:
        shutil.copytree(world["base"] / copy_of, home)
    else:
        home.mkdir(parents=True)
    if world["postgres"] is not None:
        url = world["postgres"].create_database(template=world["databases"].get(copy_of))
        world["databases"][name] = url
        (home / "config.toml").write_text(f'[index]\ncatalog = "{url}"\n', encoding="utf-8")
    return home


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(tmp_path_factory, request):
    """Reference snapshots of clean ingests of version 1 and 2, and a home
    holding version 1 (ingested by the CLI) to copy for replacement trials."""
    base = tmp_path_factory.mktemp(f"crash-{request.param}")
    docs = base / "docs"
    write_version(docs, 1)
    world = {"base": base, "postgres": request.getfixturevalue("postgres") if request.param == "postgresql" else None,
             "databases": {}}
    proc, started = _cli(_new_home(world, "v1"), docs)
    assert started.wait(timeout=300)
    began = time.monotonic()
    assert proc.wait(timeout=300) == 0
    cli_seconds = time.monotonic() - began  # from the progress bar to the end
    embedder = build_embedder(settings_for(base).embedder)  # one model shared by the in-process runs
    refs = {}
    for version in (1, 2):
        write_version(docs, version)
        refs[version], report = _state(_new_home(world, f"ref{version}"), docs, embedder)
        assert report.ok, report.errors
    write_version(docs, 1)
    world.update({"docs": docs, "refs": refs, "embedder": embedder, "cli_seconds": cli_seconds, "trials": []})
    return world


def _check(world, home, version: int, label: str, outcome: str) -> None:
    state, report = _state(home, world["docs"], world["embedder"])
    assert report.ok, (label, report.errors)
    ref = world["refs"][version]
    for part in ref:
        assert state[part] == ref[part], f"{label}: {part} differs from a clean ingest"
    world["trials"].append({"trial": label, "version": version, "outcome": outcome,
                            "recovered": report.recovered, "written_after": report.dispatches_written})


def _home_for(world, version: int, name: str):
    home = _new_home(world, name, copy_of="v1" if version == 2 else None)
    write_version(world["docs"], version)
    return home


def test_reference_indexes_are_consistent(world):
    for version, ref in world["refs"].items():
        ids = [s for s, _ in ref["sentences"]]
        assert len(ids) == len(set(ids)) > 0 and ref["pending"] == []
        assert sorted(s for s, _ in ref["lexical"]) == ids == [v for v, _ in ref["vectors"]]
        assert dict(ref["vectors"]) == dict(ref["sentences"])  # each vector is of the current sentence text
    assert len(world["refs"][1]["dispatches"]) == 40 and len(world["refs"][2]["dispatches"]) == 38


@pytest.mark.parametrize("version,point", HOOKED, ids=[f"v{v}-{p}" for v, p in HOOKED])
def test_kill_at_named_point_then_rerun_equals_clean_ingest(world, version, point):
    home = _home_for(world, version, f"hook-{version}-{point.replace(':', '-')}")
    code = _crash(home, world["docs"], point)
    assert code == -signal.SIGKILL, f"{point} was not reached (exit {code})"
    _check(world, home, version, f"v{version} {point}", "killed")


def test_second_kill_during_recovery(world):
    home = _home_for(world, 2, "recovery")
    assert _crash(home, world["docs"], "ChromaSentences.upsert:after:3") == -signal.SIGKILL
    # the next run starts by cleaning up; kill it in the middle of that
    assert _crash(home, world["docs"], "ChromaSentences.delete_docs:after:1") == -signal.SIGKILL
    _check(world, home, 2, "v2 killed again during recovery", "killed twice")


@pytest.mark.parametrize("trial", range(len(TIMED)))
def test_cli_killed_after_random_delay_then_rerun_equals_clean_ingest(world, trial):
    version, share = TIMED[trial]
    rng = random.Random(100 + trial)
    span = world["cli_seconds"] * (1.0 if version == 1 else 0.3)  # version 2 rewrites ~1/4 of the corpus
    delay = max(0.1, (share + rng.uniform(-0.15, 0.15)) * span)
    home = _home_for(world, version, f"timed-{trial}")
    proc, started = _cli(home, world["docs"])
    assert started.wait(timeout=300)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    code = proc.wait(timeout=60)
    outcome = "killed" if code == -signal.SIGKILL else f"finished first (exit {code})"
    _check(world, home, version, f"v{version} CLI killed {delay:.1f} s into ingesting", outcome)


def test_zz_report(world, artifacts_dir):
    """Write the trial outcomes for tests/RELIABILITY.md."""
    trials = world["trials"]
    if len(trials) < len(HOOKED) + 1 + len(TIMED):
        pytest.skip("the report needs the whole module")
    name = "crash_trials.json" if world["postgres"] is None else "crash_trials_postgresql.json"
    (artifacts_dir / name).write_text(json.dumps(
        {"cli_clean_seconds": world["cli_seconds"], "trials": trials}, indent=2))
    assert sum(t["outcome"].startswith("killed") for t in trials) >= 10
