"""The vector side: sentence embeddings in Chroma, embedded on disk or on a
Chroma server (``host:port``), chosen by settings here and nowhere else."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.index.catalog import date_int
from assistant.model import Dispatch, Filters, Sentence, split_sentence_id
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
    """One Chroma collection with a vector per sentence; ids are sentence ids."""

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
            self._collection = self._client.get_or_create_collection(
                name=f"{settings.collection_prefix}_sentences",
                metadata={"embedder": embedder_name},
                configuration={"hnsw": {"space": "cosine", "ef_search": settings.hnsw_ef_search,
                                        "ef_construction": 200, "max_neighbors": 32}},
            )
        except VectorStoreError:
            raise
        except Exception as exc:  # chromadb raises many kinds; all mean "unusable"
            raise VectorStoreError(f"Chroma at {self.location} is not usable: {exc}") from exc
        stored = (self._collection.metadata or {}).get("embedder")
        if stored and stored != embedder_name:
            raise VectorStoreError(
                f"The index at {self.location} was built with embedder '{stored}' but settings ask for "
                f"'{embedder_name}'. Use another ASSISTANT_HOME (or collection prefix) or re-ingest into a new one.")

    def upsert(self, batch: list[tuple[Dispatch, list[Sentence]]], vectors: np.ndarray) -> None:
        """Write the vectors of several dispatches' sentences in one call
        (idempotent); ``vectors`` has one row per sentence, in batch order."""
        ids, documents, metadatas = [], [], []
        for dispatch, sentences in batch:
            meta = {
                "doc_id": dispatch.id,
                "lang": dispatch.language,
                "source": (dispatch.source or "").lower(),
                "agency": (dispatch.agency or "").lower(),
                "date": date_int(dispatch.published_at),
            }
            for s in sentences:
                ids.append(s.id)
                documents.append(s.text)
                metadatas.append({**meta, "idx": s.index})
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} sentences but {len(vectors)} vectors")
        for start in range(0, len(ids), UPSERT_ROWS):  # Chroma caps rows per call
            end = start + UPSERT_ROWS
            self._collection.upsert(ids=ids[start:end], embeddings=vectors[start:end],
                                    documents=documents[start:end], metadatas=metadatas[start:end])

    def delete_docs(self, doc_ids: list[str]) -> None:
        """Remove every vector of these dispatches."""
        for start in range(0, len(doc_ids), 200):
            self._collection.delete(where={"doc_id": {"$in": doc_ids[start:start + 200]}})

    def query(self, vector: np.ndarray, n: int, filters: Filters | None = None,
              share: float | None = None,
              passing: Callable[[set[str]], set[str]] | None = None) -> list[tuple[str, float]]:
        """(sentence id, cosine similarity), best first.

        With filters, enough nearest sentences to hold n that pass (judged by
        ``share``, the expected share that passes; unknown = 1/``OVERFETCH``)
        are fetched unfiltered and filtered here, which is much faster than
        Chroma's filtered search on a large index. ``passing`` (dispatch ids ->
        those that pass the filters) judges them from the catalog; without it
        each fetched sentence's metadata is read and judged, which costs more.
        When too few pass, the fetch is widened by the rate observed, up to
        ``MAX_OVERFETCH``; Chroma filters itself only when the filter is too
        selective for that."""
        if share == 0:
            return []
        filters = filters or Filters()
        where = _where(filters)
        # no count() first: it costs more than the search on a large index, and a
        # search asking for more neighbours than exist simply returns them all
        wide = max(MIN_OVERFETCH, math.ceil(n * (1.5 / share if share else OVERFETCH)))
        while where is not None and wide <= MAX_OVERFETCH:
            kept, looked_at = self._overfetched(vector, wide, where, passing)
            if len(kept) >= n or looked_at < wide:  # enough, or every sentence was looked at
                return kept[:n]
            if wide == MAX_OVERFETCH:
                break
            # the nearest sentences pass less often than the filter's share said:
            # widen once by the rate observed (a wide unfiltered search still
            # costs a fraction of Chroma's filtered one)
            wide = min(MAX_OVERFETCH, max(2 * wide, math.ceil(n * 1.5 * looked_at / max(len(kept), 1))))
        result = self._collection.query(query_embeddings=[vector], n_results=n, where=where, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(result["ids"][0], result["distances"][0])]

    def _overfetched(self, vector: np.ndarray, wide: int, where: dict,
                     passing: Callable[[set[str]], set[str]] | None) -> tuple[list[tuple[str, float]], int]:
        """The ``wide`` nearest sentences, unfiltered, then those that pass; and how many were fetched."""
        include = ["distances"] if passing else ["distances", "metadatas"]
        result = self._collection.query(query_embeddings=[vector], n_results=wide, include=include)
        ids, distances = result["ids"][0], result["distances"][0]
        if passing:
            docs = {i: split_sentence_id(i)[0] for i in ids}
            ok = passing(set(docs.values()))
            return [(i, 1.0 - d) for i, d in zip(ids, distances) if docs[i] in ok], len(ids)
        return [(i, 1.0 - d) for i, d, meta in zip(ids, distances, result["metadatas"][0])
                if _matches(meta or {}, where)], len(ids)

    def similarities(self, vector: np.ndarray, ids: list[str]) -> dict[str, float]:
        """Cosine similarity of ``vector`` to the stored vectors of ``ids`` (unknown ids are left out)."""
        if not ids:
            return {}
        got = self._collection.get(ids=ids, include=["embeddings"])
        if not got["ids"]:
            return {}
        matrix = np.asarray(got["embeddings"], dtype=np.float32)
        return dict(zip(got["ids"], (matrix @ vector).tolist()))

    def ids_of(self, doc_ids: list[str]) -> list[str]:
        return self._collection.get(where={"doc_id": {"$in": doc_ids}}, include=[])["ids"] if doc_ids else []

    def count(self) -> int:
        return self._collection.count()


def _matches(meta: dict, where: dict) -> bool:
    """Whether one sentence's metadata satisfies a ``where`` clause as
    ``_where`` builds it ($and, $or, $in, $gte, $lte), the way Chroma would."""
    for key, condition in where.items():
        if key == "$and":
            ok = all(_matches(meta, c) for c in condition)
        elif key == "$or":
            ok = any(_matches(meta, c) for c in condition)
        else:
            value = meta.get(key)
            ok = all(_OPERATORS[op](value, arg) for op, arg in condition.items())
        if not ok:
            return False
    return True


_OPERATORS = {
    "$in": lambda value, arg: value in arg,
    "$gte": lambda value, arg: value is not None and value >= arg,
    "$lte": lambda value, arg: value is not None and value <= arg,
}


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
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
