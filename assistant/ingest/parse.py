"""Raw record -> parsed dispatch: dateline, language, sentences, chunks, ids."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime

from assistant.domain import Dispatch, ParsedDispatch
from assistant.ingest.dateline import parse_date_words, parse_dateline
from assistant.ingest.readers import RawRecord, ReadError
from assistant.ingest.sentences import group_chunks, split_sentences
from assistant.settings import IndexSettings
from assistant.text.language import detect_language

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_LANG = re.compile(r"[A-Za-z]{2,3}")


def parse_record(record: RawRecord, chunk_max_words: int = IndexSettings().chunk_max_words) -> ParsedDispatch:
    """Turn one raw record into a dispatch with sentences and chunks."""
    fields = record.fields
    if "text" in fields and "body" not in fields:
        title, text = _split_title(fields["text"])
        fields = {"title": title, "body": text}
    body_in = fields["body"].strip()
    line = parse_dateline(body_in)
    body = line.body.strip() if line.matched else body_in
    if not body:
        raise ReadError(f"{record.origin}: a dateline with no body")
    published = _as_date(fields.get("published_at")) or line.published_at
    place = line.place
    if not place and isinstance(fields.get("dateline"), str):
        place = fields["dateline"].split(",")[0].strip().title() or None
        published = published or parse_date_words(fields["dateline"])
    lang = fields.get("lang")
    language = lang.lower() if isinstance(lang, str) and _LANG.fullmatch(lang) else detect_language(body)
    doc_id = _doc_id(fields.get("id"), body)
    dispatch = Dispatch(
        id=doc_id,
        title=_str(fields.get("title")),
        agency=line.agency or _str(fields.get("agency")),
        place=place,
        published_at=published,
        language=language,
        source=_str(fields.get("source")) or line.agency,
        url=_str(fields.get("url")),
        body=body,
        origin=record.origin,
    )
    dispatch.content_hash = _content_hash(dispatch)
    sentences = split_sentences(doc_id, body, language)
    if not sentences:
        raise ReadError(f"{record.origin}: no sentences in the body")
    return ParsedDispatch(dispatch=dispatch, sentences=sentences, chunks=group_chunks(doc_id, sentences, chunk_max_words))


def _split_title(text: str) -> tuple[str | None, str]:
    """A short first line followed by a dateline is the title."""
    first, _, rest = text.strip().partition("\n")
    if rest and len(first) < 200 and not first.rstrip().endswith(".") and parse_dateline(rest.strip()).matched:
        return first.strip(), rest
    return None, text


def _doc_id(raw_id: object, body: str) -> str:
    if raw_id is not None and str(raw_id).strip():
        return _ID_UNSAFE.sub("_", str(raw_id).strip())[:128]
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def _content_hash(d: Dispatch) -> str:
    payload = d.model_dump(mode="json", exclude={"origin", "content_hash"})
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _as_date(value: object) -> date | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return parse_date_words(value)


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
