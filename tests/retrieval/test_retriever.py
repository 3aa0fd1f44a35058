"""Hybrid retrieval on a small constructed corpus (real embedder, embedded
Chroma): fusion, language-aware weights, neighbours, filters, re-issued
dispatches collapsed to their newest version, relative dates on the ask path."""

import json
import random
from collections import Counter
from datetime import date

import pytest

from assistant.core import Assistant
from assistant.index.embedders import embed_query
from assistant.retrieval.retriever import HybridRetriever
from assistant.domain import Answer, Dispatch, Filters
from assistant.retrieval.near_duplicates import could_resemble, newest_versions, resemblance, shingles
from assistant.retrieval.fusion import (fusion_weights, min_max, relative_fusion, windowed, with_chunk_scores, with_document_boost,
                              with_document_scores)
from assistant.settings import RetrievalSettings
from tests.conftest import make_settings

FLOOD_V1 = ("Un'alluvione ha colpito Valencia nella notte di martedì. Le piogge hanno provocato lo straripamento "
            "del fiume Turia e l'evacuazione di duemila persone. La protezione civile ha aperto tre centri di "
            "accoglienza nei quartieri a nord della città. Le scuole resteranno chiuse fino a venerdì.")
FLOOD_V2 = FLOOD_V1.replace("duemila persone", "tremila persone").replace("tre centri", "quattro centri")
RECORDS = [
    {"id": "metro", "source": "ANSA", "published_at": "2025-03-10", "lang": "it",
     "body": "Il consiglio comunale si è riunito lunedì. La linea M4 della metropolitana di Milano aprirà il 12 "
             "ottobre con sette nuove stazioni. Il sindaco ha detto che i lavori sono costati due miliardi."},
    {"id": "grano", "source": "ANSA", "published_at": "2025-02-14", "lang": "it",
     "body": "Il prezzo del grano duro è sceso del dieci per cento a febbraio. Gli agricoltori pugliesi hanno "
             "protestato davanti alla prefettura di Bari."},
    {"id": "port", "source": "Reuters", "published_at": "2025-03-11", "lang": "en",
     "body": "The port of Genoa reopened on Tuesday after the storm. Shipping companies expect delays until "
             "Friday. The harbour master said two cranes were damaged."},
    {"id": "wind", "source": "Reuters", "published_at": "2024-11-03", "lang": "en",
     "body": "A new offshore wind farm opened near Taranto. It has ten turbines and powers sixty thousand homes."},
    {"id": "flood-a", "source": "ANSA", "published_at": "2025-03-05", "lang": "it", "body": FLOOD_V1},
    {"id": "flood-b", "source": "ANSA", "published_at": "2025-03-06", "lang": "it", "body": FLOOD_V2},
    {"id": "nodate", "source": "AGI", "lang": "it",
     "body": "La Banca centrale europea ha lasciato invariati i tassi di interesse. La presidente ha parlato "
             "di inflazione in calo."},
]


STRIKE_TEXT = ("Lo sciopero dei trasporti ha fermato {n} autobus a Torino nella giornata di giovedì. "
               "I sindacati chiedono il rinnovo del contratto nazionale.")
STRIKE = [{"id": "strike-agi", "source": "AGI", "published_at": "2025-03-07", "lang": "it",
           "body": STRIKE_TEXT.format(n="trecento")},
          {"id": "strike-adn", "source": "Adnkronos", "published_at": "2025-03-08", "lang": "it",
           "body": STRIKE_TEXT.format(n="quattrocento")}]


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="module")
def helper(tmp_path_factory):
    root = tmp_path_factory.mktemp("retrieve")
    _write(root / "feed.jsonl", RECORDS)
    # a same-day re-issue ingested later than the first version
    _write(root / "later.jsonl", [dict(RECORDS[4], id="flood-c", published_at="2025-03-06",
                                       body=FLOOD_V2.replace("venerdì", "sabato"))])
    # min_top_cosine above 1: the ask path stops before the model (no LLM call in these tests)
    assistant = Assistant(make_settings(root / "home", retrieval=RetrievalSettings(
        min_top_cosine={"default": 1.01}, translate_questions=False)))
    assert assistant.ingest([root / "feed.jsonl"], progress=False).ok
    assert assistant.ingest([root / "later.jsonl"], progress=False).ok
    # two agencies sending the same sentence with different figures: two sources, not two versions
    _write(root / "strike.jsonl", STRIKE)
    assert assistant.ingest([root / "strike.jsonl"], progress=False).ok
    return assistant


