"""Optional second-stage reranking of retrieved sentences with a
sentence-transformers ``CrossEncoder`` (used when ``retrieval.reranker_model``
names one; none ships with the product, so it is off by default)."""

from __future__ import annotations

import os
import threading

from assistant.domain import SentenceHit


class RerankerError(RuntimeError):
    """The configured reranker cannot be loaded; the message says why."""


class CrossEncoderReranker:
    """Scores (question, sentence in its context) pairs and reorders hits by that score."""

    def __init__(self, model: str, max_length: int = 256, batch_size: int = 16):
        self.model_name = model
        self.max_length = max_length
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The CrossEncoder, loaded on first use (CPU, offline unless allowed)."""
        with self._lock:
            if self._model is None:
                self._model = _load(self.model_name, self.max_length)
            return self._model

    def scores(self, question: str, hits: list[SentenceHit]) -> list[float]:
        """The cross-encoder's relevance score of each hit for ``question``."""
        if not hits:
            return []
        pairs = [(question, passage(h)) for h in hits]
        return [float(s) for s in self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)]

    def rerank(self, question: str, hits: list[SentenceHit], top_k: int | None = None) -> list[SentenceHit]:
        """``hits`` best first by cross-encoder score (kept as ``score``), cut to ``top_k``."""
        scored = sorted(zip(self.scores(question, hits), range(len(hits)), hits), key=lambda t: (-t[0], t[1]))
        out = [h.model_copy(update={"score": s}) for s, _, h in scored]
        return out[:top_k] if top_k else out


def passage(hit: SentenceHit) -> str:
    """The text a hit is judged on: its sentence with one neighbour each side."""
    before = hit.context_before[-1:] if hit.context_before else []
    after = hit.context_after[:1] if hit.context_after else []
    return " ".join(s.text for s in [*before, hit.sentence, *after])


def _load(name: str, max_length: int):
    if not os.path.isdir(name) and (os.path.isabs(name) or name.startswith(".") or name.count("/") > 1):
        raise RerankerError(f"Reranker model folder '{name}' does not exist. "
                            "Set ASSISTANT_RETRIEVAL__RERANKER_MODEL to a model folder, or unset it.")
    if not os.path.isdir(name) and os.environ.get("HF_HUB_OFFLINE") == "1":
        from huggingface_hub import try_to_load_from_cache

        if try_to_load_from_cache(name, "config.json") is None:
            raise RerankerError(
                f"Reranker model '{name}' is neither a local folder nor in the Hugging Face cache, and downloads "
                "are off (HF_HUB_OFFLINE=1). Set ASSISTANT_RETRIEVAL__RERANKER_MODEL to a model folder, or unset it.")
    from sentence_transformers import CrossEncoder

    try:
        return CrossEncoder(name, device="cpu", max_length=max_length)
    except Exception as exc:  # many kinds (missing files, bad config); all mean "not usable"
        raise RerankerError(f"Reranker model '{name}' cannot be loaded: {exc}") from exc


def build_reranker(model: str | None) -> CrossEncoderReranker | None:
    """The reranker named in settings, or None when none is configured."""
    return CrossEncoderReranker(model) if model else None
