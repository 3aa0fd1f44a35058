"""The catalog on PostgreSQL (``index.catalog = "postgresql://..."``): the same
records and behaviour as the SQLite catalog (catalog.py), shared by workers on
several machines.

Lexical search is BM25 computed in SQL over the same Snowball stems the SQLite
catalog gives FTS5 (a ``postings`` table per sentence and per dispatch, with
FTS5's formula: k1 = 1.2, b = 0.75, idf = ln((N - n + 0.5) / (n + 0.5)),
at least 1e-6), or, with ``index.postgres_lexical = "tsearch"``, PostgreSQL's
own text search (``to_tsvector`` with the dispatch language's configuration,
``ts_rank``). Writers of the same dispatches wait for each other (advisory
locks per dispatch), so two ingests of overlapping files leave no duplicates.

Pending marks (crash safety) carry the worker that made them; each worker
holds a session advisory lock on its own name for as long as its connection
lives, so ``pending()`` returns only the marks of workers that are gone (or
this one's): an ingest starting on one machine never "repairs" dispatches
another machine is writing at that moment."""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from assistant.domain import Chunk, Dispatch, Filters, ParsedDispatch, Sentence
from assistant.index.catalog import DISPATCH_COLUMNS, chunk_from_row, date_int, dispatch_from_row, sentence_from_row
from assistant.index.lexical import index_terms

K1, B = 1.2, 0.75  # FTS5's bm25() defaults
TSEARCH_CONFIGS = {"it": "italian", "en": "english", "fr": "french", "de": "german", "es": "spanish",
                   "pt": "portuguese", "nl": "dutch", "ru": "russian", "sv": "swedish", "da": "danish"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size BIGINT, doc_ids TEXT NOT NULL, ingested_at DOUBLE PRECISION);
CREATE TABLE IF NOT EXISTS dispatches (
  seq BIGSERIAL, id TEXT PRIMARY KEY, title TEXT, agency TEXT, place TEXT, published_at TEXT, date_int INTEGER,
  language TEXT, source TEXT, url TEXT, body TEXT NOT NULL, origin TEXT, content_hash TEXT NOT NULL,
  ingested_at DOUBLE PRECISION, n_terms INTEGER NOT NULL DEFAULT 0, tsv TSVECTOR);
CREATE INDEX IF NOT EXISTS dispatches_date ON dispatches(date_int);
CREATE INDEX IF NOT EXISTS dispatches_tsv ON dispatches USING GIN (tsv);
CREATE TABLE IF NOT EXISTS sentences (
  id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, idx INTEGER NOT NULL, text TEXT NOT NULL,
  char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, n_terms INTEGER NOT NULL DEFAULT 0, tsv TSVECTOR);
