"""The model in a supervised child process, with the real bundled model and
real signals: a crash, a kill or a stop in the middle of an answer ends that
answer with a clear LLMError, the process is restarted, and the next answer
comes from the new one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from assistant.llms.base import LLMError
from assistant.llms.supervised import ModelProcess, SupervisedLlamaCpp, exit_reason
from assistant.llms.worker import WorkerConfig
from assistant.settings import LLMSettings
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.llm]

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
ASK = [{"role": "system", "content": "Rispondi in JSON."},
       {"role": "user", "content": "Scrivi una lunga frase sulla città di Roma."}]
SHORT = [{"role": "system", "content": "Rispondi in JSON."},
         {"role": "user", "content": "Qual è la capitale d'Italia? Una parola."}]


@pytest.fixture(scope="module")
def backend(bundled_gguf):
    model = SupervisedLlamaCpp(WorkerConfig(str(bundled_gguf), LLMSettings(
        context_window=1024, max_tokens=64, timeout_s=60, stall_s=4, restart_backoff_max_s=2)))
    yield model
    model.close()


def _wait_state(model: SupervisedLlamaCpp, state: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = model.health()
        if health["state"] == state:
            return health
        time.sleep(0.1)
    raise AssertionError(f"state {state!r} not reached: {model.health()}")


def test_answers_match_the_in_process_backend(backend, bundled_gguf):
    from assistant.llms.llamacpp import LlamaCppBackend

    here = LlamaCppBackend(bundled_gguf, LLMSettings(context_window=1024, max_tokens=64, timeout_s=60))
    try:
        assert backend.chat(ASK, schema=SCHEMA, max_tokens=24) == here.chat(ASK, schema=SCHEMA, max_tokens=24)
        assert backend.count_tokens("Il Consiglio dei ministri si è riunito.") == here.count_tokens(
            "Il Consiglio dei ministri si è riunito.")
    finally:
        del here
    json.loads(backend.chat(SHORT, schema=SCHEMA, max_tokens=48))
    assert backend.health()["state"] == "up" and backend.health()["isolation"] == "process"


def test_log_probabilities_match_the_in_process_backend(backend, bundled_gguf):
    """The worker's ``logprobs`` op (the citation judgement) gives the in-process figures,
    and a follow-up turn of the cached conversation (the reply's own tokens reused)
    judges as a cold one does."""
    from assistant.answering.judge import yes_probability
    from assistant.llms.llamacpp import LlamaCppBackend

    reply = backend.chat(SHORT, schema=SCHEMA, max_tokens=16)  # leaves the conversation in the cache
    follow_up = [*SHORT, {"role": "assistant", "content": reply},
                 {"role": "user", "content": "Is that answer correct? Reply with one word: yes or no."}]
    warm = backend.next_token_logprobs(follow_up, top=5)
    here = LlamaCppBackend(bundled_gguf, LLMSettings(context_window=1024, max_tokens=64, timeout_s=60))
    try:
        cold = here.next_token_logprobs(follow_up, top=5)
    finally:
        del here
    # the same likeliest tokens; a cached prefix changes the arithmetic's batching, not the judgement
    assert list(warm)[:2] == list(cold)[:2]
    assert abs(yes_probability(warm) - yes_probability(cold)) < 0.05


@pytest.mark.parametrize("sig, cause", [(signal.SIGSEGV, "SIGSEGV"), (signal.SIGKILL, "SIGKILL")])
def test_a_crash_mid_answer_is_reported_and_the_process_restarted(backend, sig, cause):
    before = backend.health()
    pieces = backend.stream(ASK, max_tokens=64)
    assert next(pieces)  # the answer has started
    os.kill(before["pid"], sig)
    with pytest.raises(LLMError, match=cause):
        for _ in pieces:
            pass
    health = backend.health()
    assert health["crashes"] == before["crashes"] + 1 and cause in health["last_reason"]
    after = _wait_state(backend, "up")
    assert after["pid"] != before["pid"] and after["restarts"] == before["restarts"] + 1
    json.loads(backend.chat(SHORT, schema=SCHEMA, max_tokens=48))  # answered by the new process


def test_a_stopped_process_is_detected_within_the_stall_limit(backend):
    pid = backend.health()["pid"]
    pieces = backend.stream(ASK, max_tokens=64)
    next(pieces)
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(LLMError, match="stopped responding"):
        for _ in pieces:
            pass
    assert time.monotonic() - started < 4 + 3  # stall_s plus the watchdog's period and a margin
    _wait_state(backend, "up")
    assert backend.health()["pid"] != pid
    json.loads(backend.chat(SHORT, schema=SCHEMA, max_tokens=48))


def test_a_question_during_the_restart_waits_for_the_new_process(backend):
    os.kill(backend.health()["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while backend.health()["state"] == "up" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert backend.health()["state"] in ("restarting", "starting")
    json.loads(backend.chat(SHORT, schema=SCHEMA, max_tokens=48))


def test_a_model_that_cannot_load_fails_fast_and_is_not_restarted_in_a_loop(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 4096)  # the right magic, nothing behind it
    process = ModelProcess(WorkerConfig(str(bad), LLMSettings(start_timeout_s=60, restart_backoff_max_s=1)))
    started = time.monotonic()
    with pytest.raises(LLMError, match="bad.gguf"):
        process.start()
    assert time.monotonic() - started < 30
    time.sleep(2)
    health = process.health()
    assert health["state"] == "failed" and health["restarts"] == 0 and "bad.gguf" in health["last_reason"]
    process.close()


def test_the_process_ends_when_its_parent_is_killed(bundled_gguf, tmp_path):
    """No orphaned model process holds 2 GB after a server is killed -9."""
    pid_file = tmp_path / "pid"
    script = (
        "import sys, time\n"
        "from assistant.llms.supervised import ModelProcess\n"
        "from assistant.llms.worker import WorkerConfig\n"
        "from assistant.settings import LLMSettings\n"
        f"p = ModelProcess(WorkerConfig({str(bundled_gguf)!r}, LLMSettings(context_window=512)))\n"
        "p.start()\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        child = int(pid_file.read_text())
        os.kill(child, 0)  # running
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not _alive(child):
            return
        time.sleep(0.2)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the model process outlived its parent")


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a reaper (a container's init may not reap)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except FileNotFoundError:
        return False


def test_exit_reasons_name_the_signal():
    assert "SIGSEGV" in exit_reason(-11) and "segmentation fault" in exit_reason(-11)
    assert "out-of-memory" in exit_reason(-9)
    assert "SIGILL" in exit_reason(-4) and "instruction set" in exit_reason(-4)
    assert exit_reason(3).endswith("status 3")
