"""Files and folders -> raw dispatch records (plain-text dispatches and JSON
lines), with a clear reason for every file or line that cannot be read."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
MAX_FILE_BYTES = 64 * 1024 * 1024
_INVISIBLE = re.compile("[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
    errors: list[str] = field(default_factory=list)


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """Expand files and folders into the files to ingest (sorted, hidden
    files skipped) plus a message for every path that does not exist."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            missing.append(f"{path}: no such file or folder")
    return files, missing


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
    if suffix in JSONL_SUFFIXES or (suffix == ".json" and _looks_like_jsonl(path)):
        yield from _read_jsonl(path)
    elif suffix in TEXT_SUFFIXES or suffix not in {".json"}:
        text = clean_text(decode_bytes(path.read_bytes()))
        if not text.strip():
            raise ReadError("no text in file")
        yield RawRecord(origin=str(path), fields={"text": text}, size=size)
    else:
        raise ReadError("a .json file must hold one dispatch object per line (JSON lines)")


def _looks_like_jsonl(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(1).strip() in (b"{", b"")


def _read_jsonl(path: Path) -> Iterator[RawRecord | ReadError]:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            origin = f"{path}:{number}"
            try:
                record = json.loads(decode_bytes(raw))
            except (json.JSONDecodeError, ReadError) as exc:
                yield ReadError(f"{origin}: not valid JSON ({exc})")
                continue
            if not isinstance(record, dict):
                yield ReadError(f"{origin}: a line must be a JSON object")
                continue
            body = record.get("body") or record.get("text")
            if not isinstance(body, str) or not body.strip():
                yield ReadError(f"{origin}: no 'body' text")
                continue
            record["body"] = clean_text(body)
            yield RawRecord(origin=origin, fields=record, size=len(raw))


def decode_bytes(data: bytes) -> str:
    """Decode text: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252.
    Binary data raises ReadError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReadError(f"broken UTF-16 text ({exc.reason})") from exc
    if b"\x00" in data[:4096]:
        raise ReadError("binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if text.count("\ufffd") > max(3, len(text) // 100):
        raise ReadError("not text in UTF-8, UTF-16 or cp1252")
    return text


def clean_text(text: str) -> str:
    """Normalise newlines and Unicode (NFC) and drop invisible/control
    characters, so offsets refer to the text users see."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
