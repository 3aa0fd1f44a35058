"""Re-issued dispatches collapsed to their newest version, the earlier versions
kept with the sentences they differ in, and agencies sending the same text kept apart."""

import random
from datetime import date

import pytest

from assistant.domain import Answer, Dispatch, Filters
from assistant.retrieval.near_duplicates import (copies_by_other_senders, could_resemble, newest_versions, resemblance,
                                                 shingles)
from assistant.settings import RetrievalSettings
from tests.retrieval.conftest import FLOOD_V1, FLOOD_V2, RECORDS

SHINGLE = RetrievalSettings().duplicate_shingle_words


def test_resemblance_separates_versions_from_other_stories():
    assert resemblance(shingles(FLOOD_V1, SHINGLE), shingles(FLOOD_V2, SHINGLE)) > 0.6
    assert resemblance(shingles(FLOOD_V1, SHINGLE), shingles(RECORDS[0]["body"], SHINGLE)) < 0.05
    day = date(2025, 3, 6)
    docs = {"old": Dispatch(id="old", body=FLOOD_V1, published_at=date(2025, 3, 5)),
            "new": Dispatch(id="new", body=FLOOD_V2, published_at=day),
            "later": Dispatch(id="later", body=FLOOD_V2 + " Nuova allerta.", published_at=day),
            "other": Dispatch(id="other", body=RECORDS[0]["body"], published_at=date(2026, 1, 1))}
    order = {"old": (3.0, 3), "new": (1.0, 1), "later": (2.0, 2), "other": (0.0, 0)}
    # newest by date; the same date goes to the later ingest; other stories untouched
    assert newest_versions(docs, order, 0.6, SHINGLE) == {"old": "later", "new": "later"}
    undated = {"a": Dispatch(id="a", body=FLOOD_V1), "b": Dispatch(id="b", body=FLOOD_V2, published_at=day)}
    assert newest_versions(undated, {}, 0.6, SHINGLE) == {"a": "b"}


def test_copies_are_near_identical_dispatches_of_other_senders():
    docs = {"ansa": Dispatch(id="ansa", body=FLOOD_V1, agency="ANSA"),
            "agi": Dispatch(id="agi", body=FLOOD_V2, agency="AGI"),
            "ansa-2": Dispatch(id="ansa-2", body=FLOOD_V2, agency="ANSA"),  # a version, not a copy
            "unknown": Dispatch(id="unknown", body=FLOOD_V2),  # sender unknown: maybe a version
            "other": Dispatch(id="other", body=RECORDS[0]["body"], agency="Reuters")}
    assert copies_by_other_senders(docs, ["ansa", "other", "missing"], 0.6, SHINGLE) == {"ansa": ["agi"]}
    assert copies_by_other_senders(docs, ["agi"], 0.6, SHINGLE) == {"agi": ["ansa", "ansa-2"]}
    assert copies_by_other_senders(docs, ["ansa"], 0.99, SHINGLE) == {}


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


@pytest.mark.slow
def test_reissued_dispatch_appears_once_as_its_newest_version(helper):
    hits = helper.retrieve("Quante persone sono state evacuate per l'alluvione di Valencia?", top_k=8)
    docs = [h.sentence.doc_id for h in hits]
    assert docs[0] == "flood-c"  # same date as flood-b, ingested later
    assert not {"flood-a", "flood-b"} & set(docs)
    ids = [h.sentence.id for h in hits]
    assert len(ids) == len(set(ids))
    assert any("tremila" in h.sentence.text for h in hits)  # the edited sentence, as last issued


@pytest.mark.slow
def test_an_updated_figure_shows_the_newest_and_keeps_the_earlier(helper):
    hits = helper.retrieve("Quante persone sono state evacuate per l'alluvione di Valencia?", top_k=8)
    evacuated = next(h for h in hits if "evacuazione" in h.sentence.text)
    assert evacuated.dispatch.id == "flood-c" and "tremila" in evacuated.sentence.text
    # flood-b reads as flood-c here (not kept); flood-a said otherwise (kept, never hidden)
    assert [(e.dispatch.id, "duemila" in e.sentence.text) for e in evacuated.earlier] == [("flood-a", True)]
    unchanged = next(h for h in hits if "straripamento" not in h.sentence.text and h.dispatch.id == "flood-c"
                     and "tre centri" not in h.sentence.text and "quattro centri" not in h.sentence.text)
    assert all(e.sentence.text != unchanged.sentence.text for e in unchanged.earlier)