# --- fusion -------------------------------------------------------------------------------
def test_relative_fusion_sums_weighted_normalised_scores():
    dense = {"a-s000": 0.90, "b-s000": 0.80, "c-s000": 0.70}
    lexical = {"c-s000": 12.0, "d-s000": 4.0}
    assert min_max(dense) == pytest.approx({"a-s000": 1.0, "b-s000": 0.5, "c-s000": 0.0})
    fused = relative_fusion([(dense, 1.0), (lexical, 0.7)])
    assert fused == pytest.approx({"a-s000": 1.0, "b-s000": 0.5, "c-s000": 0.7, "d-s000": 0.0})
    assert sorted(fused, key=fused.get, reverse=True) == ["a-s000", "c-s000", "b-s000", "d-s000"]
    # with a small lexical weight (across languages) the dense order holds
    light = relative_fusion([(dense, 1.0), (lexical, 0.1)])
    assert sorted(light, key=light.get, reverse=True)[:3] == ["a-s000", "b-s000", "c-s000"]


def test_sentence_scores_borrow_from_neighbours_and_their_dispatch():
    cosines = {"a-s001": 0.80, "b-s000": 0.82}
    known = {**cosines, "a-s000": 0.90, "a-s002": 0.70, "b-s001": 0.50}
    mixed = windowed(cosines, known, 0.2)
    assert mixed["a-s001"] == pytest.approx(0.8 * 0.80 + 0.2 * 0.80)
    assert mixed["b-s000"] == pytest.approx(0.8 * 0.82 + 0.2 * (0.82 + 0.50) / 2)  # no sentence before the first
    boosted = with_document_boost({"a-s000": 0.9, "a-s003": 0.6, "b-s000": 0.7}, 1.0)
    assert boosted == pytest.approx({"a-s000": 1.8, "a-s003": 1.5, "b-s000": 1.4})


def test_dispatch_level_lexical_score_lifts_every_sentence_of_the_dispatch():
    fused = {"a-s000": 1.0, "a-s004": 0.3, "b-s000": 0.6, "c-s002": 0.5}
    documents = {"b": 20.0, "c": 12.0, "z": 4.0}  # z has no candidate sentence: nothing to lift
    lifted = with_document_scores(fused, documents, 0.7)
    assert lifted == pytest.approx({"a-s000": 1.0, "a-s004": 0.3, "b-s000": 0.6 + 0.7, "c-s002": 0.5 + 0.7 * 0.5})
    assert sorted(lifted, key=lifted.get, reverse=True)[:2] == ["b-s000", "a-s000"]
    assert with_document_scores(fused, documents, 0.0) == fused


def test_chunk_score_lifts_every_sentence_of_the_chunk():
    fused = {"a-s000": 1.0, "a-s003": 0.2, "a-s004": 0.2, "b-s001": 0.5, "c-s000": 0.4}
    # a's second chunk (sentences 3-5) is the nearest; b's chunk 0-2 half as near; c's is the farthest fetched
    chunks = [("a", 3, 5, 0.90), ("b", 0, 2, 0.85), ("a", 0, 2, 0.82), ("c", 0, 1, 0.80)]
    lifted = with_chunk_scores(fused, chunks, 0.7)
    assert lifted == pytest.approx({"a-s000": 1.0 + 0.7 * 0.2, "a-s003": 0.2 + 0.7, "a-s004": 0.2 + 0.7,
                                    "b-s001": 0.5 + 0.7 * 0.5, "c-s000": 0.4})
    assert sorted(lifted, key=lifted.get, reverse=True)[:3] == ["a-s000", "a-s003", "a-s004"]
    assert with_chunk_scores(fused, chunks, 0.0) == fused
    assert with_chunk_scores(fused, [], 0.7) == fused
    # a sentence whose chunk was not among the nearest gets nothing
    assert with_chunk_scores({"d-s000": 0.3}, chunks, 0.7) == {"d-s000": 0.3}


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


