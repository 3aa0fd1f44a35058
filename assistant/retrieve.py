"""Hybrid sentence retrieval: dense vectors (Chroma) and BM25 (catalog FTS5),
fused by weighted reciprocal rank; hits come back with their dispatch, their
dense cosine (the relevance signal used for abstention) and their neighbours."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from assistant.index.catalog import Catalog
from assistant.index.embedders import embed_query
from assistant.index.lexical import query_expression
from assistant.index.vectors import ChromaSentences
from assistant.model import Dispatch, Filters, Sentence, SentenceHit
from assistant.near_duplicates import counterpart, newest_versions
from assistant.rerank import build_reranker
from assistant.settings import RetrievalSettings

RRF_K = 60


@dataclass
class FusionWeights:
    """How much each side counts in the fused ranking."""

    dense: float = 1.0
    lexical: float = 1.0


def fusion_weights(question_language: str, corpus_languages: Counter) -> FusionWeights:
    """Lexical matching helps within a language and hurts across languages
    (English words rarely occur in Italian text), so its weight follows the
    share of the corpus written in the question's language."""
    total = sum(corpus_languages.values()) or 1
    share = corpus_languages.get(question_language, 0) / total
    return FusionWeights(dense=1.0, lexical=0.15 + 0.85 * share)


def weighted_rrf(rankings: list[tuple[list[str], float]], k: int = RRF_K) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of ranked id lists."""
    fused: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, item in enumerate(ids):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank + 1)
    return fused


class HybridRetriever:
    """Dense + lexical sentence retrieval over the catalog and vector store."""

    def __init__(self, catalog: Catalog, vectors: ChromaSentences, embedder, settings: RetrievalSettings):
        self.catalog = catalog
        self.vectors = vectors
        self.embedder = embedder
        self.settings = settings
        self.reranker = build_reranker(settings.reranker_model)

    def retrieve(self, question: str, language: str, top_k: int | None = None,
                 filters: Filters | None = None, neighbours: int | None = None) -> list[SentenceHit]:
        """The ``top_k`` best sentences for ``question``, best first."""
        top_k = top_k or self.settings.top_k
        n = max(self.settings.candidates, top_k)
        query_vec = embed_query(self.embedder, question)
        dense = self.vectors.query(query_vec, n, filters)
        expression = query_expression(question)
        lexical = self.catalog.lexical_search(expression, n, filters) if expression else []
        weights = fusion_weights(language, Counter(self.catalog.language_counts()))
        fused = weighted_rrf([([i for i, _ in dense], weights.dense), ([i for i, _ in lexical], weights.lexical)])
        pool = max(top_k, self.settings.rerank_candidates) if self.reranker else top_k
        ranked = sorted(fused, key=fused.get, reverse=True)[:2 * pool + 10]
        sentences = self.catalog.sentences(ranked)
        dispatches = self.catalog.dispatches(s.doc_id for s in sentences.values())
        ranked = self._newest_versions(ranked, fused, sentences, dispatches)[:pool]
        dense_scores = dict(dense)
        missing = [i for i in ranked if i not in dense_scores]
        if missing:
            dense_scores.update(self.vectors.similarities(query_vec, missing))
        hits = self._hits(ranked, fused, dense_scores, dict(lexical), sentences, dispatches,
                          self.settings.context_neighbours if neighbours is None else neighbours)
        return self.reranker.rerank(question, hits, top_k) if self.reranker else hits[:top_k]

    def _newest_versions(self, ranked: list[str], fused: dict[str, float], sentences: dict[str, Sentence],
                         dispatches: dict[str, Dispatch]) -> list[str]:
        """``ranked`` with each re-issued dispatch shown once, as its newest
        version: a hit in an older version becomes the newest version's
        corresponding sentence, at the better of their places."""
        newest = newest_versions(dispatches, self.catalog.ingest_order(dispatches),
                                 self.settings.duplicate_resemblance)
        if not newest:
            return ranked
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
        return out

    def _hits(self, ranked: list[str], fused: dict[str, float], dense: dict[str, float],
              lexical: dict[str, float], sentences: dict[str, Sentence], dispatches: dict[str, Dispatch],
              neighbours: int) -> list[SentenceHit]:
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
                                    context_before=before, context_after=after))
        return hits


def top_dense(hits: list[SentenceHit]) -> float:
    """The best dense cosine among hits (0 when none)."""
    return max((h.dense for h in hits if h.dense is not None), default=0.0)
