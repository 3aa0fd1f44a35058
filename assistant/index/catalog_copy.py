"""Copying a catalog into another (e.g. SQLite into PostgreSQL when an index
outgrows one machine): dispatches with their sentences, chunks and lexical
terms, and the file records, so that the next ingest skips unchanged files.
The vectors stay in Chroma, whose ids the copy keeps."""

from __future__ import annotations

from tqdm import tqdm

from assistant.domain import ParsedDispatch

PAGE = 200


def copy_catalog(source, target, progress: bool = True) -> int:
    """Write every dispatch of ``source`` into ``target`` (replacing what is
    there under the same ids) and copy the file records; returns the number
    of dispatches copied. Each page is one transaction of the target."""
    total, _ = source.list_dispatches(limit=0)
    ids: list[str] = []
    while len(ids) < total:
        _, page = source.list_dispatches(offset=len(ids), limit=PAGE)
        if not page:
            break
        ids += [d.id for d in page]
    order = source.ingest_order(ids)
    ids.sort(key=lambda i: order[i])  # written in the source's order, so "newer version" stays newer
    with tqdm(total=len(ids), unit="dispatch", desc="Copying the catalog", disable=not progress) as bar:
        for start in range(0, len(ids), PAGE):
            part = ids[start:start + PAGE]
            dispatches = source.dispatches(part)
            chunks: dict[str, list] = {}
            for chunk in source.chunks_of(part):
                chunks.setdefault(chunk.doc_id, []).append(chunk)
            target.write_dispatches([ParsedDispatch(dispatch=dispatches[i], sentences=source.sentences_of(i),
                                                    chunks=chunks.get(i, [])) for i in part])
            bar.update(len(part))
    for path, sha256, size, doc_ids in source.file_records():
        target.record_file(path, sha256, size, doc_ids)
    return len(ids)
