"""The vector side: sentence and chunk embeddings in Chroma, embedded on disk
or on a Chroma server (``host:port``), chosen by settings here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.domain import Chunk, Dispatch, Filters, Sentence, chunk_doc, doc_of, split_sentence_id
from assistant.index.catalog import date_int
from assistant.index.overfetch import overfetched
from assistant.settings import IndexSettings

#: rows per Chroma write (below its per-call cap of ~5,000)
UPSERT_ROWS = 4000
#: a filtered query first looks at this many times the wanted neighbours, unfiltered
OVERFETCH = 8
MIN_OVERFETCH = 200
MAX_OVERFETCH = 6000


class VectorStoreError(RuntimeError):
    """The vector store cannot be reached or used; the message says how."""


class ChromaSentences:
    """Two Chroma collections: a vector per sentence (ids are sentence ids)
    and a vector per chunk (ids are chunk ids; metadata ``first``/``last``
    give the indices of its sentences), written and deleted together."""

    def __init__(self, settings: IndexSettings, home: Path, embedder_name: str):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        self.location = settings.chroma
        try:
            if settings.chroma == "embedded":
                self.location = str(home / "chroma")
                self._client = chromadb.PersistentClient(path=self.location, settings=chroma_settings)
            else:
                host, _, port = settings.chroma.rpartition(":")
                if not host or not port.isdigit():
                    raise VectorStoreError(f"ASSISTANT_INDEX__CHROMA must be 'embedded' or 'host:port', not {settings.chroma!r}")
                self._client = chromadb.HttpClient(host=host, port=int(port), settings=chroma_settings)
                self._client.heartbeat()
            # the sentences' collection is checked before the chunks' is created, so that opening an
            # index with the wrong embedder leaves nothing behind
            self._collection = self._open("sentences", settings, embedder_name)
            self._chunks = self._open("chunks", settings, embedder_name)
        except VectorStoreError:
            raise
        except Exception as exc:  # chromadb raises many kinds; all mean "unusable"
            raise VectorStoreError(f"Chroma at {self.location} is not usable: {exc}") from exc

    def _open(self, kind: str, settings: IndexSettings, embedder_name: str):
        collection = self._client.get_or_create_collection(
            name=f"{settings.collection_prefix}_{kind}",
            metadata={"embedder": embedder_name},
            configuration={"hnsw": {"space": "cosine", "ef_search": settings.hnsw_ef_search,
                                    "ef_construction": settings.hnsw_ef_construction,
                                    "max_neighbors": settings.hnsw_max_neighbors}},
        )
        stored = (collection.metadata or {}).get("embedder")
        if stored and stored != embedder_name:
            raise VectorStoreError(
                f"The index at {self.location} was built with embedder '{stored}' but settings ask for "
                f"'{embedder_name}'. Use another ASSISTANT_HOME (or collection prefix) or re-ingest into a new one.")
        return collection

    def upsert(self, batch: list[tuple[Dispatch, list[Sentence]]], vectors: np.ndarray) -> None:
        """Write the vectors of several dispatches' sentences in one call
        (idempotent); ``vectors`` has one row per sentence, in batch order."""
        ids, documents, metadatas = [], [], []
        for dispatch, sentences in batch:
            meta = _dispatch_meta(dispatch)
            for s in sentences:
                ids.append(s.id)
                documents.append(s.text)
                metadatas.append({**meta, "idx": s.index})
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} sentences but {len(vectors)} vectors")
        _upsert(self._collection, ids, vectors, documents, metadatas)

    def upsert_chunks(self, batch: list[tuple[Dispatch, list[Chunk]]], vectors: np.ndarray) -> None:
        """Write the vectors of several dispatches' chunks (one row per chunk, in batch order)."""
        ids, documents, metadatas = [], [], []
        for dispatch, chunks in batch:
            meta = _dispatch_meta(dispatch)
            for c in chunks:
                ids.append(c.id)
                documents.append(c.text)
                metadatas.append({**meta, "first": split_sentence_id(c.sentence_ids[0])[1],
                                  "last": split_sentence_id(c.sentence_ids[-1])[1]})
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} chunks but {len(vectors)} vectors")
        _upsert(self._chunks, ids, vectors, documents, metadatas)

    def delete_docs(self, doc_ids: list[str]) -> None:
        """Remove every vector of these dispatches (sentences and chunks)."""
        for start in range(0, len(doc_ids), 200):
            for collection in (self._collection, self._chunks):
                collection.delete(where={"doc_id": {"$in": doc_ids[start:start + 200]}})

    def delete_chunks(self, chunk_ids: list[str]) -> None:
        """Remove these chunk vectors."""
        for start in range(0, len(chunk_ids), UPSERT_ROWS):
            self._chunks.delete(ids=chunk_ids[start:start + UPSERT_ROWS])

    def query(self, vector: np.ndarray, n: int, filters: Filters | None = None,
              share: float | None = None,
              passing: Callable[[set[str]], set[str]] | None = None) -> list[tuple[str, float]]:
        """(sentence id, cosine similarity), best first.

        With filters and ``passing`` (dispatch ids -> those that pass the
        filters, judged by the catalog), the nearest sentences are fetched
        unfiltered, enough to hold n that pass (see overfetch.py; ``share`` is
        the expected share that passes), and filtered here: much faster than
        Chroma's filtered search on a large index, which runs only without
        ``passing`` or when the filter is too selective for that."""
        return [(i, cosine) for i, cosine, _ in _search(self._collection, doc_of, vector, n, filters, share, passing)]

    def query_chunks(self, vector: np.ndarray, n: int, filters: Filters | None = None,
                     share: float | None = None, passing: Callable[[set[str]], set[str]] | None = None
                     ) -> list[tuple[str, int, int, float]]:
        """The nearest chunks as (dispatch id, first sentence index, last
        sentence index, cosine), best first; filtered as ``query``."""
        return [(chunk_doc(i), meta["first"], meta["last"], cosine)
                for i, cosine, meta in _search(self._chunks, chunk_doc, vector, n, filters, share, passing,
                                               metadata=True)]

    def similarities(self, vector: np.ndarray, ids: list[str]) -> dict[str, float]:
        """Cosine similarity of ``vector`` to the stored vectors of ``ids`` (unknown ids are left out)."""
        if not ids:
            return {}
        got = self._collection.get(ids=ids, include=["embeddings"])
        if not got["ids"]:
            return {}
        matrix = np.asarray(got["embeddings"], dtype=np.float32)
        return dict(zip(got["ids"], (matrix @ vector).tolist()))

    def near_copies(self, ids: list[str], n: int, min_cosine: float) -> dict[str, list[tuple[str, float]]]:
        """Per stored sentence of ``ids``, the other stored sentences nearest its own vector
        (at most ``n``, from ``min_cosine``), best first; one batched query."""
        if not ids or n <= 0:
            return {}
        got = self._collection.get(ids=ids, include=["embeddings"])
        if not got["ids"]:
            return {}
        result = self._collection.query(query_embeddings=np.asarray(got["embeddings"], dtype=np.float32),
                                        n_results=n + 1, include=["distances"])
        return {own: [(i, 1.0 - d) for i, d in zip(found, distances) if i != own and 1.0 - d >= min_cosine][:n]
                for own, found, distances in zip(got["ids"], result["ids"], result["distances"])}

    def count(self) -> int:
        return self._collection.count()

    def chunk_count(self) -> int:
        return self._chunks.count()

    def chunk_ids(self) -> set[str]:
        """Every stored chunk id (read in pages)."""
        ids: set[str] = set()
        while True:
            page = self._chunks.get(include=[], limit=UPSERT_ROWS, offset=len(ids))["ids"]
            ids.update(page)
            if len(page) < UPSERT_ROWS:
                return ids