def test_fusion_weights_follow_question_and_corpus_languages():
    italian = Counter({"it": 100})
    assert fusion_weights("it", italian).lexical == pytest.approx(0.7)
    assert fusion_weights("en", italian).lexical == pytest.approx(0.1)  # English words rarely match Italian text
    assert fusion_weights("it", italian).document_lexical == pytest.approx(0.7)
    assert fusion_weights("en", italian).document_lexical == 0.0
    mixed = Counter({"it": 50, "en": 50})
    assert fusion_weights("en", mixed).lexical == pytest.approx(0.4)
    assert fusion_weights("it", mixed).lexical == fusion_weights("en", mixed).lexical
    assert fusion_weights("en", italian).dense == fusion_weights("it", italian).dense


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


# --- re-issued dispatches -----------------------------------------------------------------
def test_resemblance_separates_versions_from_other_stories():
    assert resemblance(shingles(FLOOD_V1), shingles(FLOOD_V2)) > 0.6
    assert resemblance(shingles(FLOOD_V1), shingles(RECORDS[0]["body"])) < 0.05
    day = date(2025, 3, 6)
    docs = {"old": Dispatch(id="old", body=FLOOD_V1, published_at=date(2025, 3, 5)),
            "new": Dispatch(id="new", body=FLOOD_V2, published_at=day),
            "later": Dispatch(id="later", body=FLOOD_V2 + " Nuova allerta.", published_at=day),
            "other": Dispatch(id="other", body=RECORDS[0]["body"], published_at=date(2026, 1, 1))}
    order = {"old": (3.0, 3), "new": (1.0, 1), "later": (2.0, 2), "other": (0.0, 0)}
    # newest by date; the same date goes to the later ingest; other stories untouched
    assert newest_versions(docs, order, 0.6) == {"old": "later", "new": "later"}
    undated = {"a": Dispatch(id="a", body=FLOOD_V1), "b": Dispatch(id="b", body=FLOOD_V2, published_at=day)}
    assert newest_versions(undated, {}, 0.6) == {"a": "b"}


def test_size_bound_only_skips_pairs_below_the_threshold():
    rng = random.Random(5)
    skipped = 0
    for _ in range(2000):
        a = set(rng.sample(range(60), rng.randint(0, 40)))
        b = set(rng.sample(range(60), rng.randint(0, 40)))
        exact = len(a & b) / len(a | b) if a and b else 0.0
        assert resemblance(a, b) == pytest.approx(exact)
        for threshold in (0.0, 0.3, 0.6, 0.9):
            if not could_resemble(a, b, threshold):
                skipped += 1
                assert exact < threshold, (len(a), len(b), threshold)
    assert skipped > 0  # the bound does rule pairs out


def test_reissued_dispatch_appears_once_as_its_newest_version(helper):
    hits = helper.retrieve("Quante persone sono state evacuate per l'alluvione di Valencia?", top_k=8)
    docs = [h.sentence.doc_id for h in hits]
    assert docs[0] == "flood-c"  # same date as flood-b, ingested later
    assert not {"flood-a", "flood-b"} & set(docs)
    ids = [h.sentence.id for h in hits]
    assert len(ids) == len(set(ids))
    assert any("tremila" in h.sentence.text for h in hits)  # the edited sentence, as last issued


def test_an_updated_figure_shows_the_newest_and_keeps_the_earlier(helper):
    hits = helper.retrieve("Quante persone sono state evacuate per l'alluvione di Valencia?", top_k=8)
    evacuated = next(h for h in hits if "evacuazione" in h.sentence.text)
    assert evacuated.dispatch.id == "flood-c" and "tremila" in evacuated.sentence.text
    # flood-b reads as flood-c here (not kept); flood-a said otherwise (kept, never hidden)
    assert [(e.dispatch.id, "duemila" in e.sentence.text) for e in evacuated.earlier] == [("flood-a", True)]
    unchanged = next(h for h in hits if "straripamento" not in h.sentence.text and h.dispatch.id == "flood-c"
                     and "tre centri" not in h.sentence.text and "quattro centri" not in h.sentence.text)
    assert all(e.sentence.text != unchanged.sentence.text for e in unchanged.earlier)


def test_two_agencies_with_near_identical_text_are_both_shown(helper):
    hits = helper.retrieve("Quanti autobus ha fermato lo sciopero a Torino?", top_k=6)
    assert {"strike-agi", "strike-adn"} <= {h.dispatch.id for h in hits}
    assert not any(h.earlier for h in hits if h.dispatch.id.startswith("strike"))


