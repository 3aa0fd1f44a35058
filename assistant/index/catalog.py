"""The catalog: one SQLite database holding dispatches, sentences, chunks,
ingested files and the lexical (FTS5/BM25) index. It is the record of what is
indexed; the vector store is kept in step with it (see ingest/pipeline.py)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from assistant.domain import Chunk, Dispatch, Filters, ParsedDispatch, Sentence
from assistant.index.files import FileRecords
from assistant.index.lexical import expression_of, index_terms
from assistant.index.overfetch import overfetched

IN_BATCH = 500  # values of one IN list per query (SQLite allows 32,766 parameters)

_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER, doc_ids TEXT NOT NULL, ingested_at REAL);
CREATE TABLE IF NOT EXISTS dispatches (
  id TEXT PRIMARY KEY, title TEXT, agency TEXT, place TEXT, published_at TEXT, date_int INTEGER,
  language TEXT, source TEXT, url TEXT, body TEXT NOT NULL, origin TEXT, content_hash TEXT NOT NULL,
  ingested_at REAL);
CREATE INDEX IF NOT EXISTS dispatches_date ON dispatches(date_int);
CREATE TABLE IF NOT EXISTS sentences (
  id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL,
  char_start INTEGER NOT NULL, char_end INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sentences_doc ON sentences(doc_id, idx);
CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, sentence_ids TEXT NOT NULL, text TEXT);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY, started_at REAL);
CREATE VIRTUAL TABLE IF NOT EXISTS lexical USING fts5(terms, sentence_id UNINDEXED, doc_id UNINDEXED);
CREATE VIRTUAL TABLE IF NOT EXISTS lexical_docs USING fts5(terms, doc_id UNINDEXED);
CREATE VIRTUAL TABLE IF NOT EXISTS lexical_vocab USING fts5vocab(lexical, 'row');
"""
#: a filtered lexical search first ranks this many times the wanted rows, unfiltered
LEXICAL_OVERFETCH = 8
LEXICAL_MAX_OVERFETCH = 2000
DISPATCH_COLUMNS = "id, title, agency, place, published_at, language, source, url, body, origin, content_hash"


def date_int(value: date | None) -> int:
    """A date as YYYYMMDD (0 when unknown), the form stored for filtering."""
    return value.year * 10000 + value.month * 100 + value.day if value else 0


