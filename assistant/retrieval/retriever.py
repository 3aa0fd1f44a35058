"""Hybrid sentence retrieval: dense vectors (Chroma) and BM25 (catalog FTS5),
fused by relative score with language-aware weights (see fusion.py);
re-issued dispatches collapsed to their newest version; optionally reranked
by a cross-encoder. Hits come back with their dispatch, their dense cosine
(the relevance signal used for abstention) and their neighbours."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.domain import Dispatch, EarlierVersion, Filters, OtherCopy, Sentence, SentenceHit, doc_of
from assistant.index.catalog import Catalog
from assistant.index.embedders import embed_query, unit
from assistant.index.lexical import query_terms, stem_languages
from assistant.index.vectors import ChromaSentences
from assistant.retrieval.answer_types import asked_type, holds_type
from assistant.retrieval.fusion import (fusion_weights, mixed, neighbour_ids, relative_fusion, windowed,
                                        with_chunk_scores, with_document_boost, with_document_scores)
from assistant.retrieval.near_duplicates import copies_by_other_senders, counterpart, newest_versions
from assistant.retrieval.rerank import build_reranker
from assistant.settings import RetrievalSettings
from assistant.text.words import tokens


@dataclass(frozen=True)
class _Scored:
    """One search of the indexes: the question's vector, the fused scores, the
    query cosines and BM25 scores known, and the candidate sentences read (if any)."""

    query_vec: np.ndarray
    fused: dict[str, float]
    known: dict[str, float]
    lexical: dict[str, float]
    texts: dict[str, Sentence]


class HybridRetriever:
    """Dense + lexical sentence retrieval over the catalog and vector store."""

    def __init__(self, catalog: Catalog, vectors: ChromaSentences, embedder, settings: RetrievalSettings):
        self.catalog = catalog
        self.vectors = vectors
        self.embedder = embedder
        self.settings = settings
        self.reranker = build_reranker(settings.reranker_model)

    def retrieve(self, question: str, language: str, top_k: int | None = None,
                 filters: Filters | None = None, neighbours: int | None = None,
                 translation: tuple[str, str] | None = None) -> list[SentenceHit]:
        """The ``top_k`` best sentences for ``question``, best first.
        ``translation`` (text, language): the question in the corpus's main
        language; it drives the lexical side and adds a second dense query."""
        return self.retrieve_depths(question, language, [top_k], filters, neighbours, translation)[0]

    def retrieve_depths(self, question: str, language: str, depths: Sequence[int | None],
                        filters: Filters | None = None, neighbours: int | None = None,
                        translation: tuple[str, str] | None = None) -> list[list[SentenceHit]]:
        """What :meth:`retrieve` gives at each of ``depths`` (a ``top_k`` each),
        the indexes searched once for all the depths that fetch as many
        candidates (see ``candidate_count``)."""
        scored: dict[int, _Scored] = {}
        out = []
        for top_k in (depth or self.settings.top_k for depth in depths):
            n = self.candidate_count(top_k)
            if n not in scored:
                scored[n] = self._scored(question, language, n, filters, translation)
            out.append(self._ranked(question, scored[n], top_k, neighbours, filters))
        return out

    def candidate_count(self, top_k: int) -> int:
        """Candidates fetched from each index before fusion for ``top_k`` hits."""
        return max(self.settings.candidates, top_k)

    def _scored(self, question: str, language: str, n: int, filters: Filters | None,
                translation: tuple[str, str] | None) -> _Scored:
        """The fused scores of the best ``n`` candidates of each index."""
        query_vec = embed_query(self.embedder, question)
        share = None if filters is None or filters.is_empty() else self.catalog.share_matching(filters)
        passing = lambda doc_ids: self.catalog.passing(doc_ids, filters)  # noqa: E731
        dense = self.vectors.query(query_vec, n, filters, share, passing=passing)
        lexical_text, lexical_language = translation or (question, language)
        corpus_languages = Counter(self.catalog.language_counts())
        terms = query_terms(lexical_text, stem_languages(corpus_languages))
        if self.settings.lexical_max_term_share < 1:
            terms = (terms - self.catalog.frequent_terms(terms, self.settings.lexical_max_term_share)) or terms
        weights = fusion_weights(lexical_language, corpus_languages, self.settings.fusion,
                                 translated=translation is not None)
        lexical = self.catalog.lexical_search(terms, n, filters, share) if terms else []
        documents = (self.catalog.lexical_document_search(terms, n, filters, share)
                     if terms and weights.document_lexical else [])
        cosines = dict(dense)
        translated_vec = embed_query(self.embedder, translation[0]) if translation else None
        translated = (dict(self.vectors.query(translated_vec, n, filters, share, passing=passing))
                      if translated_vec is not None else {})
        candidates = cosines.keys() | translated.keys()
        # one look-up for the cosines of lexical-only hits, the translation's hits and the candidates' neighbours
        wanted = {i for i, _ in lexical} | {n for i in candidates for n in neighbour_ids(i) if n} | candidates
        known = {**self.vectors.similarities(query_vec, sorted(wanted - cosines.keys())), **cosines}
        ranking = known
        if translated:
            other = {**self.vectors.similarities(translated_vec, sorted(wanted - translated.keys())), **translated}
            ranking = mixed(known, other, self.settings.fusion.translation_dense)
        dense_side = with_document_boost(windowed({i: ranking.get(i, 0.0) for i in candidates}, ranking,
                                                  self.settings.sentence_window), self.settings.document_boost)
        fused = with_document_scores(relative_fusion([(dense_side, weights.dense), (dict(lexical), weights.lexical)]),
                                     dict(documents), weights.document_lexical)
        if self.settings.chunk_weight:
            chunk_vec = query_vec if translated_vec is None else unit(query_vec + translated_vec)
            fused = with_chunk_scores(fused, self.vectors.query_chunks(chunk_vec, n, filters, share, passing=passing),
                                      self.settings.chunk_weight)
        fused, texts = self._with_answer_types(question, fused)
        return _Scored(query_vec, fused, known, dict(lexical), texts)

    def _ranked(self, question: str, scored: _Scored, top_k: int, neighbours: int | None,
                filters: Filters | None = None) -> list[SentenceHit]:
        """The ``top_k`` best hits of ``scored``, each re-issued dispatch once, as its newest version."""
        fused, known, texts = dict(scored.fused), dict(scored.known), scored.texts  # left as they were
        pool = max(top_k, self.settings.rerank_candidates) if self.reranker else top_k
        read = self.settings.version_pool_factor * pool + self.settings.version_pool_extra
        ranked = sorted(fused, key=lambda i: (fused[i], known.get(i, 0.0)), reverse=True)[:read]
        sentences = {i: texts[i] for i in ranked if i in texts} if texts else self.catalog.sentences(ranked)
        dispatches = self.catalog.dispatches(s.doc_id for s in sentences.values())
        near: dict[str, list[tuple[str, float]]] = {}  # near copies by sentence, looked up once per search
        dispatches.update(self._unretrieved_versions(ranked[:pool], sentences, dispatches, filters, near))
        ranked, newest = self._newest_versions(ranked, fused, sentences, dispatches)
        ranked = ranked[:pool]
        earlier = self._earlier_versions(ranked, newest, sentences, dispatches) if newest else {}
        missing = [i for i in ranked if i not in known]
        if missing:  # counterparts brought in from newer versions
            known.update(self.vectors.similarities(scored.query_vec, missing))
        hits = self._hits(ranked, fused, known, scored.lexical, sentences, dispatches,
                          self.settings.context_neighbours if neighbours is None else neighbours, earlier)
        hits = self.reranker.rerank(question, hits, top_k) if self.reranker else hits[:top_k]
        return self.with_copies(hits, dispatches, newest, filters, near) if self.settings.other_copies else hits

    def with_copies(self, hits: list[SentenceHit], dispatches: dict[str, Dispatch] | None = None,
                    older: dict[str, str] | None = None, filters: Filters | None = None,
                    near: dict[str, list[tuple[str, float]]] | None = None) -> list[SentenceHit]:
        """``hits`` with the sentences standing in their place in near copies of their dispatches sent by
        other agencies (``SentenceHit.copies``), where those read differently and are not hits themselves:
        the other side of a disagreement the question retrieved only one side of. Copies are looked for
        among the dispatches read for the question and those holding a near copy of a hit (by the hit's
        own vector, as for versions), and must pass ``filters``; ``older``: the older versions collapsed
        (an agency's copy is its newest version); ``near``: near copies already looked up, by sentence."""
        if not hits:
            return hits
        dispatches = {h.dispatch.id: h.dispatch for h in hits} | (dispatches or {})
        older = older or {}
        shown = {h.sentence.id for h in hits}
        near = self._near_copies(list(shown), {} if near is None else near)
        found = {doc_of(i) for sid in shown for i, _ in near.get(sid, [])} - dispatches.keys()
        pool = {**dispatches, **(self.catalog.dispatches(found) if found else {})}
        of = list(dict.fromkeys(h.dispatch.id for h in hits))
        copies = copies_by_other_senders(pool, of, self.settings.duplicate_resemblance,
                                         self.settings.duplicate_shingle_words)
        copies = {a: [d for d in ds if d not in older] for a, ds in copies.items()}
        others = {d for ds in copies.values() for d in ds}
        if others and filters is not None and not filters.is_empty():
            passing = self.catalog.passing(others, filters)
            copies = {a: [d for d in ds if d in passing] for a, ds in copies.items()}
        texts: dict[str, list[Sentence]] = {}
        out = []
        for hit in hits:
            kept = []
            for other in copies.get(hit.dispatch.id, []):
                if other not in texts:
                    texts[other] = self.catalog.sentences_of(other)
                twin = counterpart(hit.sentence, texts[other], min_share=self.settings.earlier_version_min_share)
                if twin is not None and twin.id not in shown and tokens(twin.text) != tokens(hit.sentence.text):
                    kept.append(OtherCopy(sentence=twin, dispatch=pool[other]))
            out.append(hit.model_copy(update={"copies": kept}) if kept else hit)
        return out

    def _with_answer_types(self, question: str, fused: dict[str, float]) -> tuple[dict[str, float],
                                                                                 dict[str, Sentence]]:
        """``fused`` plus ``answer_type_boost`` for sentences holding the kind of
        words the question asks for (a date for "quando", a number for "quanti"),
        and the candidate sentences read to decide it (empty when none were)."""
        kind = asked_type(question) if self.settings.answer_type_boost else None
        if kind is None:
            return fused, {}
        texts = self.catalog.sentences(list(fused))
        boost = self.settings.answer_type_boost
        return {i: v + (boost if i in texts and holds_type(texts[i].text, kind) else 0.0)
                for i, v in fused.items()}, texts

    def _unretrieved_versions(self, head: list[str], sentences: dict[str, Sentence],
                              dispatches: dict[str, Dispatch], filters: Filters | None,
                              near: dict[str, list[tuple[str, float]]]) -> dict[str, Dispatch]:
        """Dispatches the question did not retrieve that hold a near copy of the best hit of
        a dispatch of ``head`` (``version_lookup_neighbours`` nearest stored sentences by the hit's
        vector, from ``version_lookup_min_cosine``) and pass ``filters``: candidates to be versions
        of the hit's dispatch, so that a newer version is never hidden by a question that only
        found the older. ``near`` gains the near copies looked up."""
        best_of_each = {sentences[i].doc_id: i for i in reversed(head) if i in sentences}  # a dispatch's best hit
        near = self._near_copies(list(best_of_each.values()), near)
        others = {doc_of(i) for sid in best_of_each.values() for i, _ in near.get(sid, [])} - dispatches.keys()
        if others and filters is not None and not filters.is_empty():
            others = self.catalog.passing(others, filters)
        return self.catalog.dispatches(others) if others else {}

    def _near_copies(self, ids: list[str], known: dict[str, list[tuple[str, float]]]
                     ) -> dict[str, list[tuple[str, float]]]:
        """``known`` with the near copies of the ``ids`` not in it looked up (one batched query)."""
        missing = [i for i in ids if i not in known]
        if missing:
            found = self.vectors.near_copies(missing, self.settings.version_lookup_neighbours,
                                             self.settings.version_lookup_min_cosine)
            known.update({i: found.get(i, []) for i in missing})
        return known

    def _newest_versions(self, ranked: list[str], fused: dict[str, float], sentences: dict[str, Sentence],
                         dispatches: dict[str, Dispatch]) -> tuple[list[str], dict[str, str]]:
        """``ranked`` with each re-issued dispatch shown once, as its newest
        version: a hit in an older version becomes the newest version's
        corresponding sentence, at the better of their places. Also the map
        older version -> newest version it was collapsed into."""
        newest = newest_versions(dispatches, self.catalog.ingest_order(dispatches),
                                 self.settings.duplicate_resemblance, self.settings.duplicate_shingle_words)
        if not newest:
            return ranked, newest
        out: list[str] = []
        for sid in ranked:
            sentence = sentences.get(sid)
            winner = newest.get(sentence.doc_id) if sentence else None
            if winner:
                replacement = counterpart(sentence, self.catalog.sentences_of(winner))
                if replacement is None:
                    continue
                sentences[replacement.id] = replacement
                fused[replacement.id] = max(fused.get(replacement.id, 0.0), fused[sid])
                sid = replacement.id
            if sid not in out:
                out.append(sid)
        return out, newest

    def _earlier_versions(self, ranked: list[str], newest: dict[str, str], sentences: dict[str, Sentence],
                          dispatches: dict[str, Dispatch]) -> dict[str, list[EarlierVersion]]:
        """Per ranked sentence of a newest version, the sentences of its older
        versions that stood in its place and read differently: an update is
        shown as the newest text, and what it changed is kept beside it."""
        olders: dict[str, list[str]] = {}
        for old, winner in newest.items():
            olders.setdefault(winner, []).append(old)
        earlier: dict[str, list[EarlierVersion]] = {}
        texts: dict[str, list[Sentence]] = {}
        for sid in ranked:
            sentence = sentences.get(sid)
            for old in olders.get(sentence.doc_id, []) if sentence else []:
                if old not in texts:
                    texts[old] = self.catalog.sentences_of(old)
                twin = counterpart(sentence, texts[old], min_share=self.settings.earlier_version_min_share)
                if twin is not None and tokens(twin.text) != tokens(sentence.text):
                    earlier.setdefault(sid, []).append(EarlierVersion(sentence=twin, dispatch=dispatches[old]))
        return earlier

    def _hits(self, ranked: list[str], fused: dict[str, float], dense: dict[str, float],
              lexical: dict[str, float], sentences: dict[str, Sentence], dispatches: dict[str, Dispatch],
              neighbours: int, earlier: dict[str, list[EarlierVersion]]) -> list[SentenceHit]:
        hits = []
        for sid in ranked:
            sentence = sentences.get(sid)
            if sentence is None or sentence.doc_id not in dispatches:
                continue  # written to vectors but not committed: invisible until it is
            before, after = [], []
            if neighbours:
                around = self.catalog.sentences_of(sentence.doc_id, sentence.index - neighbours,
                                                   sentence.index + neighbours)
                before = [s for s in around if s.index < sentence.index]
                after = [s for s in around if s.index > sentence.index]
            hits.append(SentenceHit(sentence=sentence, dispatch=dispatches[sentence.doc_id], score=fused[sid],
                                    dense=dense.get(sid), lexical=lexical.get(sid),
                                    context_before=before, context_after=after, earlier=earlier.get(sid, [])))
        return hits


def top_dense(hits: list[SentenceHit]) -> float:
    """The best dense cosine among hits (0 when none)."""
    return max((h.dense for h in hits if h.dense is not None), default=0.0)