CREATE INDEX IF NOT EXISTS sentences_doc ON sentences(doc_id, idx);
CREATE INDEX IF NOT EXISTS sentences_tsv ON sentences USING GIN (tsv);
CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, sentence_ids TEXT NOT NULL, text TEXT);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY, started_at DOUBLE PRECISION, owner TEXT);
CREATE TABLE IF NOT EXISTS claims (path TEXT PRIMARY KEY, owner TEXT NOT NULL, claimed_at DOUBLE PRECISION);
CREATE TABLE IF NOT EXISTS postings (term TEXT NOT NULL, sentence_id TEXT NOT NULL, doc_id TEXT NOT NULL,
  tf INTEGER NOT NULL, len INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS postings_term ON postings(term);
CREATE INDEX IF NOT EXISTS postings_doc ON postings(doc_id);
CREATE TABLE IF NOT EXISTS doc_postings (term TEXT NOT NULL, doc_id TEXT NOT NULL, tf INTEGER NOT NULL,
  len INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS doc_postings_term ON doc_postings(term);
CREATE INDEX IF NOT EXISTS doc_postings_doc ON doc_postings(doc_id);
INSERT INTO meta(key, value) VALUES ('version', '0') ON CONFLICT (key) DO NOTHING;
"""


class PostgresCatalog:
    """Thread-safe access to a catalog in a PostgreSQL database (one connection)."""

    def __init__(self, url: str, lexical: str = "bm25"):
        import psycopg
        from psycopg.rows import dict_row

        if lexical not in ("bm25", "tsearch"):
            raise ValueError(f"postgres_lexical must be 'bm25' or 'tsearch', not {lexical!r}")
        self.lexical = lexical
        self.location = _without_password(url)
        try:
            self._db = psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=10)
        except psycopg.Error as exc:
            raise CatalogUnavailable(f"The PostgreSQL catalog at {self.location} is not reachable: {exc}") from exc
        self._lock = threading.RLock()
        self._cache: dict[str, tuple[str, object]] = {}
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._db.execute("SELECT pg_advisory_lock(hashtextextended(%s, 1))", (self.worker,))  # alive while connected
        with self._lock, self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(727274)")  # one schema creation at a time
            self._db.execute(_SCHEMA)

    #: several workers may ingest into this catalog at once (see claim_file)
    shared = True

    @contextmanager
    def transaction(self) -> Iterator:
        """One atomic write: everything or nothing; bumps the catalog's version."""
        with self._lock, self._db.transaction():
            yield self._db
            self._db.execute("UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'version'")

    def _rows(self, sql: str, params: Iterable = ()) -> list[dict]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _one(self, sql: str, params: Iterable = ()):
        return next(iter(self._rows(sql, params)[0].values()))

    # --- meta -------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key=%s", (key,))
        return rows[0]["value"] if rows else None

    # --- files and pending marks -------------------------------------------
    def file_record(self, path: str) -> tuple[str, list[str]] | None:
        """(sha256, doc ids) of a file as last ingested, or None."""
        rows = self._rows("SELECT sha256, doc_ids FROM files WHERE path=%s", (path,))
        return (rows[0]["sha256"], json.loads(rows[0]["doc_ids"])) if rows else None

    def record_file(self, path: str, sha256: str, size: int, doc_ids: list[str]) -> None:
        """Record a file as ingested, with the dispatches it gave."""
        with self.transaction() as db:
            db.execute("INSERT INTO files(path, sha256, size, doc_ids, ingested_at) VALUES (%s,%s,%s,%s,%s) "
                       "ON CONFLICT (path) DO UPDATE SET sha256=EXCLUDED.sha256, size=EXCLUDED.size, "
                       "doc_ids=EXCLUDED.doc_ids, ingested_at=EXCLUDED.ingested_at",
                       (path, sha256, size, json.dumps(doc_ids), time.time()))
            db.execute("INSERT INTO meta(key, value) VALUES ('last_ingest', %s) "
                       "ON CONFLICT (key) DO UPDATE SET value=EXCLUDED.value", (str(time.time()),))

    def file_records(self) -> list[tuple[str, str, int, list[str]]]:
        """Every file record: (path, sha256, size, doc ids)."""
        return [(r["path"], r["sha256"], r["size"], json.loads(r["doc_ids"]))
                for r in self._rows("SELECT path, sha256, size, doc_ids FROM files ORDER BY path")]

    def forget_files_with(self, doc_ids: list[str]) -> None:
        """Mark file records owning any of these dispatches as changed (read again next time)."""
        wanted = set(doc_ids)
        with self.transaction() as db:
            for row in db.execute("SELECT path, doc_ids FROM files").fetchall():
                if wanted & set(json.loads(row["doc_ids"])):
                    db.execute("UPDATE files SET sha256='' WHERE path=%s", (row["path"],))

    def doc_ids_of_other_files(self, path: str) -> set[str]:
        """The dispatches recorded for every file but ``path``."""
        ids: set[str] = set()
        for row in self._rows("SELECT doc_ids FROM files WHERE path<>%s", (path,)):
            ids.update(json.loads(row["doc_ids"]))
        return ids

    def mark_pending(self, doc_ids: list[str]) -> None:
        """Note dispatches about to be written to the catalog and the vector store."""
        with self.transaction() as db:
            with db.cursor() as cur:
                cur.executemany("INSERT INTO pending(doc_id, started_at, owner) VALUES (%s, %s, %s) "
                                "ON CONFLICT (doc_id) DO UPDATE SET started_at=EXCLUDED.started_at, "
                                "owner=EXCLUDED.owner", [(d, time.time(), self.worker) for d in doc_ids])

    def _alive(self, owner: str | None) -> bool:
        """Whether another worker named ``owner`` is connected now (holds its session lock)."""
        if owner is None or owner == self.worker:
            return False
        free = self._one("SELECT pg_try_advisory_lock(hashtextextended(%s, 1))", (owner,))
        if free:
            self._one("SELECT pg_advisory_unlock(hashtextextended(%s, 1))", (owner,))
        return not free

    def claim_file(self, path: str) -> bool:
        """Take ``path`` for this worker, unless another live worker holds it
        (workers of one ingest job share out the files this way)."""
        with self.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 2))", (path,))
            row = db.execute("SELECT owner FROM claims WHERE path=%s", (path,)).fetchone()
            if row is not None and self._alive(row["owner"]):
                return False
            db.execute("INSERT INTO claims(path, owner, claimed_at) VALUES (%s,%s,%s) ON CONFLICT (path) DO UPDATE "
                       "SET owner=EXCLUDED.owner, claimed_at=EXCLUDED.claimed_at", (path, self.worker, time.time()))
            return True

    def release_file(self, path: str) -> None:
        """Give up this worker's claim on ``path`` (done, or failed)."""
        with self.transaction() as db:
            db.execute("DELETE FROM claims WHERE path=%s AND owner=%s", (path, self.worker))

    def pending(self) -> list[str]:
        """Dispatches whose writing began but was not seen to finish, by this
        worker or by one that is gone (its connection closed: its session lock
        is free); not those another live worker is writing now."""
        rows = self._rows("SELECT doc_id, owner FROM pending ORDER BY doc_id")
        alive = {owner: self._alive(owner) for owner in {r["owner"] for r in rows}}
        return [r["doc_id"] for r in rows if not alive[r["owner"]]]

    # --- dispatches -------------------------------------------------------
    def content_hashes(self, doc_ids: list[str]) -> dict[str, str]:
        return {r["id"]: r["content_hash"] for r in self._rows(
            "SELECT id, content_hash FROM dispatches WHERE id = ANY(%s)", (list(doc_ids),))}

    def write_dispatches(self, parsed: list[ParsedDispatch]) -> None:
        """Replace these dispatches (rows, sentences, chunks, lexical terms) and
        clear their pending marks, atomically."""
        now = time.time()
        ids = [p.dispatch.id for p in parsed]
        with self.transaction() as db, db.cursor() as cur:
            _lock_dispatches(cur, ids)
            _delete(cur, ids)
            for p in parsed:
                d = p.dispatch
                config = TSEARCH_CONFIGS.get(d.language or "", "simple")
                terms = [index_terms(s.text, d.language).split() for s in p.sentences]
                all_terms = [t for ts in terms for t in ts]
                cur.execute(
                    f"INSERT INTO dispatches({DISPATCH_COLUMNS}, date_int, ingested_at, n_terms, tsv) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s, to_tsvector(%s::regconfig, %s))",
                    (d.id, d.title, d.agency, d.place, d.published_at.isoformat() if d.published_at else None,
                     d.language, d.source, d.url, d.body, d.origin, d.content_hash, date_int(d.published_at), now,
                     len(all_terms), config, f"{d.title or ''}\n{d.body}"))
                cur.executemany(
                    "INSERT INTO sentences(id, doc_id, idx, text, char_start, char_end, n_terms, tsv) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s, to_tsvector(%s::regconfig, %s))",
                    [(s.id, s.doc_id, s.index, s.text, s.char_start, s.char_end, len(t), config, s.text)
                     for s, t in zip(p.sentences, terms)])
                cur.executemany(
                    "INSERT INTO postings(term, sentence_id, doc_id, tf, len) VALUES (%s,%s,%s,%s,%s)",
                    [(term, s.id, d.id, tf, len(t)) for s, t in zip(p.sentences, terms)
                     for term, tf in Counter(t).items()])
                cur.executemany(
                    "INSERT INTO doc_postings(term, doc_id, tf, len) VALUES (%s,%s,%s,%s)",
                    [(term, d.id, tf, len(all_terms)) for term, tf in Counter(all_terms).items()])
                cur.executemany(
                    "INSERT INTO chunks(id, doc_id, sentence_ids, text) VALUES (%s,%s,%s,%s)",
                    [(c.id, c.doc_id, json.dumps(c.sentence_ids), c.text) for c in p.chunks])
            cur.execute("DELETE FROM pending WHERE doc_id = ANY(%s)", (ids,))

    def delete_dispatches(self, doc_ids: list[str]) -> None:
        with self.transaction() as db, db.cursor() as cur:
            _lock_dispatches(cur, doc_ids)
            _delete(cur, doc_ids)
            cur.execute("DELETE FROM pending WHERE doc_id = ANY(%s)", (list(doc_ids),))

    def dispatch(self, doc_id: str) -> Dispatch | None:
        rows = self._rows(f"SELECT {DISPATCH_COLUMNS} FROM dispatches WHERE id=%s", (doc_id,))
        return dispatch_from_row(rows[0]) if rows else None

    def dispatches(self, doc_ids: Iterable[str]) -> dict[str, Dispatch]:
        return {r["id"]: dispatch_from_row(r) for r in self._rows(
            f"SELECT {DISPATCH_COLUMNS} FROM dispatches WHERE id = ANY(%s)", (list(dict.fromkeys(doc_ids)),))}

    def ids_with_titles(self, titles: Iterable[str]) -> set[str]:
        """The ids of the dispatches titled exactly one of ``titles``."""
        names = [t for t in dict.fromkeys(titles) if t]
        return {r["id"] for r in self._rows("SELECT id FROM dispatches WHERE title = ANY(%s)", (names,))}

    def list_dispatches(self, query: str = "", filters: Filters | None = None, offset: int = 0,
                        limit: int = 50) -> tuple[int, list[Dispatch]]:
        """Dispatches newest first, optionally matching ``query`` in title/body."""
        where, params = _filter_sql(filters or Filters(), alias="d")
        if query:
            like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(d.title ILIKE %s OR d.body ILIKE %s OR d.id = %s)")
            params += [like, like, query]
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self._one(f"SELECT COUNT(*) FROM dispatches d {clause}", params)
        rows = self._rows(
            f"SELECT {', '.join('d.' + c.strip() for c in DISPATCH_COLUMNS.split(','))} FROM dispatches d "
            f"{clause} ORDER BY d.date_int DESC, d.id LIMIT %s OFFSET %s", [*params, limit, offset])
        return total, [dispatch_from_row(r) for r in rows]

    # --- sentences and chunks --------------------------------------------
    def sentences(self, ids: Iterable[str]) -> dict[str, Sentence]:
        return {r["id"]: sentence_from_row(r) for r in self._rows(
            "SELECT id, doc_id, idx, text, char_start, char_end FROM sentences WHERE id = ANY(%s)",
            (list(dict.fromkeys(ids)),))}

    def sentences_of(self, doc_id: str, first: int = 0, last: int = 1 << 30) -> list[Sentence]:
        return [sentence_from_row(r) for r in self._rows(
            "SELECT id, doc_id, idx, text, char_start, char_end FROM sentences WHERE doc_id=%s "
            "AND idx BETWEEN %s AND %s ORDER BY idx", (doc_id, first, last))]

    def chunks(self, chunk_ids: list[str]) -> list[Chunk]:
        """These chunks, in the order given (unknown ids left out)."""
        found = {r["id"]: chunk_from_row(r) for r in self._rows("SELECT * FROM chunks WHERE id = ANY(%s)", (list(chunk_ids),))}
        return [found[i] for i in chunk_ids if i in found]

    def chunks_of(self, doc_ids: Iterable[str]) -> list[Chunk]:
        """The chunks of these dispatches (for copying a catalog)."""
        return [chunk_from_row(r) for r in self._rows("SELECT * FROM chunks WHERE doc_id = ANY(%s) ORDER BY doc_id, id",
                                              (list(dict.fromkeys(doc_ids)),))]

    def chunk_ids(self) -> set[str]:
        return {r["id"] for r in self._rows("SELECT id FROM chunks")}

    def chunk_count(self) -> int:
        return self._one("SELECT COUNT(*) FROM chunks")

    # --- lexical search ---------------------------------------------------
    def lexical_search(self, terms: Iterable[str], limit: int, filters: Filters | None = None,
                       share: float | None = None) -> list[tuple[str, float]]:
        """Lexical search of any of the stemmed ``terms`` over the sentences:
        (sentence id, score), best first. ``share`` is not needed here (the
        planner joins the filters); it is accepted for the same interface."""
        if self.lexical == "tsearch":
            return self._tsearch("sentences", "s", "s.id", terms, limit, filters)
        return self._bm25("postings", "sentence_id", self._stats("postings"), terms, limit, filters)

    def lexical_document_search(self, terms: Iterable[str], limit: int, filters: Filters | None = None,
                                share: float | None = None) -> list[tuple[str, float]]:
        """The same over each dispatch's terms as one text: (dispatch id, score), best first."""
        if self.lexical == "tsearch":
            return self._tsearch("dispatches", "s", "s.id", terms, limit, filters)
        return self._bm25("doc_postings", "doc_id", self._stats("doc_postings"), terms, limit, filters)

    def _stats(self, table: str) -> tuple[int, float]:
        """(rows, mean length in terms) of the texts ``table`` indexes, as BM25 needs them."""
        source = "sentences" if table == "postings" else "dispatches"
        return self._cached(f"stats_{table}", lambda: tuple(self._rows(
            f"SELECT COUNT(*) AS n, COALESCE(AVG(n_terms), 0)::float8 AS mean FROM {source}")[0].values()))

    def _bm25(self, table: str, id_column: str, stats: tuple[int, float], terms: Iterable[str], limit: int,
              filters: Filters | None) -> list[tuple[str, float]]:
        terms = sorted(set(terms))
        rows, mean = stats
        if not terms or not rows:
            return []
        counts = {r["term"]: r["n"] for r in self._rows(
            f"SELECT term, COUNT(*) AS n FROM {table} WHERE term = ANY(%s) GROUP BY term", (terms,))}
        if not counts:
            return []
        found = sorted(counts)
        idf = [max(math.log((rows - counts[t] + 0.5) / (counts[t] + 0.5)), 1e-6) for t in found]
        where, params = _filter_sql(filters or Filters(), alias="d")
        join = f"JOIN dispatches d ON d.id = p.doc_id WHERE {' AND '.join(where)} " if where else ""
        sql = (f"SELECT p.{id_column} AS id, SUM(q.idf * p.tf * {K1 + 1} / "
               f"(p.tf + {K1} * (1 - {B} + {B} * p.len / %s::float8))) AS score "
               f"FROM {table} p JOIN unnest(%s::text[], %s::float8[]) AS q(term, idf) ON q.term = p.term "
               f"{join}GROUP BY p.{id_column} ORDER BY score DESC, p.{id_column} LIMIT %s")
        return [(r["id"], float(r["score"])) for r in self._rows(sql, [max(mean, 1e-9), found, idf, *params, limit])]

    def _tsearch(self, table: str, alias: str, id_sql: str, terms: Iterable[str], limit: int,
                 filters: Filters | None) -> list[tuple[str, float]]:
        words = sorted({t for t in terms if t.isalnum()})
        if not words:
            return []
        query = " | ".join(words)
        doc = f"{alias}.doc_id" if table == "sentences" else f"{alias}.id"
        where, params = _filter_sql(filters or Filters(), alias="d")
        join = f"JOIN dispatches d ON d.id = {doc} " if where else ""
        sql = (f"SELECT {id_sql} AS id, ts_rank({alias}.tsv, q) AS score FROM {table} {alias} {join}"
               f"CROSS JOIN to_tsquery('simple', %s) AS q WHERE {alias}.tsv @@ q "
               + "".join(f"AND {w} " for w in where) + f"ORDER BY score DESC, {id_sql} LIMIT %s")
        return [(r["id"], float(r["score"])) for r in self._rows(sql, [query, *params, limit])]

    def passing(self, doc_ids: Iterable[str], filters: Filters | None) -> set[str]:
        """The dispatches among ``doc_ids`` that pass ``filters``."""
        where, params = _filter_sql(filters or Filters(), alias="d")
        return {r["id"] for r in self._rows("SELECT d.id FROM dispatches d WHERE d.id = ANY(%s)"
                                            + "".join(f" AND {w}" for w in where),
                                            [list(dict.fromkeys(doc_ids)), *params])}

    def ingest_order(self, doc_ids: Iterable[str]) -> dict[str, tuple[float, int]]:
        """(ingested_at, sequence number) of each dispatch: larger means written later."""
        return {r["id"]: (r["ingested_at"] or 0.0, r["seq"]) for r in self._rows(
            "SELECT id, ingested_at, seq FROM dispatches WHERE id = ANY(%s)", (list(dict.fromkeys(doc_ids)),))}

    def share_matching(self, filters: Filters) -> float:
        """The share of dispatches that pass the filters (1.0 without filters or dispatches)."""
        where, params = _filter_sql(filters, alias="d")
        if not where:
            return 1.0
        total = self._one("SELECT COUNT(*) FROM dispatches")
        if not total:
            return 1.0
        return self._one(f"SELECT COUNT(*) FROM dispatches d WHERE {' AND '.join(where)}", params) / total

    def has_dated_dispatches(self) -> bool:
        """Whether any dispatch has a publication date."""
        return bool(self._rows("SELECT 1 FROM dispatches WHERE date_int > 0 LIMIT 1"))

    def language_counts(self) -> dict[str, int]:
        """Dispatches per language."""
        return dict(self._cached("language_counts", lambda: {r["language"] or "und": r["n"] for r in self._rows(
            "SELECT language, COUNT(*) AS n FROM dispatches GROUP BY language ORDER BY 2 DESC")}))

    def frequent_terms(self, terms: Iterable[str], max_share: float) -> set[str]:
        """The ``terms`` found in more than ``max_share`` of the sentences."""
        terms = sorted(set(terms))
        if not terms or max_share >= 1:
            return set()
        rows = self._stats("postings")[0]
        return {r["term"] for r in self._rows(
            "SELECT term FROM postings WHERE term = ANY(%s) GROUP BY term HAVING COUNT(*) > %s",
            (terms, max_share * rows))}

    def _cached(self, name: str, compute):
        """``compute()``, computed again only after the catalog changed (any writer's commit)."""
        with self._lock:
            version = self.get_meta("version")
            if name not in self._cache or self._cache[name][0] != version:
                self._cache[name] = (version, compute())
            return self._cache[name][1]

    # --- status -----------------------------------------------------------
    def stats(self) -> dict:
        return {
            "dispatches": self._one("SELECT COUNT(*) FROM dispatches"),
            "sentences": self._one("SELECT COUNT(*) FROM sentences"),
            "chunks": self._one("SELECT COUNT(*) FROM chunks"),
            "files": self._one("SELECT COUNT(*) FROM files"),
            "by_language": self.language_counts(),
            "by_source": {r["source"] or "unknown": r["n"] for r in self._rows(
                "SELECT source, COUNT(*) AS n FROM dispatches GROUP BY source ORDER BY 2 DESC LIMIT 50")},
            "last_ingest": self.get_meta("last_ingest"),
        }

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CatalogUnavailable(RuntimeError):
    """The catalog's database cannot be reached."""