@pytest.mark.slow
def test_two_agencies_with_near_identical_text_are_both_shown(helper):
    hits = helper.retrieve("Quanti autobus ha fermato lo sciopero a Torino?", top_k=6)
    assert {"strike-agi", "strike-adn"} <= {h.dispatch.id for h in hits}
    assert not any(h.earlier for h in hits if h.dispatch.id.startswith("strike"))


@pytest.mark.slow
def test_an_update_is_answered_with_its_latest_value_and_cites_the_earlier(helper):
    from assistant.answering.service import with_conflict
    from assistant.answering.cite import to_citation
    from assistant.answering.prompting import number_sources, wording

    question = "Quante persone sono state evacuate per l'alluvione di Valencia?"
    sources = number_sources(helper.retrieve(question, top_k=8))
    newest = next(s for s in sources if "evacuazione" in s.hit.sentence.text)
    answer = Answer(question=question, answer="Tremila persone [1].", language="it", abstained=False,
                    citations=[to_citation(1, newest)], retrieved=[{"sentence_id": s.hit.sentence.id} for s in sources])
    checked = with_conflict(answer, sources, wording(helper.settings.prompts_dir, "it"),
                            helper.settings.conflicts)
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


@pytest.mark.slow
def test_agencies_that_disagree_are_both_cited_newest_first(helper):
    from assistant.answering.service import with_conflict
    from assistant.answering.cite import to_citation
    from assistant.answering.prompting import number_sources, wording

    question = "Quanti autobus ha fermato lo sciopero a Torino?"
    sources = number_sources(helper.retrieve(question, top_k=6))
    agi = next(s for s in sources if s.hit.dispatch.id == "strike-agi" and "autobus" in s.hit.sentence.text)
    answer = Answer(question=question, answer="Trecento autobus [1].", language="it", abstained=False,
                    citations=[to_citation(1, agi)])
    checked = with_conflict(answer, sources, wording(helper.settings.prompts_dir, "it"),
                            helper.settings.conflicts)
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
                         wording(helper.settings.prompts_dir, "it"), helper.settings.conflicts
                         ).conflicts == []


@pytest.mark.slow
def test_older_version_stays_when_a_filter_excludes_the_newer(helper):
    hits = helper.retrieve("Quante persone sono state evacuate a Valencia?",
                           Filters(until=date(2025, 3, 5)), top_k=5)
    docs = [h.sentence.doc_id for h in hits]
    assert docs[0] == "flood-a" and not {"flood-b", "flood-c"} & set(docs)


@pytest.mark.slow
def test_without_collapse_every_version_would_show(helper):
    from assistant.retrieval.retriever import HybridRetriever

    settings = helper.settings.retrieval.model_copy(update={"duplicate_resemblance": 1.01})
    plain = HybridRetriever(helper.catalog, helper.vectors, helper.embedder, settings)
    hits = plain.retrieve("Quante persone sono state evacuate per l'alluvione di Valencia?", "it", top_k=8)
    assert {"flood-a", "flood-b", "flood-c"} <= {h.sentence.doc_id for h in hits}


@pytest.mark.slow
def test_a_newer_version_the_question_did_not_retrieve_still_replaces_the_older(helper):
    from assistant.retrieval.retriever import HybridRetriever

    # a pool of one: the question's words find only the first version's sentence
    narrow = dict(top_k=1, candidates=1, version_pool_factor=1, version_pool_extra=0, context_neighbours=0)
    question = "l'evacuazione di duemila persone"
    settings = helper.settings.retrieval.model_copy(update=dict(narrow, version_lookup_neighbours=0))
    alone = HybridRetriever(helper.catalog, helper.vectors, helper.embedder, settings).retrieve(question, "it")
    assert [h.dispatch.id for h in alone] == ["flood-a"]  # without the look-up the superseded figure shows
    settings = helper.settings.retrieval.model_copy(update=narrow)
    [hit] = HybridRetriever(helper.catalog, helper.vectors, helper.embedder, settings).retrieve(question, "it")
    assert hit.dispatch.id == "flood-c" and "tremila" in hit.sentence.text
    assert [(e.dispatch.id, "duemila" in e.sentence.text) for e in hit.earlier] == [("flood-a", True)]


