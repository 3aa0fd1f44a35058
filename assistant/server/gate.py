"""One model call at a time, with a bounded queue in front of it.

The bundled model is not thread-safe, and a CPU answers one question at a
time anyway: callers take a ticket (refused at once when too many wait), then
wait for the model up to a time limit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Busy(RuntimeError):
    """Too many questions are waiting for the model; try again later."""

    def __init__(self, message: str, retry_after: int = 10):
        super().__init__(message)
        self.retry_after = retry_after


class ModelGate:
    """A single model slot and at most ``max_waiting`` callers queued for it."""

    def __init__(self, max_waiting: int, wait_timeout_s: float):
        self.max_waiting = max_waiting
        self.wait_timeout_s = wait_timeout_s
        self._slot = threading.Semaphore(1)
        self._count_lock = threading.Lock()
        self._tickets = 0  # callers running or waiting

    def ticket(self) -> "Ticket":
        """Join the queue, or raise Busy when it is full."""
        with self._count_lock:
            if self._tickets > self.max_waiting:
                raise Busy(f"The model is busy ({self._tickets} questions in progress or waiting); "
                           "try again shortly.", retry_after=max(5, int(self.wait_timeout_s // 10)))
            self._tickets += 1
        return Ticket(self)

    @property
    def in_use(self) -> int:
        """Callers running or waiting."""
        return self._tickets

    def _leave(self) -> None:
        with self._count_lock:
            self._tickets -= 1


class Ticket:
    """A place in the queue; ``with ticket.turn():`` waits for and holds the
    model; ``release()`` leaves the queue."""

    def __init__(self, gate: ModelGate):
        self._gate = gate
        self._done = False

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for the model (up to the gate's timeout) and hold it; may be
        entered more than once (a rewrite, then the answer). The ticket stays
        in the queue until ``release``."""
        if not self._gate._slot.acquire(timeout=self._gate.wait_timeout_s):
            raise Busy(f"The model stayed busy for {self._gate.wait_timeout_s:.0f} s; try again shortly.")
        try:
            yield
        finally:
            self._gate._slot.release()

    def release(self) -> None:
        """Leave the queue (idempotent; for callers that never take their turn)."""
        if not self._done:
            self._done = True
            self._gate._leave()
