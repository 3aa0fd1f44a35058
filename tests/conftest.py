"""Shared fixtures: settings on a temporary home, the shared data folder,
real models loaded once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import assistant  # noqa: F401  (offline environment defaults)
from assistant.settings import LLMSettings, RetrievalSettings, Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
CORPUS = ROOT / "corpus"
SEED = CORPUS / "000_14651c197d909f09.txt"


def shared(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path} (tests read ../shared/data beside the project)")
    return path


def make_settings(home: Path, **overrides) -> Settings:
    """Settings for a test: index under ``home``, bundled LLM, no Ollama probing; a
    generous model timeout, since a loaded 2-core machine can be slow (the timeout
    itself is tested on its own); no question translation unless ``retrieval`` says so."""
    llm = overrides.pop("llm", LLMSettings(backend="llamacpp", timeout_s=600))
    # retrieval tests run without model calls: questions are searched as asked
    # (translation has its own tests, tests/query/test_translate.py)
    retrieval = overrides.pop("retrieval", RetrievalSettings(translate_questions=False))
    return Settings(home=home, llm=llm, retrieval=retrieval, **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


@pytest.fixture(scope="session")
def seed_assistant(tmp_path_factory):
    """An Assistant with the seed dispatch ingested (real embedder)."""
    from assistant.core import Assistant

    helper = Assistant(make_settings(tmp_path_factory.mktemp("seed") / "home"))
    report = helper.ingest([CORPUS], progress=False)
    assert report.ok, report.errors
    return helper


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("ASSISTANT_TEST_ARTIFACTS", ROOT / "tests" / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on loopback; yields 'host:port'."""
    import socket
    import subprocess

    from tests.support.processes import wait_for_http

    exe = shutil.which("chroma", path=str(Path(os.sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.fail("the chroma CLI (from the chromadb package) is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    if not wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, timeout_s=60):
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL server on loopback (tests/support/postgres.py); skipped
    where PostgreSQL is not installed, except under CI (.ci/run installs it)."""
    from tests.support.postgres import PostgresServer, postgres_bin

    if postgres_bin() is None and not os.environ.get("ASSISTANT_TEST_POSTGRES"):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs Debian's postgresql")
        pytest.skip("PostgreSQL is not installed (Debian package postgresql)")
    server = PostgresServer()
    yield server
    server.stop()
