"""The model's own process: ``python -m assistant.llms.worker``.

Runs a GGUF model with llama.cpp (``LlamaCppBackend``) and speaks JSON
lines over its standard input and output, so that a crash of the native
code (a segfault, an illegal instruction, the out-of-memory killer) ends
this process only; ``supervised.ModelProcess`` restarts it.

Protocol. The first input line is the configuration (WorkerConfig as
JSON). Then requests, one per line::

    {"op": "stream", "id": 1, "messages": [...], "schema": {...} | null, "max_tokens": 64 | null}
    {"op": "count", "id": 2, "text": "..."}
    {"op": "logprobs", "id": 3, "messages": [...], "top": 20}
    {"op": "cancel", "id": 1}

and replies: ``{"type": "ready", "pid", "description", "system_info"}`` once
loaded (or ``{"type": "failed", "message"}`` and exit 2), ``{"type": "beat"}``
every ``beat_s`` seconds, and per request ``delta`` {text} ... ``done``,
``error`` {message}, ``count`` {n}, or ``logprobs`` {top}. End of input ends the process.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
from dataclasses import dataclass
from typing import Any, BinaryIO

from assistant.settings import LLMSettings

#: the model settings the worker runs its model with (the rest stay with the supervisor)
RUN_SETTINGS = {"context_window", "max_tokens", "temperature", "threads", "timeout_s"}


@dataclass
class WorkerConfig:
    """How the worker loads and runs its model: the GGUF file and the model
    settings (the worker uses RUN_SETTINGS of them; the supervisor
    start_timeout_s, stall_s and restart_backoff_max_s)."""

    model_path: str
    llm: LLMSettings
    label: str | None = None
    beat_s: float = 1.0

    def to_json(self) -> str:
        return json.dumps({"model_path": self.model_path, "llm": self.llm.model_dump(mode="json", include=RUN_SETTINGS),
                           "label": self.label, "beat_s": self.beat_s})

    @classmethod
    def from_json(cls, line: str | bytes) -> WorkerConfig:
        fields = json.loads(line)
        return cls(**{**fields, "llm": LLMSettings(**fields["llm"])})


class _Replies:
    """Writes reply lines; one writer at a time (heartbeat, counts and answers share the pipe)."""

    def __init__(self, out: BinaryIO):
        self._out = out
        self._lock = threading.Lock()

    def send(self, **message: Any) -> None:
        line = (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self._out.write(line)
            self._out.flush()


def _protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """(requests, replies). Replies go to a duplicate of the original stdout;
    file descriptor 1 then points at stderr, so that anything native code
    prints cannot corrupt the protocol."""
    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return sys.stdin.buffer, replies


def serve(requests: BinaryIO, replies_out: BinaryIO) -> int:
    """Load the model named by the first request line, then answer until end of input."""
    replies = _Replies(replies_out)
    first = requests.readline()
    if not first:
        return 0
    config = WorkerConfig.from_json(first)
    try:
        from pathlib import Path

        from assistant.llms.cpu import installed_system_info
        from assistant.llms.llamacpp import LlamaCppBackend

        backend = LlamaCppBackend(Path(config.model_path), config.llm, label=config.label)
        system_info = installed_system_info()
    except Exception as exc:  # LLMError on a bad file; anything else is reported the same way
        replies.send(type="failed", message=str(exc))
        return 2
    replies.send(type="ready", pid=os.getpid(), description=backend.description, system_info=system_info)

    jobs: queue.Queue[dict] = queue.Queue()
    cancelled: set[int] = set()
    stop = threading.Event()

    def read_requests() -> None:
        for line in requests:
            try:
                request = json.loads(line)
            except ValueError:
                continue
            op = request.get("op")
            if op == "count":  # tokenizing reads the vocabulary only: safe beside a running answer
                replies.send(type="count", id=request["id"], n=backend.count_tokens(request["text"]))
            elif op == "cancel":
                cancelled.add(request["id"])
            elif op in ("stream", "logprobs"):  # both run the model: one at a time
                jobs.put(request)
        # end of input: the parent closed the pipe or died; do not finish an answer nobody reads
        stop.set()
        sys.stderr.flush()
        os._exit(0)

    def beat() -> None:
        while not stop.wait(config.beat_s):
            replies.send(type="beat")

    threading.Thread(target=read_requests, name="requests", daemon=True).start()
    threading.Thread(target=beat, name="heartbeat", daemon=True).start()
    while True:
        _answer(backend, jobs.get(), replies, cancelled)


def _answer(backend, job: dict, replies: _Replies, cancelled: set[int]) -> None:
    from assistant.llms.base import LLMError

    job_id = job["id"]
    if job["op"] == "logprobs":
        try:
            replies.send(type="logprobs", id=job_id, top=backend.next_token_logprobs(job["messages"], job["top"]))
        except Exception as exc:  # LLMError (prompt too long) or anything native code raised
            replies.send(type="error", id=job_id, message=str(exc))
        return
    pieces = backend.stream(job["messages"], schema=job.get("schema"), max_tokens=job.get("max_tokens"))
    try:
        for piece in pieces:
            if job_id in cancelled:
                break
            replies.send(type="delta", id=job_id, text=piece)
    except LLMError as exc:
        replies.send(type="error", id=job_id, message=str(exc))
        return
    except Exception as exc:  # the parent shows it; this process keeps serving
        replies.send(type="error", id=job_id, message=f"{type(exc).__name__}: {exc}")
        return
    finally:
        pieces.close()
        cancelled.discard(job_id)
    replies.send(type="done", id=job_id)


def main() -> int:
    requests, replies = _protocol_streams()
    code = serve(requests, replies)
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown: llama.cpp's threads may still hold resources


if __name__ == "__main__":
    main()
