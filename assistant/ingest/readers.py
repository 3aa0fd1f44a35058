"""Files and folders -> raw dispatch records (plain-text and HTML dispatches,
JSON lines), with a clear reason for every file or line that cannot be read."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.ingest.markup import has_markup, html_to_text

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES | {".json"}
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TEXT_BYTES = 4 * 1024 * 1024  # a plain-text or HTML file is one dispatch
MAX_LINE_BYTES = 4 * 1024 * 1024  # one JSON line is one dispatch
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


class ReadError(Exception):
    """A file or line that cannot become a dispatch; the message says why."""


@dataclass
class RawRecord:
    """One dispatch as read from disk, before parsing."""

    origin: str
    fields: dict[str, Any]
    size: int = 0  # bytes of the file this record took (for progress)


@dataclass
class SourceFile:
    """A file to ingest and the fingerprint used to skip it when unchanged."""

    path: Path
    sha256: str = ""
    size: int = 0


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """Expand files and folders into the files to ingest (sorted, hidden
    files skipped) plus a message for every path that is missing or not a
    regular file (broken or looping links, pipes, devices)."""
    files: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if any(part.startswith(".") for part in p.relative_to(path).parts) or p.is_dir():
                    continue
                if p.is_file():
                    files.append(p)
                else:
                    problems.append(f"{p}: {_not_a_file(p)}")
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: {_not_a_file(path)}")
    return files, problems


def _not_a_file(path: Path) -> str:
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if path.is_symlink():
            return "broken symbolic link"
        if exc.errno == errno.ENOENT:
            return "no such file or folder"
        return f"cannot read ({exc.strerror or exc})"
    return "not a regular file (pipe, socket or device)"


def fingerprint(path: Path) -> SourceFile:
    """Size and sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return SourceFile(path=path, sha256=digest.hexdigest(), size=path.stat().st_size)


def read_records(path: Path) -> Iterator[RawRecord | ReadError]:
    """Yield the records of one file; a bad JSON line yields a ReadError and
    reading goes on. A file that cannot be read at all raises ReadError."""
    size = path.stat().st_size
    if size == 0:
        raise ReadError("empty file")
    if size > MAX_FILE_BYTES:
        raise ReadError(f"file too large ({size:,} bytes; limit {MAX_FILE_BYTES:,})")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ReadError(f"unsupported file type '{suffix}' (use .txt, .md, .html or .jsonl)")
    if suffix in JSONL_SUFFIXES or (suffix == ".json" and _looks_like_jsonl(path)):
        yield from _read_jsonl(path)
    elif suffix == ".json":
        raise ReadError("a .json file must hold one dispatch object per line (JSON lines)")
    else:
        if size > MAX_TEXT_BYTES:
            raise ReadError(f"too large for one dispatch ({size:,} bytes; limit {MAX_TEXT_BYTES:,}); "
                            "split it or use JSON lines")
        text = decode_bytes(path.read_bytes())
        text = clean_text(html_to_text(text) if suffix in HTML_SUFFIXES or has_markup(text) else text)
        if not text.strip():
            raise ReadError("no text in file")
        yield RawRecord(origin=str(path), fields={"text": text}, size=size)


def _looks_like_jsonl(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(64).lstrip(b"\xef\xbb\xbf").strip()[:1] in (b"{", b"")


def _read_jsonl(path: Path) -> Iterator[RawRecord | ReadError]:
    with path.open("rb") as fh:
        utf16 = fh.read(2) in (b"\xff\xfe", b"\xfe\xff")
        fh.seek(0)
        if utf16:  # sizes in characters, close enough for progress
            lines = _bounded_lines(io.TextIOWrapper(fh, encoding="utf-16").readline, "\n", MAX_LINE_BYTES // 2)
        else:
            lines = _bounded_lines(fh.readline, b"\n", MAX_LINE_BYTES)
        for number, (raw, size) in enumerate(lines, 1):
            origin = f"{path}:{number}"
            if raw is None:
                yield ReadError(f"{origin}: line too long ({size:,} bytes; limit {MAX_LINE_BYTES:,})")
                continue
            if not raw.strip():
                continue
            try:
                record = json.loads(raw if isinstance(raw, str) else decode_bytes(raw))
            except (json.JSONDecodeError, RecursionError, ReadError) as exc:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
                yield ReadError(f"{origin}: not valid JSON ({reason})")
                continue
            if not isinstance(record, dict):
                yield ReadError(f"{origin}: a line must be a JSON object")
                continue
            record = {k: clean_text(v) if isinstance(v, str) else v for k, v in record.items()}
            body = record.get("body") or record.get("text")
            if isinstance(body, str) and has_markup(body):
                body = clean_text(html_to_text(body))
            if not isinstance(body, str) or not body.strip():
                yield ReadError(f"{origin}: no 'body' text")
                continue
            record["body"] = body
            yield RawRecord(origin=origin, fields=record, size=size)


def _bounded_lines(readline: Callable[[int], Any], newline: Any, limit: int) -> Iterator[tuple[Any, int]]:
    """(line, length) pairs from ``readline``; a line longer than ``limit`` is
    skipped in blocks and given as None, so memory stays bounded."""
    while line := readline(limit + 1):
        if line.endswith(newline) or len(line) <= limit:
            yield line, len(line)
            continue
        size = len(line)
        while not line.endswith(newline) and (line := readline(1 << 20)):
            size += len(line)
        yield None, size


def decode_bytes(data: bytes) -> str:
    """Decode text: UTF-8 (with or without BOM), UTF-16 (with a BOM, or
    without one when its zero bytes show it), else cp1252. Binary data
    raises ReadError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReadError(f"broken UTF-16 text ({exc.reason})") from exc
    if b"\x00" in data[:4096]:
        encoding = _utf16_without_bom(data[:4096])
        if encoding is None:
            raise ReadError("binary data, not text")
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ReadError(f"broken UTF-16 text ({exc.reason})") from exc
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            if text.count("\ufffd") > max(3, len(text) // 100):
                raise ReadError("not text in UTF-8, UTF-16 or cp1252") from None
    sample = text[:65536]
    if len(_CONTROL.findall(sample)) > max(3, len(sample) // 100):
        raise ReadError("binary data, not text")
    return text


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the zero bytes fall on one side of each
    pair, as in UTF-16 text of Latin-script languages; else None."""
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.3 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.3 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


def clean_text(text: str) -> str:
    """Normalise newlines and Unicode (NFC) and drop invisible/control
    characters, so offsets refer to the text users see."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
