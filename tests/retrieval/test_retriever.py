"""Hybrid retrieval on the small constructed corpus (real embedder, embedded
Chroma): both sides found, chunks, language-aware weights, translation, filters."""

from collections import Counter
from datetime import date

import pytest

from assistant.domain import Filters
from assistant.index.embedders import embed_query
from assistant.retrieval.retriever import HybridRetriever

pytestmark = pytest.mark.slow  # a real embedding model


def test_nearest_chunks_come_with_their_sentence_spans_and_filters(helper):
    question = "Quanti centri di accoglienza ha aperto la protezione civile a Valencia?"
    vector = embed_query(helper.embedder, question)
    chunks = helper.vectors.query_chunks(vector, 5)
    doc, first, last, cosine = chunks[0]
    assert doc.startswith("flood-") and first == 0 and last == 3  # the whole short dispatch is one chunk
    assert [c[3] for c in chunks] == sorted((c[3] for c in chunks), reverse=True)
    english = helper.vectors.query_chunks(vector, 5, Filters(languages=["en"]))
    assert english and {c[0] for c in english} <= {"port", "wind"}
    held_out = helper.vectors.query_chunks(vector, 5, Filters(exclude_doc_ids=["flood-a", "flood-b", "flood-c"]))
    assert not any(c[0].startswith("flood-") for c in held_out)


def test_chunk_weight_reaches_the_ranking(helper):
    question = "Quante case alimenta il parco eolico vicino a Taranto?"
    settings = helper.settings.retrieval
    without = HybridRetriever(helper.catalog, helper.vectors, helper.embedder,
                              settings.model_copy(update={"chunk_weight": 0.0})).retrieve(question, "it", top_k=10)
    with_chunks = helper.retriever.retrieve(question, "it", top_k=10)
    assert settings.chunk_weight > 0
    scores = {h.sentence.id: h.score for h in without}
    gained = [h.score - scores[h.sentence.id] for h in with_chunks if h.sentence.id in scores]
    assert with_chunks[0].sentence.doc_id == "wind"
    assert max(gained) == pytest.approx(settings.chunk_weight, abs=1e-6)  # the nearest chunk's sentences
    assert min(gained) >= 0


def test_sentence_matching_both_sides_ranks_first_with_its_neighbours(helper):
    hits = helper.retrieve("Quando aprirà la linea M4 della metropolitana di Milano?", top_k=5)
    top = hits[0]
    assert top.sentence.id == "metro-s001"
    assert top.dense is not None and top.lexical is not None  # found by both retrievers
    assert [s.id for s in top.context_before] == ["metro-s000"]
    assert [s.id for s in top.context_after] == ["metro-s002"]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_language_aware_fusion_on_a_mixed_corpus(helper):
    counts = Counter(helper.catalog.language_counts())
    assert set(counts) == {"it", "en"}
    english = helper.retrieve("When did the port of Genoa reopen after the storm?", top_k=3)
    assert english[0].sentence.id == "port-s000"
    crossing = helper.retrieve("How much did the price of durum wheat fall?", top_k=3)  # English over Italian text
    assert crossing[0].sentence.doc_id == "grano"
    italian = helper.retrieve("Quante turbine ha il nuovo parco eolico di Taranto?", top_k=3)  # Italian over English
    assert italian[0].sentence.doc_id == "wind"


def test_a_translation_adds_a_search_but_relevance_stays_the_questions(helper):
    question = "How far did the wheat go down?"  # few words shared with the Italian text
    plain = helper.retriever.retrieve(question, "en", top_k=40)
    translated = helper.retriever.retrieve(question, "en", top_k=40,
                                           translation=("Di quanto è sceso il prezzo del grano duro?", "it"))
    def margin(hits):  # the gold sentence's lead over the best sentence of another dispatch
        gold = next(h.score for h in hits if h.sentence.id == "grano-s000")
        return gold - max(h.score for h in hits if h.sentence.doc_id != "grano")

    assert translated[0].sentence.id == "grano-s000"
    assert margin(translated) > margin(plain) + 0.1  # the translation's words and embedding agree on it
    # the dense value of a hit (the abstention signal) is the asked question's cosine, translated or not
    before = {h.sentence.id: h.dense for h in plain}
    for hit in translated:
        if hit.sentence.id in before:
            assert hit.dense == pytest.approx(before[hit.sentence.id], abs=1e-5)


def test_filters_by_date_source_and_language(helper):
    question = "Che cosa è successo?"
    assert {h.dispatch.source for h in helper.retrieve(question, Filters(sources=["reuters"]), top_k=10)} == {"Reuters"}
    assert {h.dispatch.language for h in helper.retrieve(question, Filters(languages=["en"]), top_k=10)} == {"en"}
    dated = helper.retrieve(question, Filters(since=date(2025, 3, 10), until=date(2025, 3, 11)), top_k=10)
    assert dated and {h.dispatch.id for h in dated} <= {"metro", "port"}
    assert all(h.dispatch.published_at is not None for h in helper.retrieve(question, Filters(until=date(2030, 1, 1))))


@pytest.mark.parametrize("question,language,translation", [
    ("Quante persone sono state evacuate per l'alluvione di Valencia?", "it", None),  # re-issued dispatches
    ("How far did the wheat go down?", "en", ("Di quanto è sceso il prezzo del grano duro?", "it")),
])
def test_one_search_gives_each_depth_what_retrieve_gives(helper, monkeypatch, question, language, translation):
    retriever = helper.retriever
    alone = [retriever.retrieve(question, language, top_k=k, translation=translation) for k in (3, None, 40)]
    searches = []
    scored = retriever._scored
    monkeypatch.setattr(retriever, "_scored", lambda *args: searches.append(args) or scored(*args))
    together = retriever.retrieve_depths(question, language, [3, None, 40], translation=translation)
    assert len(searches) == 1  # the three depths fetch as many candidates (retrieval.candidates)
    assert [[h.model_dump() for h in hits] for hits in together] == [[h.model_dump() for h in hits] for hits in alone]
    assert len(together[1]) == helper.settings.retrieval.top_k
