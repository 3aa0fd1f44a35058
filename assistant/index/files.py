"""The catalog's bookkeeping of ingest: which files were read (path, sha256,
the dispatches each gave), and which dispatches are being written (pending),
so that a crashed ingest is found and repaired on the next one."""

from __future__ import annotations

import json
import time


class FileRecords:
    """The ``files`` and ``pending`` tables, for ``Catalog`` (which provides
    ``transaction()`` and ``_rows()`` over its connection)."""

    def file_record(self, path: str) -> tuple[str, list[str]] | None:
        """(sha256, doc ids) of a file as last ingested, or None."""
        rows = self._rows("SELECT sha256, doc_ids FROM files WHERE path=?", (path,))
        return (rows[0]["sha256"], json.loads(rows[0]["doc_ids"])) if rows else None

    def record_file(self, path: str, sha256: str, size: int, doc_ids: list[str]) -> None:
        """Record a file as ingested, with the dispatches it gave."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO files(path, sha256, size, doc_ids, ingested_at) VALUES (?,?,?,?,?)",
                (path, sha256, size, json.dumps(doc_ids), time.time()),
            )
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('last_ingest', ?)", (str(time.time()),))

    def file_records(self) -> list[tuple[str, str, int, list[str]]]:
        """Every file record: (path, sha256, size, doc ids)."""
        return [(r["path"], r["sha256"], r["size"], json.loads(r["doc_ids"]))
                for r in self._rows("SELECT path, sha256, size, doc_ids FROM files ORDER BY path")]

    def forget_files_with(self, doc_ids: list[str]) -> None:
        """Mark file records that own any of these dispatches as changed, so
        the files are read again on the next ingest. Their dispatch lists are
        kept: they tell which old dispatches the new reading drops."""
        wanted = set(doc_ids)
        with self.transaction() as db:
            for row in db.execute("SELECT path, doc_ids FROM files").fetchall():
                if wanted & set(json.loads(row["doc_ids"])):
                    db.execute("UPDATE files SET sha256='' WHERE path=?", (row["path"],))

    def doc_ids_of_other_files(self, path: str) -> set[str]:
        """The dispatches recorded for every file but ``path``."""
        ids: set[str] = set()
        for row in self._rows("SELECT doc_ids FROM files WHERE path<>?", (path,)):
            ids.update(json.loads(row["doc_ids"]))
        return ids

    # --- claims (one ingest at a time per home: nothing to share out) ------
    #: several workers may not ingest into this catalog at once (one home, one ingest.lock)
    shared = False

    def claim_file(self, path: str) -> bool:
        """Take ``path`` for this ingest: always granted (ingests of one home run one at a time)."""
        return True

    def release_file(self, path: str) -> None:
        """Nothing to release (see ``claim_file``)."""

    # --- pending (crash safety) --------------------------------------------
    def mark_pending(self, doc_ids: list[str]) -> None:
        """Note dispatches about to be written to the catalog and the vector store."""
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO pending(doc_id, started_at) VALUES (?, ?)",
                           [(d, time.time()) for d in doc_ids])

    def pending(self) -> list[str]:
        """Dispatches whose writing began but was not seen to finish."""
        return [r["doc_id"] for r in self._rows("SELECT doc_id FROM pending")]