def _lock_dispatches(cur, doc_ids: Iterable[str]) -> None:
    """Wait for any other writer of these dispatches (locks taken in one order: no deadlock)."""
    for doc_id in sorted(set(doc_ids)):
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (doc_id,))


def _delete(cur, doc_ids: list[str]) -> None:
    ids = list(doc_ids)
    for table, column in (("dispatches", "id"), ("sentences", "doc_id"), ("chunks", "doc_id"),
                          ("postings", "doc_id"), ("doc_postings", "doc_id")):
        cur.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", (ids,))


def _filter_sql(filters: Filters, alias: str) -> tuple[list[str], list]:
    where: list[str] = []
    params: list = []
    if filters.since:
        where.append(f"{alias}.date_int >= %s")
        params.append(date_int(filters.since))
    if filters.until:
        where.append(f"{alias}.date_int BETWEEN 1 AND %s")
        params.append(date_int(filters.until))
    if filters.sources:
        low = [s.lower() for s in filters.sources]
        where.append(f"(lower({alias}.source) = ANY(%s) OR lower({alias}.agency) = ANY(%s))")
        params += [low, low]
    if filters.languages:
        where.append(f"{alias}.language = ANY(%s)")
        params.append(list(filters.languages))
    if filters.exclude_doc_ids:
        where.append(f"NOT ({alias}.id = ANY(%s))")
        params.append(list(filters.exclude_doc_ids))
    return where, params


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
