"""What the API and the UI share: one Assistant, one model gate, one upload
folder. Both surfaces ask questions and ingest files through here."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.answering.events import Error, Event
from assistant.core import Assistant
from assistant.domain import Filters
from assistant.index.embedding_servers import EmbeddingServerError
from assistant.llms.base import LLMError, Message
from assistant.server.gate import Busy, ModelGate, Ticket
from assistant.settings import ServerSettings

log = logging.getLogger(__name__)

UPLOAD_SUFFIXES = (".txt", ".jsonl")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadError(ValueError):
    """An uploaded file cannot be accepted (name, type or size)."""


@dataclass
class FileResult:
    """What happened to one uploaded file."""

    name: str
    saved_as: str | None = None
    error: str | None = None


class ServerContext:
    """The shared Assistant plus the rules every surface follows."""

    def __init__(self, assistant: Assistant, server: ServerSettings | None = None):
        self.assistant = assistant
        self.settings = assistant.settings
        self.server = server = server or self.settings.server
        self.gate = ModelGate(server.max_waiting, server.wait_timeout_s)
        self._ingest_lock = threading.Lock()

    # --- questions -----------------------------------------------------------
    def check_question(self, question: str) -> str:
        """The stripped question, or ValueError with a readable reason."""
        question = (question or "").strip()
        limit = self.server.max_question_chars
        if not question:
            raise ValueError("The question is empty.")
        if len(question) > limit:
            raise ValueError(f"The question is {len(question)} characters long; the limit is {limit}.")
        return question

    def ticket(self) -> Ticket:
        """A place in the model queue (raises Busy when full)."""
        return self.gate.ticket()

    def events(self, ticket: Ticket, question: str, filters: Filters | None = None, top_k: int | None = None,
               history: list[Message] | None = None) -> Iterator[Event]:
        """Answer events (``Rewrite``, ``Delta``, ``Citations``, ``Final``),
        holding the model only while it runs (retrieval and questions declined
        before the model never wait for it); failures become one ``Error`` event with a readable
        message and an HTTP-like status."""
        try:
            yield from self.assistant.ask_events(question, filters, top_k, history, model_turn=ticket.turn)
        except Busy as exc:
            yield Error(503, str(exc), retry_after=exc.retry_after)
        except LLMError as exc:
            fallback = getattr(exc, "fallback", None)  # the most relevant sentences, when retrieval ran
            yield Error(503, f"The language model is unavailable: {exc}",
                        fallback=fallback.public() if fallback is not None else None)
        except EmbeddingServerError as exc:
            yield Error(503, f"The embedding server is unavailable: {exc}")
        except ValueError as exc:
            yield Error(422, str(exc))
        except Exception as exc:  # never a stack trace for users; the log has it
            log.exception("answering failed")
            yield Error(500, f"Answering failed: {type(exc).__name__}: {exc}")
        finally:
            ticket.release()

    # --- corpus ----------------------------------------------------------------
    @property
    def upload_dir(self) -> Path:
        path = self.settings.home_dir / "uploads"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def upload_path(self, name: str) -> Path:
        """A path inside the upload folder for a client-given file name; the
        name cannot leave the folder (directories and odd characters dropped)."""
        base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip("._")
        if not base:
            raise UploadError("the file name is empty")
        if not base.lower().endswith(UPLOAD_SUFFIXES):
            raise UploadError(f"only {', '.join(UPLOAD_SUFFIXES)} files are accepted")
        folder = self.upload_dir.resolve()
        path = (folder / base[-120:]).resolve()
        if path.parent != folder:
            raise UploadError("the file name is not allowed")
        return path

    def save_upload(self, name: str, data: bytes) -> Path:
        """Write an uploaded file into the upload folder."""
        path = self.upload_path(name)
        limit = self.server.max_upload_bytes
        if len(data) > limit:
            raise UploadError(f"file too large ({len(data):,} bytes; limit {limit:,})")
        if not data:
            raise UploadError("empty file")
        tmp = path.with_name(f".{path.name}.{time.time_ns()}.part")
        tmp.write_bytes(data)
        tmp.replace(path)
        return path

    def ingest_files(self, files: list[tuple[str, bytes]],
                     on_file: Callable[[FileResult], None] | None = None) -> tuple[list[FileResult], Any]:
        """Save and ingest uploaded (name, bytes) pairs; returns per-file
        results (errors included) and the IngestReport."""
        results: list[FileResult] = []
        by_path: dict[str, FileResult] = {}
        for name, data in files:
            result = FileResult(name=name)
            try:
                path = self.save_upload(name, data)
                result.saved_as = path.name
                by_path[str(path)] = result
            except UploadError as exc:
                result.error = str(exc)
                if on_file:
                    on_file(result)
            results.append(result)

        def file_done(path: str, error: str | None) -> None:
            result = by_path.get(str(Path(path).resolve())) or by_path.get(path)
            if result is not None:
                result.error = error.replace(f"{Path(path).parent}/", "") if error else None
                if on_file:
                    on_file(result)

        report = None
        if by_path:
            with self._ingest_lock:
                report = self.assistant.ingest(list(by_path), progress=False, on_file=file_done)
        return results, report
