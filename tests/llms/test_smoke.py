"""The setup's model check, against a model process that really crashes: a
preloaded library makes llama_decode segfault, execute an illegal
instruction or hang, as a bad build does on a CPU it does not suit."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.llm]


def _smoke(env_extra: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-m", "assistant.llms.smoke", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_the_check_passes_with_the_installed_build(bundled_gguf):
    result = _smoke({}, "--model", str(bundled_gguf))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("model check: the bundled model answers") and "no AMX" in result.stdout


@pytest.mark.parametrize("how, cause", [("segv", "SIGSEGV"), ("ill", "SIGILL")])
def test_a_crash_on_the_first_tokens_fails_with_one_line_naming_it(bundled_gguf, crash_library, how, cause):
    result = _smoke({"LD_PRELOAD": str(crash_library), "CRASH_HOW": how}, "--model", str(bundled_gguf))
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("setup failed:") and cause in lines[0] and "scripts/setup.sh" in lines[0]


def test_a_hang_fails_within_the_timeout(bundled_gguf, crash_library):
    result = _smoke({"LD_PRELOAD": str(crash_library), "CRASH_HOW": "hang"}, "--model", str(bundled_gguf),
                    "--timeout", "20", timeout=90)
    assert result.returncode == 1
    assert "hung" in result.stderr and "20 s" in result.stderr


def test_an_interpreter_that_crashes_at_once_is_reported(bundled_gguf, tmp_path):
    """A model process that dies before loading anything (a binary that segfaults)."""
    crasher = tmp_path / "crasher.c"
    crasher.write_text("int main(void) { volatile int *p = 0; return *p; }\n")
    binary = tmp_path / "crasher"
    subprocess.run(["gcc", "-O0", "-o", str(binary), str(crasher)], check=True)
    result = _smoke({}, "--model", str(bundled_gguf), "--python", str(binary), "--timeout", "30")
    assert result.returncode == 1 and "SIGSEGV" in result.stderr and "did not load" in result.stderr


def test_setup_and_run_stop_when_the_model_crashes(crash_library, tmp_path):
    """scripts/setup.sh ends with the check, so scripts/run.sh never serves a model that dies."""
    env = {**os.environ, "LD_PRELOAD": str(crash_library), "CRASH_HOW": "segv",
           "ASSISTANT_HOME": str(tmp_path / "home"), "ASSISTANT_SERVER__PORT": "1"}
    for script in ("setup.sh", "run.sh"):
        result = subprocess.run(["bash", f"scripts/{script}"], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=900)
        assert result.returncode != 0, f"{script} went on despite the crash"
        assert "setup failed: the bundled model died on its first tokens" in result.stderr
        assert "SIGSEGV" in result.stderr
        assert "Serving on" not in result.stdout + result.stderr