def _dispatch_meta(dispatch: Dispatch) -> dict:
    return {"doc_id": dispatch.id, "lang": dispatch.language, "source": (dispatch.source or "").lower(),
            "agency": (dispatch.agency or "").lower(), "date": date_int(dispatch.published_at)}


def _upsert(collection, ids: list[str], vectors: np.ndarray, documents: list[str], metadatas: list[dict]) -> None:
    for start in range(0, len(ids), UPSERT_ROWS):  # Chroma caps rows per call
        end = start + UPSERT_ROWS
        collection.upsert(ids=ids[start:end], embeddings=vectors[start:end], documents=documents[start:end],
                          metadatas=metadatas[start:end])


def _search(collection, doc_from: Callable[[str], str], vector: np.ndarray, n: int, filters: Filters | None,
            share: float | None, passing: Callable[[set[str]], set[str]] | None,
            metadata: bool = False) -> list[tuple[str, float, dict | None]]:
    """(id, cosine, metadata or None) of the nearest rows of ``collection``, best
    first. With filters and ``passing`` the nearest rows are fetched unfiltered,
    enough to hold n that pass (overfetch.py), and filtered here."""
    if share == 0:
        return []
    where = _where(filters or Filters())
    include = ["distances", "metadatas"] if metadata else ["distances"]

    def rows(result) -> list[tuple[str, float, dict | None]]:
        metas = result["metadatas"][0] if metadata else [None] * len(result["ids"][0])
        return [(i, 1.0 - d, m) for i, d, m in zip(result["ids"][0], result["distances"][0], metas)]

    def nearest_passing(wide: int) -> tuple[list, int]:
        found = rows(collection.query(query_embeddings=[vector], n_results=wide, include=include))
        ok = passing({doc_from(i) for i, _, _ in found})
        return [r for r in found if doc_from(r[0]) in ok], len(found)

    # no count() first: it costs more than the search on a large index, and a
    # search asking for more neighbours than exist simply returns them all
    if where is not None and passing is not None:
        kept = overfetched(nearest_passing, n, share, floor=MIN_OVERFETCH, factor=OVERFETCH, cap=MAX_OVERFETCH)
        if kept is not None:
            return kept
    return rows(collection.query(query_embeddings=[vector], n_results=n, where=where, include=include))


def _where(filters: Filters) -> dict | None:
    clauses: list[dict] = []
    if filters.since:
        clauses.append({"date": {"$gte": date_int(filters.since)}})
    if filters.until:
        clauses.append({"date": {"$lte": date_int(filters.until)}})
        clauses.append({"date": {"$gte": 1}})
    if filters.sources:
        low = [s.lower() for s in filters.sources]
        clauses.append({"$or": [{"source": {"$in": low}}, {"agency": {"$in": low}}]})
    if filters.languages:
        clauses.append({"lang": {"$in": list(filters.languages)}})
    if filters.exclude_doc_ids:
        clauses.append({"doc_id": {"$nin": list(filters.exclude_doc_ids)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
