"""Chroma writes: many dispatches in one upsert, split below Chroma's per-call cap."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.index import vectors as vectors_module
from assistant.index.vectors import ChromaSentences
from assistant.model import Dispatch, Sentence
from assistant.settings import IndexSettings


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
    assert sorted(store.ids_of(["a", "b", "c"])) == sorted(s.id for _, ss in batch for s in ss)
    # row i of the matrix belongs to the i-th sentence of the batch
    assert store.similarities(vecs[4], ["b-s000"])["b-s000"] > 0.999
    store.upsert(batch, vecs)  # idempotent
    assert store.count() == 7


def test_upsert_refuses_a_vector_count_mismatch(tmp_path):
    store = ChromaSentences(IndexSettings(), tmp_path, "test")
    with pytest.raises(ValueError, match="3 sentences but 2 vectors"):
        store.upsert([_dispatch("a", 3)], np.zeros((2, 8), dtype=np.float32))
    assert store.count() == 0
