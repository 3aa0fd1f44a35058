"""The bundled (or any GGUF) model in a supervised child process.

``ModelProcess`` starts ``python -m assistant.llms.worker``, watches it
(end of its output, its exit status, a heartbeat every second) and
restarts it with backoff after a crash, a hang or an out-of-memory kill.
``SupervisedLlamaCpp`` is the ChatBackend over it: the question in flight
when the model dies gets an LLMError naming the cause (the answering
service turns it into the model-down answer), and the next question is
answered by the restarted process. The server, a running ingest and the
CLI never share the model's fate.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from typing import Any

from assistant.llms.base import ChatBackend, LLMError, Message
from assistant.llms.worker import WorkerConfig

log = logging.getLogger(__name__)

STARTING, UP, RESTARTING, FAILED, STOPPED = "starting", "up", "restarting", "failed", "stopped"
#: after a crash, wait this long before restarting, doubling up to ``backoff_max_s``
BACKOFF_FIRST_S = 0.5
#: a process that stayed up this long resets the backoff
STABLE_S = 60.0


def exit_reason(returncode: int | None) -> str:
    """A readable cause for a child's exit status."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        number = -returncode
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else f"signal {number}"
        what = {
            "SIGSEGV": "crashed with a segmentation fault (SIGSEGV) in the native code",
            "SIGILL": "crashed with an illegal instruction (SIGILL: the llama.cpp build uses an instruction "
                      "set this CPU lacks)",
            "SIGBUS": "crashed with a bus error (SIGBUS)",
            "SIGABRT": "aborted (SIGABRT) in the native code",
            "SIGKILL": "was killed (SIGKILL: the out-of-memory killer, or another process)",
            "SIGTERM": "was terminated (SIGTERM)",
        }.get(name, f"was ended by {name}")
        return f"the model process {what}"
    return f"the model process exited with status {returncode}"


