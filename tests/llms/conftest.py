"""Fixtures for the LLM backend tests: the bundled GGUF (assembled once into a
session-wide cache) and an Ollama-API server serving it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.llms.base import LLMError
from assistant.llms.bundled import bundled_model_path
from tests.support.ollama_server import create_app, run_server

OLLAMA_MODEL = "qwen2.5-coder:1.5b"


def models_cache_dir() -> Path:
    """ASSISTANT_TEST_MODELS, else ~/.cache/dispatch-assistant/models (shared across sessions)."""
    env = os.environ.get("ASSISTANT_TEST_MODELS")
    return Path(env) if env else Path.home() / ".cache" / "dispatch-assistant" / "models"


@pytest.fixture(scope="session")
def bundled_gguf() -> Path:
    """The bundled Qwen2.5-Coder-1.5B-Instruct GGUF (assembled on first use, ~10 s)."""
    try:
        return bundled_model_path(models_cache_dir(), progress=False)
    except LLMError as exc:  # the optional `models` extra is not installed
        pytest.skip(f"bundled model unavailable: {exc}")


@pytest.fixture(scope="session")
def ollama_app(bundled_gguf: Path):
    """The Ollama-API app serving the bundled model as qwen2.5-coder:1.5b
    (``.state.received`` holds the chat/generate request bodies)."""
    return create_app({OLLAMA_MODEL: bundled_gguf})


@pytest.fixture(scope="session")
def ollama_server(ollama_app):
    """Base URL of a server running ``ollama_app`` on a free loopback port."""
    url, stop = run_server(ollama_app)
    yield url
    stop()


@pytest.fixture(scope="session")
def crash_library(tmp_path_factory) -> Path:
    """A shared library that, preloaded, kills a model process on its first decode
    (tests/support/crash_decode.c; CRASH_HOW=segv|ill|hang)."""
    import shutil
    import subprocess

    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the crashing library")
    source = Path(__file__).resolve().parent.parent / "support" / "crash_decode.c"
    target = tmp_path_factory.mktemp("crash") / "crash_decode.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(target), str(source)], check=True)
    return target
