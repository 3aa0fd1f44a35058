"""The service facade every surface uses: ``Assistant(settings)``.

Heavy parts (embedder, vector store, language model) load lazily, once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from assistant.answering.events import Event, Final, Rewrite, final_answer
from assistant.answering.service import AnswerService, Found
from assistant.answering.verify import Verifier
from assistant.domain import Answer, Dispatch, Filters, SentenceHit, Sentence
from assistant.index.catalog import Catalog
from assistant.index.catalogs import open_catalog
from assistant.index.embedders import build_embedder, embedder_id
from assistant.index.vectors import ChromaSentences
from assistant.ingest.pipeline import IngestReport, IngestService
from assistant.llms import ChatBackend, build_llm
from assistant.llms.base import LLMError, Message
from assistant.llms.factory import resolve_backend
from assistant.query.rewrite import QuestionRewriter
from assistant.query.translate import QuestionTranslator
from assistant.retrieval.retriever import HybridRetriever
from assistant.settings import RetrievalSettings, Settings
from assistant.text.language import question_language

log = logging.getLogger(__name__)


class Assistant:
    """Ingest, retrieve and answer over one index, as configured by settings."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        self._llm: ChatBackend | None = None
        self._llm_lock = threading.Lock()
        self._llm_loading = False
        self._llm_error: str | None = None

    # --- components (lazy) --------------------------------------------------
    @cached_property
    def catalog(self) -> Catalog:
        return open_catalog(self.settings.index, self.settings.home_dir)

    @cached_property
    def embedder(self):
        return build_embedder(self.settings.embedder)

    @cached_property
    def vectors(self) -> ChromaSentences:
        return ChromaSentences(self.settings.index, self.settings.home_dir, embedder_id(self.settings.embedder))

    @property
    def retrieval_settings(self) -> RetrievalSettings:
        """The retrieval settings as applied: no chunk weight when chunks are not embedded."""
        if self.settings.index.embed_chunks:
            return self.settings.retrieval
        return self.settings.retrieval.model_copy(update={"chunk_weight": 0.0})

    @cached_property
    def retriever(self) -> HybridRetriever:
        return HybridRetriever(self.catalog, self.vectors, self.embedder, self.retrieval_settings)

    @cached_property
    def verifier(self) -> Verifier | None:
        if not self.settings.verification.enabled:
            return None
        return Verifier(self.embedder, self.vectors, self.settings.verification)

    @cached_property
    def answers(self) -> AnswerService:
        return AnswerService(self.settings, self.retriever, self.llm, self.verifier, self.translator)

    @cached_property
    def rewriter(self) -> QuestionRewriter:
        return QuestionRewriter(self.settings, self.llm)

    @cached_property
    def translator(self) -> QuestionTranslator:
        return QuestionTranslator(self.settings, self.llm)

    def llm(self) -> ChatBackend:
        """The language model, loaded on first use."""
        with self._llm_lock:
            if self._llm is None:
                self._llm_loading = True
                try:
                    self._llm = build_llm(self.settings)
                    self._llm_error = None
                except LLMError as exc:
                    self._llm_error = str(exc)
                    raise
                finally:
                    self._llm_loading = False
            return self._llm

    def llm_health(self) -> dict[str, Any]:
        """The model's state: a supervised process reports up / starting /
        restarting / failed, its pid, crashes so far and the last reason;
        'not loaded' before the first question, 'loading', or 'failed' with why."""
        if self._llm is not None:
            return {"description": self._llm.description, **self._llm.health()}
        if self._llm_loading:
            return {"state": "loading"}
        if self._llm_error:
            return {"state": "failed", "last_reason": self._llm_error}
        return {"state": "not loaded"}

    def close(self) -> None:
        """Stop the model's process, if one runs."""
        if self._llm is not None:
            self._llm.close()

    # --- use cases ------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path], progress: bool = True,
               on_file: Callable[[str, str | None], None] | None = None,
               worker: tuple[int, int] | None = None, on_progress=None) -> IngestReport:
        """Ingest files and folders into the index. One ingest at a time per
        home folder, across processes (several servers may share one index),
        unless the catalog is shared (PostgreSQL): then it arbitrates, and
        ``worker = (i, n)`` makes this worker i of an n-worker job."""
        from filelock import FileLock

        service = IngestService(self.catalog, self.vectors, self.embedder, self.settings.index)
        if getattr(self.catalog, "shared", False):
            return service.ingest(paths, progress=progress, on_file=on_file, worker=worker, on_progress=on_progress)
        with FileLock(self.settings.home_dir / "ingest.lock"):
            return service.ingest(paths, progress=progress, on_file=on_file, worker=worker, on_progress=on_progress)

    def retrieve(self, question: str, filters: Filters | None = None, top_k: int | None = None,
                 reference_date: date | None = None) -> list[SentenceHit]:
        """The best source sentences for a question, found as :meth:`ask` finds
        them: relative dates in the question become the date filter (counted
        from ``reference_date``), and the question is searched in translation too
        when its language is a minority in the corpus (see translate_questions)."""
        language = question_language(question)
        dated, phrase = self.answers.dated(question, language, filters or Filters(), reference_date)
        return self.answers.find(question, language, top_k, dated if phrase else filters)[0]

    def search(self, question: str, filters: Filters | None = None, top_k: int | None = None,
               reference_date: date | None = None, depth: int | None = None) -> Found:
        """The question searched as :meth:`ask` searches it (the same hits, date
        filter and translation), for :meth:`answer` to answer; ``depth``: the
        ranked hits to that depth as well (``Found.ranked``), from the same search."""
        return self.answers.search(question, filters, top_k, reference_date, depth=depth)

    def answer(self, found: Found) -> Answer:
        """The answer :meth:`ask` gives, to a question already searched (:meth:`search`)."""
        return final_answer(self.answers.answer_events(found))

    def question_language(self, question: str) -> str:
        """The language ``question`` is answered in ("it" or "en")."""
        return question_language(question)

    def relevance_decline(self, question: str, hits: list[SentenceHit]) -> str | None:
        """Why :meth:`ask` would decline ``question`` over these hits before
        asking the model (nothing found, or nothing relevant enough), or None."""
        return self.answers.decline_before_model(hits, question_language(question))

    def ask(self, question: str, filters: Filters | None = None, top_k: int | None = None,
            history: list[Message] | None = None, reference_date: date | None = None) -> Answer:
        """A cited answer, or a declared abstention. With ``history`` (earlier
        user/assistant messages) the question is first rewritten to stand alone."""
        return final_answer(self.ask_events(question, filters, top_k, history, reference_date))

    def ask_events(self, question: str, filters: Filters | None = None, top_k: int | None = None,
                   history: list[Message] | None = None, reference_date: date | None = None,
                   model_turn: Callable[[], AbstractContextManager] = nullcontext) -> Iterator[Event]:
        """The same answer as a stream of events (see AnswerService.ask_events),
        preceded by a ``Rewrite`` event when a follow-up was rewritten.
        Model calls run inside ``model_turn()``; retrieval and questions declined
        before the model do not."""
        if not question.strip():
            raise ValueError("The question is empty")
        standalone = self.rewriter.rewrite(question, history, model_turn) if history else None
        if standalone:
            yield Rewrite(standalone)
        for event in self.answers.ask_events(standalone or question, filters, top_k, reference_date, model_turn):
            if isinstance(event, Final) and standalone:
                event.answer.question = question.strip()
                event.answer.standalone_question = standalone
            yield event

    # --- the corpus ---------------------------------------------------------------
    def dispatch(self, doc_id: str) -> tuple[Dispatch, list[Sentence]] | None:
        """A dispatch and its sentences."""
        found = self.catalog.dispatch(doc_id)
        return (found, self.catalog.sentences_of(doc_id)) if found else None

    def list_dispatches(self, query: str = "", filters: Filters | None = None, offset: int = 0,
                        limit: int = 50) -> tuple[int, list[Dispatch]]:
        """(how many match, one page of them): dispatches newest first, matching
        ``query`` in title or body (or by id) and ``filters``."""
        return self.catalog.list_dispatches(query, filters, offset, limit)

    def corpus_stats(self) -> dict[str, Any]:
        """Counts of dispatches, sentences, chunks and files, dispatches by
        language and by source, and when the last ingest ran."""
        return self.catalog.stats()

    def dispatches(self, doc_ids: Iterable[str]) -> dict[str, Dispatch]:
        """These dispatches by id (unknown ids left out)."""
        return self.catalog.dispatches(doc_ids)

    def ids_with_titles(self, titles: Iterable[str]) -> set[str]:
        """The ids of the dispatches titled exactly one of ``titles``."""
        return self.catalog.ids_with_titles(titles)

    def sentences(self, ids: Iterable[str]) -> dict[str, Sentence]:
        """These sentences by id (unknown ids left out)."""
        return self.catalog.sentences(ids)

    def sentences_of(self, doc_id: str) -> list[Sentence]:
        """A dispatch's sentences in order."""
        return self.catalog.sentences_of(doc_id)

    def status(self, check_backends: bool = True, load_model: bool = False) -> dict[str, Any]:
        """What is indexed and which backends are configured and reachable;
        ``load_model`` loads the model first, so that its state is known."""
        stats = self.corpus_stats()
        backends: dict[str, Any] = {
            "embedder": self.settings.embedder.model,
            "vector_store": self.settings.index.chroma,
            "llm_setting": self.settings.llm.backend,
        }
        if check_backends:
            try:
                backends["vectors"] = self.vectors.count()
                backends["chunk_vectors"] = self.vectors.chunk_count()
                backends["vector_store_ok"] = True
            except Exception as exc:  # report, never crash status
                backends["vector_store_ok"] = False
                backends["vector_store_error"] = str(exc)
            chosen, reason = resolve_backend(self.settings)
            backends["llm"] = chosen
            backends["llm_reason"] = reason
            if load_model:
                try:
                    self.llm()
                except LLMError:
                    pass  # reported in llm_state
            if self._llm is not None:
                backends["llm_loaded"] = self._llm.description
        backends["llm_state"] = self.llm_health()
        return {**stats, "home": str(self.settings.home), "backends": backends}