@pytest.mark.slow
def test_the_look_up_of_versions_keeps_to_the_filters(helper):
    from assistant.retrieval.retriever import HybridRetriever

    narrow = dict(top_k=1, candidates=1, version_pool_factor=1, version_pool_extra=0, context_neighbours=0)
    settings = helper.settings.retrieval.model_copy(update=narrow)
    [hit] = HybridRetriever(helper.catalog, helper.vectors, helper.embedder, settings).retrieve(
        "l'evacuazione di duemila persone", "it", filters=Filters(until=date(2025, 3, 5)))
    assert hit.dispatch.id == "flood-a" and hit.earlier == []


def _narrow(helper, **update):
    """A retriever that finds one sentence only (the question's words alone decide it)."""
    from assistant.retrieval.retriever import HybridRetriever

    narrow = dict(top_k=1, candidates=1, version_pool_factor=1, version_pool_extra=0, context_neighbours=0)
    settings = helper.settings.retrieval.model_copy(update=dict(narrow, **update))
    return HybridRetriever(helper.catalog, helper.vectors, helper.embedder, settings)


@pytest.mark.slow
def test_another_agencys_copy_the_question_did_not_retrieve_is_kept_beside_the_hit(helper):
    [hit] = _narrow(helper).retrieve("trecento autobus fermati a Torino", "it")
    assert hit.dispatch.id == "strike-agi"
    assert [(c.dispatch.id, "quattrocento" in c.sentence.text) for c in hit.copies] == [("strike-adn", True)]
    assert hit.earlier == []  # two senders: a copy, never collapsed as a version
    [plain] = _narrow(helper, other_copies=False).retrieve("trecento autobus fermati a Torino", "it")
    assert plain.dispatch.id == "strike-agi" and plain.copies == []
    # a sentence both agencies wrote alike has no copy to keep
    [same] = _narrow(helper).retrieve("I sindacati chiedono il rinnovo del contratto nazionale", "it")
    assert same.dispatch.id.startswith("strike") and same.copies == []
    # the copy keeps to the filters
    [only] = _narrow(helper).retrieve("trecento autobus fermati a Torino", "it", filters=Filters(sources=["AGI"]))
    assert only.dispatch.id == "strike-agi" and only.copies == []


@pytest.mark.slow
def test_a_cited_sentence_and_its_unretrieved_copy_are_both_cited_as_a_disagreement(helper):
    from assistant.answering.service import with_conflict
    from assistant.answering.cite import to_citation
    from assistant.answering.prompting import number_sources, wording

    question = "Quanti autobus ha fermato lo sciopero a Torino?"
    sources = number_sources(_narrow(helper).retrieve("trecento autobus fermati a Torino", "it"))
    answer = Answer(question=question, answer="Trecento autobus [1].", language="it", abstained=False,
                    citations=[to_citation(1, sources[0])], retrieved=[{"sentence_id": sources[0].hit.sentence.id}])
    words = wording(helper.settings.prompts_dir, "it")
    checked = with_conflict(answer, sources, words, helper.settings.conflicts)
    assert checked.conflict_kind == "disagree"
    assert [(s.value, s.agency) for s in checked.conflicts] == [("quattrocento", "Adnkronos"), ("trecento", "AGI")]
    by_n = {c.n: c for c in checked.citations}
    assert by_n[checked.conflicts[0].citations[0]].doc_id == "strike-adn"
    assert [r for r in checked.retrieved if r.get("other_copy")] == [
        {"sentence_id": "strike-adn-s000", "score": 0.0, "dense": None, "other_copy": True}]
    # the copy of a source the answer does not cite is not what the answer rests on, even when
    # that source is among the best-ranked ones checked
    [union] = _narrow(helper).retrieve("I sindacati chiedono il rinnovo del contratto nazionale", "it")
    both = number_sources([union, sources[0].hit])
    uncited = Answer(question=question, answer="Il rinnovo del contratto [1].", language="it", abstained=False,
                     citations=[to_citation(1, both[0])])
    rules = helper.settings.conflicts.model_copy(update={"anchors": 3, "anchor_min_relative": 0.0})
    assert with_conflict(uncited, both, words, rules).conflicts == []
    cited = uncited.model_copy(update={"citations": [to_citation(1, both[1])]})
    assert [s.value for s in with_conflict(cited, both, words, rules).conflicts] == ["quattrocento", "trecento"]