def test_an_update_is_answered_with_its_latest_value_and_cites_the_earlier(helper):
    from assistant.answering.service import with_conflict
    from assistant.answering.cite import to_citation
    from assistant.answering.prompting import number_sources, wording

    question = "Quante persone sono state evacuate per l'alluvione di Valencia?"
    sources = number_sources(helper.retrieve(question, top_k=8))
    newest = next(s for s in sources if "evacuazione" in s.hit.sentence.text)
    answer = Answer(question=question, answer="Tremila persone [1].", language="it", abstained=False,
                    citations=[to_citation(1, newest)], retrieved=[{"sentence_id": s.hit.sentence.id} for s in sources])
    checked = with_conflict(answer, sources, wording(helper.settings.prompts_dir, "it"))
    assert checked.conflict_kind == "updated"
    assert [side.value for side in checked.conflicts] == ["tremila", "duemila"]  # newest first
    by_n = {c.n: c for c in checked.citations}
    assert by_n[checked.conflicts[0].citations[0]].doc_id == "flood-c"
    assert by_n[checked.conflicts[1].citations[0]].doc_id == "flood-a"
    assert "duemila [2]" in checked.answer and checked.answer.startswith("Tremila persone [1].")
    assert checked.sentences[-1].citations == [1, 2]
    # the earlier version's sentence is listed with what was retrieved, marked as such
    assert {r["sentence_id"] for r in checked.retrieved} >= {c.sentence_id for c in checked.citations}
    assert [r for r in checked.retrieved if r.get("earlier_version")] == [
        {"sentence_id": "flood-a-s001", "score": 0.0, "dense": None, "earlier_version": True}]


def test_agencies_that_disagree_are_both_cited_newest_first(helper):
    from assistant.answering.service import with_conflict
    from assistant.answering.cite import to_citation
    from assistant.answering.prompting import number_sources, wording

    question = "Quanti autobus ha fermato lo sciopero a Torino?"
    sources = number_sources(helper.retrieve(question, top_k=6))
    agi = next(s for s in sources if s.hit.dispatch.id == "strike-agi" and "autobus" in s.hit.sentence.text)
    answer = Answer(question=question, answer="Trecento autobus [1].", language="it", abstained=False,
                    citations=[to_citation(1, agi)])
    checked = with_conflict(answer, sources, wording(helper.settings.prompts_dir, "it"))
    assert checked.conflict_kind == "disagree"
    assert [(s.value, s.agency, s.published_at) for s in checked.conflicts] == [
        ("quattrocento", "Adnkronos", date(2025, 3, 8)), ("trecento", "AGI", date(2025, 3, 7))]
    assert "Le fonti non concordano" in checked.answer
    assert all(len(side.citations) == 1 for side in checked.conflicts)
    # a question on a fact both agencies agree on: nothing to flag
    union = next(s for s in sources if "sindacati" in s.hit.sentence.text)
    same = Answer(question="Che cosa chiedono i sindacati?", answer="Il rinnovo del contratto [1].",
                  language="it", abstained=False, citations=[to_citation(1, union)])
    assert with_conflict(same, [s for s in sources if "sindacati" in s.hit.sentence.text],
                         wording(helper.settings.prompts_dir, "it")).conflicts == []


def test_older_version_stays_when_a_filter_excludes_the_newer(helper):
    hits = helper.retrieve("Quante persone sono state evacuate a Valencia?",
                           Filters(until=date(2025, 3, 5)), top_k=5)
    docs = [h.sentence.doc_id for h in hits]
    assert docs[0] == "flood-a" and not {"flood-b", "flood-c"} & set(docs)


def test_without_collapse_every_version_would_show(helper):
    from assistant.retrieval.retriever import HybridRetriever

    settings = helper.settings.retrieval.model_copy(update={"duplicate_resemblance": 1.01})
    plain = HybridRetriever(helper.catalog, helper.vectors, helper.embedder, settings)
    hits = plain.retrieve("Quante persone sono state evacuate per l'alluvione di Valencia?", "it", top_k=8)
    assert {"flood-a", "flood-b", "flood-c"} <= {h.sentence.doc_id for h in hits}