class Catalog(FileRecords):
    """Thread-safe access to the catalog database."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._writes = 0  # this connection's commits; PRAGMA data_version counts the others'
        self._cache: dict[str, tuple[tuple[int, int], object]] = {}
        with self._lock:
            self._db.executescript(_SCHEMA)
        self._fill_document_terms()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything or nothing."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
                self._writes += 1
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _rows(self, sql: str, params: Iterable = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _rows_in(self, sql: str, values: list[str], params: Iterable = ()) -> list[sqlite3.Row]:
        """Rows of ``sql``, whose ``{marks}`` is an ``IN`` list, for all
        ``values``, asked IN_BATCH at a time (below SQLite's parameter limit);
        ``params`` follow each batch's values."""
        rows: list[sqlite3.Row] = []
        params = list(params)
        for start in range(0, len(values), IN_BATCH):
            part = values[start:start + IN_BATCH]
            rows += self._rows(sql.format(marks=",".join("?" * len(part))), [*part, *params])
        return rows

    # --- meta -------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0]["value"] if rows else None

    # --- dispatches -------------------------------------------------------
    def content_hashes(self, doc_ids: list[str]) -> dict[str, str]:
        return {r["id"]: r["content_hash"] for r in self._rows_in(
            "SELECT id, content_hash FROM dispatches WHERE id IN ({marks})", doc_ids)}

    def write_dispatches(self, parsed: list[ParsedDispatch]) -> None:
        """Replace these dispatches (rows, sentences, chunks, lexical terms) and
        clear their pending marks, atomically."""
        now = time.time()
        with self.transaction() as db:
            self._delete(db, [p.dispatch.id for p in parsed])
            for p in parsed:
                d = p.dispatch
                db.execute(
                    f"INSERT INTO dispatches({DISPATCH_COLUMNS}, date_int, ingested_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (d.id, d.title, d.agency, d.place, d.published_at.isoformat() if d.published_at else None,
                     d.language, d.source, d.url, d.body, d.origin, d.content_hash, date_int(d.published_at), now),
                )
                db.executemany(
                    "INSERT INTO sentences(id, doc_id, idx, text, char_start, char_end) VALUES (?,?,?,?,?,?)",
                    [(s.id, s.doc_id, s.index, s.text, s.char_start, s.char_end) for s in p.sentences],
                )
                terms = [index_terms(s.text, d.language) for s in p.sentences]
                db.executemany(
                    "INSERT INTO lexical(terms, sentence_id, doc_id) VALUES (?,?,?)",
                    [(t, s.id, s.doc_id) for t, s in zip(terms, p.sentences)],
                )
                db.execute("INSERT INTO lexical_docs(terms, doc_id) VALUES (?,?)", (" ".join(terms), d.id))
                db.executemany(
                    "INSERT INTO chunks(id, doc_id, sentence_ids, text) VALUES (?,?,?,?)",
                    [(c.id, c.doc_id, json.dumps(c.sentence_ids), c.text) for c in p.chunks],
                )
            db.executemany("DELETE FROM pending WHERE doc_id=?", [(p.dispatch.id,) for p in parsed])

    def delete_dispatches(self, doc_ids: list[str]) -> None:
        with self.transaction() as db:
            self._delete(db, doc_ids)
            db.executemany("DELETE FROM pending WHERE doc_id=?", [(d,) for d in doc_ids])

    @staticmethod
    def _delete(db: sqlite3.Connection, doc_ids: list[str]) -> None:
        rows = [(d,) for d in doc_ids]
        for table, column in (("dispatches", "id"), ("sentences", "doc_id"), ("chunks", "doc_id"),
                              ("lexical", "doc_id"), ("lexical_docs", "doc_id")):
            db.executemany(f"DELETE FROM {table} WHERE {column}=?", rows)

    def dispatch(self, doc_id: str) -> Dispatch | None:
        rows = self._rows(f"SELECT {DISPATCH_COLUMNS} FROM dispatches WHERE id=?", (doc_id,))
        return dispatch_from_row(rows[0]) if rows else None

    def dispatches(self, doc_ids: Iterable[str]) -> dict[str, Dispatch]:
        return {r["id"]: dispatch_from_row(r) for r in self._rows_in(
            f"SELECT {DISPATCH_COLUMNS} FROM dispatches WHERE id IN ({{marks}})", list(dict.fromkeys(doc_ids)))}

    def ids_with_titles(self, titles: Iterable[str]) -> set[str]:
        """The ids of the dispatches titled exactly one of ``titles`` (e.g. the
        paragraphs of one article)."""
        names = [t for t in dict.fromkeys(titles) if t]
        return {r[0] for r in self._rows_in("SELECT id FROM dispatches WHERE title IN ({marks})", names)}

    def list_dispatches(self, query: str = "", filters: Filters | None = None, offset: int = 0,
                        limit: int = 50) -> tuple[int, list[Dispatch]]:
        """Dispatches newest first, optionally matching ``query`` in title/body."""
        where, params = _filter_sql(filters or Filters(), alias="d")
        if query:
            where.append("(d.title LIKE ? OR d.body LIKE ? OR d.id = ?)")
            params += [f"%{query}%", f"%{query}%", query]
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self._rows(f"SELECT COUNT(*) AS n FROM dispatches d {clause}", params)[0]["n"]
        rows = self._rows(
            f"SELECT {', '.join('d.' + c.strip() for c in DISPATCH_COLUMNS.split(','))} FROM dispatches d "
            f"{clause} ORDER BY d.date_int DESC, d.id LIMIT ? OFFSET ?", [*params, limit, offset])
        return total, [dispatch_from_row(r) for r in rows]

    # --- sentences --------------------------------------------------------
    def sentences(self, ids: Iterable[str]) -> dict[str, Sentence]:
        return {r["id"]: sentence_from_row(r) for r in self._rows_in(
            "SELECT * FROM sentences WHERE id IN ({marks})", list(dict.fromkeys(ids)))}

    def sentences_of(self, doc_id: str, first: int = 0, last: int = 1 << 30) -> list[Sentence]:
        return [sentence_from_row(r) for r in self._rows(
            "SELECT * FROM sentences WHERE doc_id=? AND idx BETWEEN ? AND ? ORDER BY idx", (doc_id, first, last))]

    def chunks(self, chunk_ids: list[str]) -> list[Chunk]:
        """These chunks, in the order given (unknown ids left out)."""
        found = {r["id"]: chunk_from_row(r) for r in self._rows_in("SELECT * FROM chunks WHERE id IN ({marks})", chunk_ids)}
        return [found[i] for i in chunk_ids if i in found]

    def chunks_of(self, doc_ids: Iterable[str]) -> list[Chunk]:
        """The chunks of these dispatches (for copying a catalog)."""
        return [chunk_from_row(r) for r in self._rows_in("SELECT * FROM chunks WHERE doc_id IN ({marks}) ORDER BY doc_id, id",
                                                 list(dict.fromkeys(doc_ids)))]

    def chunk_ids(self) -> set[str]:
        return {r[0] for r in self._rows("SELECT id FROM chunks")}

    def chunk_count(self) -> int:
        return self._rows("SELECT COUNT(*) FROM chunks")[0][0]

    def lexical_search(self, terms: Iterable[str], limit: int, filters: Filters | None = None,
                       share: float | None = None) -> list[tuple[str, float]]:
        """BM25 of any of the stemmed ``terms`` over the sentences: (sentence
        id, score), best first (score = -bm25, larger is better). ``share``:
        the expected share of dispatches passing ``filters`` (see
        ``share_matching``), if known."""
        return self._bm25("lexical", "sentence_id", expression_of(set(terms)), limit, filters, share)

    def lexical_document_search(self, terms: Iterable[str], limit: int, filters: Filters | None = None,
                                share: float | None = None) -> list[tuple[str, float]]:
        """BM25 over each dispatch's stemmed terms as one text: (dispatch id,
        score), best first (score = -bm25). Words of a question spread over
        several sentences of one dispatch count together here."""
        return self._bm25("lexical_docs", "doc_id", expression_of(set(terms)), limit, filters, share)

    def _bm25(self, table: str, id_column: str, expression: str | None, limit: int,
              filters: Filters | None, share: float | None) -> list[tuple[str, float]]:
        """(``id_column``, -bm25) of the rows of FTS5 ``table`` matching ``expression``, best first.

        With filters, the best unfiltered rows, enough to hold ``limit`` that
        pass, are ranked first and judged by their dispatch: joining every
        matching row to its dispatch before ranking reads each row's stored
        columns, which costs several times the ranking itself on a large index.
        When too few pass (see overfetch.py), up to ``LEXICAL_MAX_OVERFETCH``
        rows looked at, the join does the filtering."""
        if not expression:
            return []
        where, params = _filter_sql(filters or Filters(), alias="d")
        columns = f"SELECT {table}.{id_column} AS id, {table}.doc_id AS doc_id, -bm25({table}) AS score FROM {table} "
        best = columns + f"WHERE {table} MATCH ? ORDER BY bm25({table}) LIMIT ?"
        if not where:
            return [(r["id"], r["score"]) for r in self._rows(best, [expression, limit])]
        if share == 0:
            return []

        def best_passing(wide: int) -> tuple[list[tuple[str, float]], int]:
            rows = self._rows(best, [expression, wide])
            ok = self.passing({r["doc_id"] for r in rows}, filters)
            return [(r["id"], r["score"]) for r in rows if r["doc_id"] in ok], len(rows)

        kept = overfetched(best_passing, limit, share, floor=limit, factor=LEXICAL_OVERFETCH,
                           cap=LEXICAL_MAX_OVERFETCH)
        if kept is not None:
            return kept
        rows = self._rows(
            columns + f"JOIN dispatches d ON d.id = {table}.doc_id "
            f"WHERE {table} MATCH ? AND {' AND '.join(where)} ORDER BY bm25({table}) LIMIT ?",
            [expression, *params, limit])
        return [(r["id"], r["score"]) for r in rows]

    def passing(self, doc_ids: Iterable[str], filters: Filters | None) -> set[str]:
        """The dispatches among ``doc_ids`` that pass ``filters``."""
        where, params = _filter_sql(filters or Filters(), alias="d")
        return {r[0] for r in self._rows_in("SELECT d.id FROM dispatches d WHERE d.id IN ({marks})"
                                            + "".join(f" AND {w}" for w in where),
                                            list(dict.fromkeys(doc_ids)), params)}

    def _fill_document_terms(self) -> None:
        """Build the per-dispatch lexical table from the sentence terms when a
        catalog written before it existed has dispatches but no rows there."""
        if self._rows("SELECT 1 FROM lexical_docs LIMIT 1") or not self._rows("SELECT 1 FROM lexical LIMIT 1"):
            return
        with self.transaction() as db:
            db.execute("INSERT INTO lexical_docs(terms, doc_id) SELECT group_concat(terms, ' '), doc_id "
                       "FROM (SELECT terms, doc_id FROM lexical ORDER BY doc_id, sentence_id) GROUP BY doc_id")

    def ingest_order(self, doc_ids: Iterable[str]) -> dict[str, tuple[float, int]]:
        """(ingested_at, rowid) of each dispatch: larger means written later."""
        return {r[0]: (r[1] or 0.0, r[2]) for r in self._rows_in(
            "SELECT id, ingested_at, rowid FROM dispatches WHERE id IN ({marks})", list(dict.fromkeys(doc_ids)))}

    def share_matching(self, filters: Filters) -> float:
        """The share of dispatches that pass the filters (1.0 without filters
        or without dispatches): how selective a filtered search will be."""
        where, params = _filter_sql(filters, alias="d")
        if not where:
            return 1.0
        total = self._rows("SELECT COUNT(*) FROM dispatches")[0][0]
        if not total:
            return 1.0
        return self._rows(f"SELECT COUNT(*) FROM dispatches d WHERE {' AND '.join(where)}", params)[0][0] / total

    def has_dated_dispatches(self) -> bool:
        """Whether any dispatch has a publication date."""
        return bool(self._rows("SELECT 1 FROM dispatches WHERE date_int > 0 LIMIT 1"))

    def language_counts(self) -> dict[str, int]:
        """Dispatches per language."""
        return dict(self._cached("language_counts", lambda db: {r[0] or "und": r[1] for r in db.execute(
            "SELECT language, COUNT(*) FROM dispatches GROUP BY language ORDER BY 2 DESC")}))

    def frequent_terms(self, terms: Iterable[str], max_share: float) -> set[str]:
        """The ``terms`` found in more than ``max_share`` of the sentences."""
        terms = list(terms)
        if not terms or max_share >= 1:
            return set()
        rows = self._cached("sentence_count", lambda db: db.execute("SELECT COUNT(*) FROM sentences").fetchone()[0])
        return {r[0] for r in self._rows_in("SELECT term FROM lexical_vocab WHERE term IN ({marks}) AND doc > ?",
                                            terms, [max_share * rows])}

    def _cached(self, name: str, compute):
        """``compute(connection)``, computed again only after the catalog changed
        (a commit here, or one of another connection: PRAGMA data_version)."""
        with self._lock:
            version = (self._writes, self._db.execute("PRAGMA data_version").fetchone()[0])
            if name not in self._cache or self._cache[name][0] != version:
                self._cache[name] = (version, compute(self._db))
            return self._cache[name][1]

    # --- status -----------------------------------------------------------
    def stats(self) -> dict:
        one = lambda sql: self._rows(sql)[0][0]  # noqa: E731
        return {
            "dispatches": one("SELECT COUNT(*) FROM dispatches"),
            "sentences": one("SELECT COUNT(*) FROM sentences"),
            "chunks": one("SELECT COUNT(*) FROM chunks"),
            "files": one("SELECT COUNT(*) FROM files"),
            "by_language": self.language_counts(),
            "by_source": {r[0] or "unknown": r[1] for r in self._rows(
                "SELECT source, COUNT(*) FROM dispatches GROUP BY source ORDER BY 2 DESC LIMIT 50")},
            "last_ingest": self.get_meta("last_ingest"),
        }

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _filter_sql(filters: Filters, alias: str) -> tuple[list[str], list]:
    where: list[str] = []
    params: list = []
    if filters.since:
        where.append(f"{alias}.date_int >= ?")
        params.append(date_int(filters.since))
    if filters.until:
        where.append(f"{alias}.date_int BETWEEN 1 AND ?")
        params.append(date_int(filters.until))
    # lists of any length: one JSON parameter each, read by json_each
    if filters.sources:
        listed = "(SELECT value FROM json_each(?))"
        where.append(f"(lower({alias}.source) IN {listed} OR lower({alias}.agency) IN {listed})")
        low = json.dumps([s.lower() for s in filters.sources])
        params += [low, low]
    if filters.languages:
        where.append(f"{alias}.language IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(filters.languages)))
    if filters.exclude_doc_ids:
        where.append(f"{alias}.id NOT IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(filters.exclude_doc_ids)))
    return where, params


def dispatch_from_row(row) -> Dispatch:
    """A Dispatch from a row of DISPATCH_COLUMNS (SQLite or PostgreSQL)."""
    data = dict(row)
    data["published_at"] = date.fromisoformat(data["published_at"]) if data["published_at"] else None
    return Dispatch(**data)


def sentence_from_row(row) -> Sentence:
    """A Sentence from a row of the sentences table."""
    return Sentence(id=row["id"], doc_id=row["doc_id"], index=row["idx"], text=row["text"],
                    char_start=row["char_start"], char_end=row["char_end"])


def chunk_from_row(row) -> Chunk:
    """A Chunk from a row of the chunks table."""
    return Chunk(id=row["id"], doc_id=row["doc_id"], sentence_ids=json.loads(row["sentence_ids"]), text=row["text"])
