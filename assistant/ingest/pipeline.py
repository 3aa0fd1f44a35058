"""The ingest service: files -> parsed dispatches -> catalog + vectors (a
vector per sentence and, unless turned off, per chunk).

Unchanged files are skipped by sha256; changed files replace their old
dispatches; a file that cannot be read is reported and the batch goes on.
Crash safety: dispatches are marked *pending* before their vectors are
written and unmarked in the same transaction that commits their catalog rows;
on the next run pending dispatches are removed from both stores and their
files re-read, so a killed ingest never leaves duplicates or half dispatches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from assistant.domain import ParsedDispatch
from assistant.index.catalog import Catalog
from assistant.index.embedders import embed_passages
from assistant.index.vectors import ChromaSentences
from assistant.ingest.parse import parse_record
from assistant.ingest.readers import ReadError, discover, fingerprint, read_records
from assistant.settings import IndexSettings

log = logging.getLogger(__name__)
MAX_LINE_ERRORS = 20  # bad lines listed per file; the rest are counted


@dataclass
class IngestReport:
    """What an ingest run did."""

    files_seen: int = 0
    files_unchanged: int = 0
    files_ingested: int = 0
    files_failed: int = 0
    dispatches_written: int = 0
    dispatches_unchanged: int = 0
    dispatches_removed: int = 0
    sentences_written: int = 0
    recovered: int = 0
    files_claimed_elsewhere: int = 0  # being ingested by another worker of the same job
    chunks_backfilled: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class IngestService:
    """Writes dispatches into the catalog and the vector store, in step."""

    def __init__(self, catalog: Catalog, vectors: ChromaSentences, embedder, index: IndexSettings,
                 batch_sentences: int = 256):
        self.catalog = catalog
        self.embed_chunks = index.embed_chunks
        self.vectors = vectors
        self.embedder = embedder
        self.chunk_max_words = index.chunk_max_words
        self.batch_sentences = batch_sentences

    def recover(self) -> int:
        """Remove dispatches left half-written by an interrupted run."""
        pending = self.catalog.pending()
        if pending:
            log.warning("Cleaning %d dispatch(es) left by an interrupted ingest", len(pending))
            self.vectors.delete_docs(pending)
            self.catalog.forget_files_with(pending)
            self.catalog.delete_dispatches(pending)
        return len(pending)

    def ingest(self, paths: Iterable[str | Path], progress: bool = True,
               on_file: Callable[[str, str | None], None] | None = None,
               worker: tuple[int, int] | None = None,
               on_progress: Callable[[str, str | None, IngestReport], None] | None = None) -> IngestReport:
        """Ingest files and folders. ``on_file(path, error_or_None)`` is called
        after each file (for UIs), ``on_progress`` the same with the report so far. ``worker = (i, n)``: worker i of n of one job
        on a shared catalog starts at the i-th n-th of the files (and skips files
        another live worker has claimed)."""
        report = IngestReport(recovered=self.recover())
        report.chunks_backfilled = self.sync_chunks(progress)
        files, missing = discover(paths)
        if worker is not None and files:
            start = worker[0] * len(files) // worker[1]
            files = files[start:] + files[:start]
        report.errors.extend(missing)
        report.files_seen = len(files)
        total = sum(_size(p) for p in files)
        bar = tqdm(total=total, unit="B", unit_scale=True, desc=f"Ingesting {len(files)} file(s)",
                   disable=not progress, dynamic_ncols=True)
        for number, path in enumerate(files, 1):
            done_before = bar.n
            error = self._ingest_file(path, report, bar)
            if error:
                report.files_failed += 1
                report.errors.append(error)
                bar.write(f"  skipped {error}")
            if on_file:
                on_file(str(path), error)
            if on_progress:
                on_progress(str(path), error, report)
            bar.update(done_before + _size(path) - bar.n)
            bar.set_postfix(file=f"{number}/{len(files)}", dispatches=report.dispatches_written,
                            sentences=report.sentences_written, refresh=False)
        bar.close()
        return report

    def _ingest_file(self, path: Path, report: IngestReport, bar: tqdm) -> str | None:
        key = str(path.resolve())
        try:
            source = fingerprint(path)
        except OSError as exc:
            return f"{path}: cannot read ({exc.strerror or exc})"
        previous = self.catalog.file_record(key)
        if previous and previous[0] == source.sha256:
            report.files_unchanged += 1
            return None
        if not self.catalog.claim_file(key):
            report.files_claimed_elsewhere += 1
            return None
        try:
            return self._read_file(path, key, source, previous, report, bar)
        finally:
            self.catalog.release_file(key)

    def _read_file(self, path: Path, key: str, source, previous, report: IngestReport, bar: tqdm) -> str | None:
        seen: list[str] = []
        batch: list[ParsedDispatch] = []
        line_errors: list[str] = []
        try:
            for item in read_records(path):
                bar.update(getattr(item, "size", 0))
                if isinstance(item, ReadError):
                    line_errors.append(str(item))
                    continue
                try:
                    parsed = parse_record(item, self.chunk_max_words)
                except ReadError as exc:
                    line_errors.append(str(exc))
                    continue
                except Exception as exc:  # one odd dispatch must not stop the batch
                    log.exception("Cannot parse %s", item.origin)
                    line_errors.append(f"{item.origin}: cannot parse ({type(exc).__name__}: {exc})")
                    continue
                if parsed.dispatch.id in seen:
                    continue  # the same dispatch twice in one file: keep the first
                seen.append(parsed.dispatch.id)
                batch.append(parsed)
                if sum(len(p.sentences) for p in batch) >= self.batch_sentences:
                    self._write(batch, report)
                    batch = []
                    bar.set_postfix(dispatches=report.dispatches_written, sentences=report.sentences_written,
                                    refresh=False)
            self._write(batch, report)
        except ReadError as exc:
            return f"{path}: {exc}"
        except (OSError, UnicodeError) as exc:
            return f"{path}: cannot read ({exc})"
        if not seen:
            if len(line_errors) == 1 and line_errors[0].startswith(f"{path}: "):
                return line_errors[0]  # a one-dispatch file: its own reason
            return f"{path}: no dispatch could be read" + (f" ({line_errors[0]})" if line_errors else "")
        stale = sorted(set(previous[1] if previous else []) - set(seen) - self.catalog.doc_ids_of_other_files(key))
        if stale:
            self.catalog.mark_pending(stale)
            self.vectors.delete_docs(stale)
            self.catalog.delete_dispatches(stale)
            report.dispatches_removed += len(stale)
        self.catalog.record_file(key, source.sha256, source.size, seen)
        report.files_ingested += 1
        if len(line_errors) > MAX_LINE_ERRORS:
            line_errors[MAX_LINE_ERRORS:] = [f"{path}: {len(line_errors) - MAX_LINE_ERRORS:,} more bad lines not listed"]
        for err in line_errors:
            report.errors.append(err)
            bar.write(f"  skipped {err}")
        return None

    def _write(self, batch: list[ParsedDispatch], report: IngestReport) -> None:
        if not batch:
            return
        known = self.catalog.content_hashes([p.dispatch.id for p in batch])
        changed = [p for p in batch if known.get(p.dispatch.id) != p.dispatch.content_hash]
        report.dispatches_unchanged += len(batch) - len(changed)
        if not changed:
            return
        ids = [p.dispatch.id for p in changed]
        self.catalog.mark_pending(ids)
        replaced = [i for i in ids if i in known]
        if replaced:
            self.vectors.delete_docs(replaced)
        texts = [s.text for p in changed for s in p.sentences]
        chunks = [c.text for p in changed for c in p.chunks] if self.embed_chunks else []
        vectors = embed_passages(self.embedder, texts + chunks)
        self.vectors.upsert([(p.dispatch, p.sentences) for p in changed], vectors[:len(texts)])
        if chunks:
            self.vectors.upsert_chunks([(p.dispatch, p.chunks) for p in changed], vectors[len(texts):])
        self.catalog.write_dispatches(changed)
        report.dispatches_written += len(changed)
        report.sentences_written += len(texts)

    def sync_chunks(self, progress: bool = True) -> int:
        """Embed the catalog's chunks that have no vector yet (an index built
        before chunk vectors existed) and drop chunk vectors the catalog no
        longer holds; returns how many were embedded."""
        if not self.embed_chunks or self.vectors.chunk_count() == self.catalog.chunk_count():
            return 0
        stored = self.vectors.chunk_ids()
        wanted = self.catalog.chunk_ids()
        extra = sorted(stored - wanted)
        if extra:
            self.vectors.delete_chunks(extra)
        missing = sorted(wanted - stored)
        bar = tqdm(total=len(missing), unit="chunk", desc="Embedding chunks of earlier dispatches",
                   disable=not progress or not missing, dynamic_ncols=True)
        for start in range(0, len(missing), self.batch_sentences):
            chunks = self.catalog.chunks(missing[start:start + self.batch_sentences])
            dispatches = self.catalog.dispatches(c.doc_id for c in chunks)
            batch = [(dispatches[doc], [c for c in chunks if c.doc_id == doc]) for doc in dict.fromkeys(
                c.doc_id for c in chunks) if doc in dispatches]
            texts = [c.text for _, cs in batch for c in cs]
            self.vectors.upsert_chunks(batch, embed_passages(self.embedder, texts))
            bar.update(len(chunks))
        bar.close()
        return len(missing)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