# --- relative dates on the ask path (stops before the model) -------------------------------
def test_relative_date_becomes_the_filter_and_is_reported(helper):
    answer = helper.ask("Cosa è successo al porto ieri?", reference_date=date(2025, 3, 12))
    assert answer.date_phrase == "ieri"
    assert (answer.filters.since, answer.filters.until) == (date(2025, 3, 11), date(2025, 3, 11))
    retrieved = helper.catalog.sentences(r["sentence_id"] for r in answer.retrieved)
    assert retrieved and {s.doc_id for s in retrieved.values()} == {"port"}
    assert answer.abstained and answer.backend == ""  # no model call in this test


def test_explicit_dates_win_over_the_question(helper):
    explicit = Filters(since=date(2025, 2, 1), until=date(2025, 2, 28))
    answer = helper.ask("What happened last week?", filters=explicit, reference_date=date(2025, 3, 12))
    assert answer.date_phrase is None and answer.filters == explicit
    retrieved = helper.catalog.sentences(r["sentence_id"] for r in answer.retrieved)
    assert {s.doc_id for s in retrieved.values()} == {"grano"}


def test_reference_date_from_settings_and_switch(helper):
    from assistant.answering.service import AnswerService

    settings = helper.settings.model_copy(deep=True)
    settings.retrieval.reference_date = date(2025, 3, 12)
    service = AnswerService(settings, helper.retriever, llm_provider=None)
    answer = service.ask("What happened in February?")
    assert (answer.filters.since, answer.filters.until, answer.date_phrase) == (
        date(2025, 2, 1), date(2025, 2, 28), "in February")
    settings.retrieval.relative_dates = False
    assert service.ask("What happened in February?").filters == Filters()


def test_relative_dates_ignored_when_no_dispatch_is_dated(tmp_path):
    path = tmp_path / "undated.jsonl"
    _write(path, [RECORDS[-1]])
    undated = Assistant(make_settings(tmp_path / "home", retrieval=RetrievalSettings(min_top_cosine={"default": 1.01})))
    undated.ingest([path], progress=False)
    answer = undated.ask("Cosa ha deciso la BCE ieri sui tassi?", reference_date=date(2025, 3, 12))
    assert answer.date_phrase is None and answer.filters == Filters()
    assert answer.retrieved  # the undated dispatch is still found


def test_question_words_ask_for_dates_and_numbers():
    from assistant.retrieval.answer_types import asked_type, holds_type

    assert asked_type("Quando aprirà la linea M4?") == asked_type("In what year did it open?") == "date"
    assert asked_type("Quanti soldati perse Napoleone?") == asked_type("How much did it cost?") == "number"
    assert asked_type("Chi guida la NATO?") is None and asked_type("Who leads NATO?") is None
    assert holds_type("La linea aprirà il 12 ottobre.", "date") and holds_type("Nel 1973 iniziò la crisi.", "date")
    assert holds_type("Si è riunito lunedì.", "date") and holds_type("The port reopened on Tuesday.", "date")
    assert not holds_type("Il sindaco ha parlato dei lavori.", "date")
    assert holds_type("Sono costati due miliardi.", "number") and holds_type("It has 10 turbines.", "number")
    assert not holds_type("The harbour master spoke.", "number")


def test_sentences_holding_what_the_question_asks_for_gain_the_boost(helper, monkeypatch):
    question = "Quando si è riunito il consiglio comunale?"
    plain_settings = helper.retriever.settings.model_copy(update={"answer_type_boost": 0.0})
    monkeypatch.setattr(helper.retriever, "settings", plain_settings)
    plain = {h.sentence.id: h.score for h in helper.retriever.retrieve(question, "it", top_k=40)}
    monkeypatch.setattr(helper.retriever, "settings", plain_settings.model_copy(update={"answer_type_boost": 0.3}))
    boosted = {h.sentence.id: h.score for h in helper.retriever.retrieve(question, "it", top_k=40)}
    assert boosted["metro-s000"] == pytest.approx(plain["metro-s000"] + 0.3)  # "lunedì"
    assert boosted["metro-s001"] == pytest.approx(plain["metro-s001"] + 0.3)  # "12 ottobre"
    assert boosted["metro-s002"] == pytest.approx(plain["metro-s002"])  # no date