class ModelProcess:
    """One worker process at a time, restarted when it dies (after
    ``config.llm.start_timeout_s`` loading, ``stall_s`` silent; waiting at most
    ``restart_backoff_max_s`` between restarts)."""

    def __init__(self, config: WorkerConfig, name: str = "model", python: str | None = None):
        self.config = config
        self.python = python or sys.executable
        self.start_timeout_s = config.llm.start_timeout_s
        self.stall_s = config.llm.stall_s
        self.backoff_max_s = config.llm.restart_backoff_max_s
        self.name = name
        self._cond = threading.Condition()
        self._state = STOPPED
        self._proc: subprocess.Popen | None = None
        self._generation = 0  # counts processes started; messages of an older one are ignored
        self._pending: dict[int, queue.Queue] = {}
        self._next_id = 0
        self._last_beat = 0.0
        self._started_at = 0.0
        self._backoff = BACKOFF_FIRST_S
        self._retry_at = 0.0
        self._killed_for: str | None = None
        self._stderr: deque[str] = deque(maxlen=20)
        self.crashes = 0
        self.restarts = 0
        self.last_reason: str | None = None
        self.description = ""
        self.system_info = ""
        self._closed = False
        self._box: dict[str, Any] = {"proc": None, "closed": False}  # what the finalizer sees
        self._finalizer = weakref.finalize(self, _stop_process, self._box)
        atexit.register(self._finalizer)
        threading.Thread(target=self._watch, name=f"{name}-watchdog", daemon=True).start()

    # --- state ----------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """State (up / starting / restarting / failed / stopped), pid, crashes, restarts, last reason."""
        with self._cond:
            return {"state": self._state, "pid": self._proc.pid if self._proc and self._state == UP else None,
                    "crashes": self.crashes, "restarts": self.restarts, "last_reason": self.last_reason,
                    "up_for_s": round(time.monotonic() - self._started_at, 1) if self._state == UP else None}

    @property
    def pid(self) -> int | None:
        return self.health()["pid"]

    # --- starting -------------------------------------------------------------
    def start(self) -> None:
        """Start the worker and wait until its model is loaded; LLMError when it cannot load."""
        with self._cond:
            if self._state in (UP, STARTING):
                return
            self._spawn_locked()
        self.wait_up(self.start_timeout_s, may_retry=False)

    def _spawn_locked(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([self.python, "-m", "assistant.llms.worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, bufsize=0,
                                start_new_session=True)  # a Ctrl-C in the terminal reaches the parent only
        self._generation += 1
        self._proc = self._box["proc"] = proc
        self._state = STARTING
        self._killed_for = None
        self._last_beat = self._started_at = time.monotonic()
        self._stderr.clear()
        generation = self._generation
        threading.Thread(target=self._read, args=(proc, generation), name=f"{self.name}-replies",
                         daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(proc,), name=f"{self.name}-stderr", daemon=True).start()
        try:
            proc.stdin.write((self.config.to_json() + "\n").encode())
            proc.stdin.flush()
        except OSError:
            pass  # it died at once; the reader reports why

    def wait_up(self, timeout_s: float, may_retry: bool = True) -> None:
        """Wait until the worker is up; LLMError when it failed, or is still
        (re)starting after ``timeout_s``. A worker that failed to load is
        started again once (``may_retry``) when its backoff has passed."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                if self._closed:
                    raise LLMError("The model process has been stopped.")
                if self._state == UP:
                    return
                if self._state == FAILED:
                    if not may_retry or time.monotonic() < self._retry_at:
                        raise LLMError(self.last_reason or "The model process failed to start.")
                    may_retry = False  # the cause may have passed (memory, a file being replaced)
                    self._spawn_locked()
                elif self._state == STOPPED:
                    self._spawn_locked()
                left = deadline - time.monotonic()
                if left <= 0:
                    why = f" after: {self.last_reason}" if self.last_reason else ""
                    raise LLMError(f"The model process is {self._state}{why}; try again in a few seconds.")
                self._cond.wait(min(left, 0.5))

    # --- requests ---------------------------------------------------------------
    def request(self, op: str, **fields: Any) -> tuple[int, queue.Queue]:
        """Send a request; replies for it arrive on the returned queue (a ``died``
        message if the process ends first)."""
        with self._cond:
            if self._state != UP or self._proc is None:
                raise LLMError(f"The model process is {self._state}; try again in a few seconds.")
            self._next_id += 1
            request_id = self._next_id
            replies: queue.Queue = queue.Queue()
            self._pending[request_id] = replies
            proc = self._proc
        try:
            proc.stdin.write((json.dumps({"op": op, "id": request_id, **fields}, ensure_ascii=False) + "\n")
                             .encode("utf-8"))
            proc.stdin.flush()
        except OSError:
            pass  # the reader will see the process end and answer with "died"
        return request_id, replies

    def forget(self, request_id: int) -> None:
        with self._cond:
            self._pending.pop(request_id, None)

    def cancel(self, request_id: int) -> None:
        """Ask the worker to stop generating for ``request_id`` (best effort)."""
        with self._cond:
            proc = self._proc if self._state == UP else None
        if proc is not None:
            try:
                proc.stdin.write((json.dumps({"op": "cancel", "id": request_id}) + "\n").encode())
                proc.stdin.flush()
            except OSError:
                pass
        self.forget(request_id)

    def kill(self, reason: str) -> None:
        """Kill the current worker (hung, or past its deadline); it is restarted."""
        with self._cond:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                return
            self._killed_for = reason
        log.warning("%s: killing the model process %s: %s", self.name, proc.pid, reason)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # SIGKILL also ends a stopped process
        except OSError:
            proc.kill()

    def close(self) -> None:
        """Stop the worker for good."""
        with self._cond:
            self._closed = True
            self._state = STOPPED
            self._cond.notify_all()
        self._finalizer()

    # --- watching -------------------------------------------------------------
    def _read(self, proc: subprocess.Popen, generation: int) -> None:
        for line in proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            kind = message.get("type")
            with self._cond:
                if generation != self._generation:
                    return
                self._last_beat = time.monotonic()
                if kind == "ready":
                    self._state = UP
                    self.description = message.get("description", "")
                    self.system_info = message.get("system_info", "")
                    self._cond.notify_all()
                    log.info("%s: model process %s up", self.name, message.get("pid"))
                elif kind == "failed":
                    self.last_reason = message.get("message")
                    self._state = FAILED
                    self._retry_at = time.monotonic() + self._backoff
                    self._cond.notify_all()
                elif kind != "beat":
                    target = self._pending.get(message.get("id"))
                    if target is not None:
                        target.put(message)
        proc.wait()
        self._ended(proc, generation)

    def _read_stderr(self, proc: subprocess.Popen) -> None:
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._stderr.append(line)
                log.debug("%s worker: %s", self.name, line)

    def _ended(self, proc: subprocess.Popen, generation: int) -> None:
        with self._cond:
            if generation != self._generation:
                return
            pending, self._pending = self._pending, {}
            was = self._state
            if self._closed or self._box["closed"]:
                self._state = STOPPED
            elif was == FAILED:  # it said why it could not load, then exited
                pass
            else:
                reason = self._killed_for or exit_reason(proc.returncode)
                if proc.returncode and proc.returncode > 0 and self._stderr:
                    reason += f" ({self._stderr[-1][:200]})"
                self.crashes += 1
                self.last_reason = reason
                log.error("%s: %s", self.name, reason)
                if time.monotonic() - self._started_at >= STABLE_S:
                    self._backoff = BACKOFF_FIRST_S
                self._retry_at = time.monotonic() + self._backoff
                if was == STARTING:  # died while loading: tried again on demand, not in a loop
                    self._state = FAILED
                else:
                    self._state = RESTARTING
                    threading.Thread(target=self._restart_later, args=(self._generation, self._backoff),
                                     name=f"{self.name}-restart", daemon=True).start()
                self._backoff = min(self._backoff * 2, self.backoff_max_s)
            self._cond.notify_all()
        for replies in pending.values():
            replies.put({"type": "died", "reason": self.last_reason})

    def _restart_later(self, generation: int, delay: float) -> None:
        time.sleep(delay)
        with self._cond:
            if self._closed or generation != self._generation or self._state != RESTARTING:
                return
            self.restarts += 1
            log.info("%s: restarting the model process (restart %d)", self.name, self.restarts)
            self._spawn_locked()

    def _watch(self) -> None:
        """Kill a worker that stopped giving signs of life (stopped, or stuck holding the interpreter)."""
        ref = weakref.ref(self)
        while True:
            time.sleep(0.5)
            me = ref()
            if me is None or me._closed:
                return
            with me._cond:
                silent = time.monotonic() - me._last_beat
                stalled = me._state == UP and me._proc is not None and silent > me.stall_s  # loading: start_timeout_s
                starting_too_long = me._state == STARTING and time.monotonic() - me._started_at > me.start_timeout_s
            if stalled or starting_too_long:
                me.kill(f"the model process stopped responding (no sign of life for {silent:.0f} s)"
                        if stalled else f"the model process did not load within {me.start_timeout_s:.0f} s")
            del me


def _stop_process(box: dict[str, Any]) -> None:
    box["closed"] = True
    proc = box["proc"]
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.stdin.close()  # the worker ends at the end of its input
        proc.wait(timeout=3)
    except Exception:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass


class SupervisedLlamaCpp(ChatBackend):
    """llama.cpp in a supervised child process, with the in-process backend's behaviour."""

    def __init__(self, config: WorkerConfig):
        self.timeout_s = config.llm.timeout_s
        self.process = ModelProcess(config)
        self.process.start()
        self.description = self.process.description
        self._lock = threading.Lock()

    def health(self) -> dict[str, Any]:
        return {"isolation": "process", **self.process.health()}

    def close(self) -> None:
        self.process.close()

    def count_tokens(self, text: str) -> int:
        self.process.wait_up(min(self.timeout_s, 30.0))
        request_id, replies = self.process.request("count", text=text)
        try:
            message = self._next(replies, time.monotonic() + min(self.timeout_s, 30.0), request_id)
        finally:
            self.process.forget(request_id)
        return int(message["n"])

    def next_token_logprobs(self, messages: list[Message], top: int = 20) -> dict[str, float] | None:
        with self._lock:
            self.process.wait_up(min(self.timeout_s, 30.0))
            request_id, replies = self.process.request("logprobs", messages=list(messages), top=top)
            try:
                message = self._next(replies, time.monotonic() + self.timeout_s + 15.0, request_id)
            finally:
                self.process.forget(request_id)
        if message["type"] == "error":
            raise LLMError(message["message"])
        return message["top"]

    def stream(self, messages: list[Message], schema: dict[str, Any] | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        with self._lock:
            self.process.wait_up(min(self.timeout_s, 30.0))
            request_id, replies = self.process.request("stream", messages=list(messages), schema=schema,
                                                       max_tokens=max_tokens)
            # the worker enforces timeout_s itself; past it and a margin, it is stuck in native code
            deadline = time.monotonic() + self.timeout_s + 15.0
            finished = False
            try:
                while True:
                    message = self._next(replies, deadline, request_id)
                    kind = message["type"]
                    if kind == "delta":
                        yield message["text"]
                    elif kind == "done":
                        finished = True
                        return
                    elif kind == "error":
                        finished = True
                        raise LLMError(message["message"])
            finally:
                if finished:
                    self.process.forget(request_id)
                else:  # the caller stopped reading, or the process died
                    self.process.cancel(request_id)

    def _next(self, replies: queue.Queue, deadline: float, request_id: int) -> dict:
        try:
            message = replies.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self.process.kill(f"the model process gave no answer within {self.timeout_s:.0f} s")
            raise LLMError(f"{self.description} did not finish within {self.timeout_s:.0f} s "
                           "(ASSISTANT_LLM__TIMEOUT_S); its process is being restarted") from None
        if message["type"] == "died":
            raise LLMError(f"{message['reason']} while answering; it is being restarted, "
                           "ask again in a few seconds")
        return message
