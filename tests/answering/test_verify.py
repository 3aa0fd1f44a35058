"""Verification of answers against their sources, on the seed dispatch with
the real embedder: support scores, rejected and aligned citations, unsupported
sentences, markers and numbering, and the decline when nothing is supported."""

from __future__ import annotations

import json

import pytest

from assistant.answering.prompting import number_sources, wording
from assistant.answering.service import AnswerService
from assistant.answering.verify import novel_overlap, overlap, split_answer

SEED_DOC = "d4d6082e06082f5e"


@pytest.fixture(scope="module")
def seed(seed_assistant):
    hits = seed_assistant.retrieve("Chi è il Segretario generale della NATO e cosa ha detto Lavrov?", top_k=12)
    sources = number_sources(hits)
    by_index = {s.hit.sentence.index: s.n for s in sources}
    return seed_assistant, sources, by_index


@pytest.fixture(scope="module")
def service(seed):
    helper, _, _ = seed
    return AnswerService(helper.settings, helper.retriever, lambda: None, helper.verifier)


def _finish(service, raw: dict, sources, language="it", question="Chi guida la NATO e cosa ha detto Lavrov?"):
    words = wording(service.settings.prompts_dir, language)
    base = dict(question=question, language=language, filters={}, backend="test", retrieved=[])
    return service._finish(json.dumps(raw, ensure_ascii=False), sources, words, base, context_tokens=10)


def test_split_answer_and_overlap():
    assert split_answer("Mark Rutte è il segretario. Lavrov ha detto no.", "it") == [
        "Mark Rutte è il segretario.", "Lavrov ha detto no."]
    assert split_answer("  ", "it") == []
    source = "A dichiararlo è stato il Segretario generale della NATO, Mark Rutte, intervenendo alla Verkhovna Rada."
    assert overlap("Il segretario generale della NATO è Mark Rutte.", source) == 1.0
    assert overlap("Il prezzo del gas è salito del dieci per cento.", source) == 0.0
    # Stems match across inflections: "dichiarato" / "dichiararlo" share the Italian stem.
    assert overlap("Rutte ha dichiarato", source) == 1.0
    # Only the words the answer adds to the question count as its "new" words.
    assert novel_overlap("Il segretario della NATO è Mark Rutte.", source, "Chi è il segretario della NATO?") == 1.0
    assert novel_overlap("Il segretario della NATO è Jens Stoltenberg.", source,
                         "Chi è il segretario della NATO?") == 0.0
    assert novel_overlap("Il segretario della NATO.", source, "Chi è il segretario della NATO?") is None


@pytest.mark.slow
def test_supporting_source_passes_and_unrelated_one_does_not(seed):
    helper, sources, by_index = seed
    verifier = helper.verifier
    scores = verifier.supports("Il Segretario generale della NATO è Mark Rutte.", sources,
                               "Chi è il Segretario generale della NATO?")
    assert verifier.passes(scores[by_index[1]])  # "A dichiararlo è stato il Segretario generale della NATO, Mark Rutte"
    assert not verifier.passes(scores[by_index[8]])  # Lavrov's sentence
    assert scores[by_index[1]].cosine > scores[by_index[8]].cosine


@pytest.mark.slow
def test_wrong_citation_is_rejected_and_the_supporting_sentence_aligned(seed, service):
    _, sources, by_index = seed
    answer = _finish(service, {"citations": [by_index[8]], "answer": "Il Segretario generale della NATO è Mark Rutte."},
                     sources)
    assert not answer.abstained
    assert [c.sentence_id for c in answer.citations] == [f"{SEED_DOC}-s001"]
    assert answer.rejected_citations == 1
    assert answer.sentences[0].citations == [1] and answer.sentences[0].aligned == [1]
    assert answer.answer.endswith("Mark Rutte [1].") and answer.unsupported == []


@pytest.mark.slow
def test_each_sentence_gets_its_own_markers_numbered_by_first_use(seed, service):
    _, sources, by_index = seed
    raw = {"citations": [by_index[8], by_index[1]],
           "answer": "Mark Rutte è il Segretario generale della NATO. "
                     "Lavrov ha definito inaccettabile qualsiasi garanzia di sicurezza con intervento militare straniero."}
    answer = _finish(service, raw, sources)
    assert [c.n for c in answer.citations] == [1, 2]
    assert answer.citations[0].sentence_id == f"{SEED_DOC}-s001"
    assert answer.citations[1].sentence_id == f"{SEED_DOC}-s008"
    assert [s.citations for s in answer.sentences] == [[1], [2]]
    assert "NATO [1]." in answer.answer and "straniero [2]." in answer.answer


@pytest.mark.slow
def test_unsupported_sentence_is_flagged_not_cited(seed, service):
    _, sources, by_index = seed
    raw = {"citations": [by_index[1]],
           "answer": "Mark Rutte è il Segretario generale della NATO. Il prezzo del petrolio è salito ieri."}
    answer = _finish(service, raw, sources)
    assert not answer.abstained
    assert answer.unsupported == ["Il prezzo del petrolio è salito ieri."]
    assert [s.supported for s in answer.sentences] == [True, False]
    assert len(answer.citations) == 1 and answer.answer.endswith("Il prezzo del petrolio è salito ieri.")


@pytest.mark.slow
def test_nothing_supported_means_a_decline(seed, service):
    _, sources, by_index = seed
    answer = _finish(service, {"citations": [by_index[1]], "answer": "Il campionato è stato vinto dal Napoli."},
                     sources)
    assert answer.abstained and answer.abstain_reason == "unverified" and answer.citations == []
    assert answer.answer == wording(service.settings.prompts_dir, "it")["decline"]


@pytest.mark.slow
def test_numbers_outside_the_sources_are_dropped_and_counted(seed, service):
    _, sources, by_index = seed
    answer = _finish(service, {"citations": [99, by_index[1], 0], "answer": "Mark Rutte guida la NATO."}, sources)
    assert answer.dropped_citations == 2
    assert {c.sentence_id for c in answer.citations} <= {s.hit.sentence.id for s in sources}


@pytest.mark.slow
def test_per_sentence_citations_are_checked_against_their_own_sentence(seed, service):
    _, sources, by_index = seed
    # the second sentence cites the NATO sentence, which supports only the first: rejected there,
    # and the Lavrov sentence is aligned to it instead
    raw = {"answer": [
        {"sentence": "Mark Rutte è il Segretario generale della NATO.", "sources": [by_index[1]]},
        {"sentence": "Lavrov ha definito inaccettabile qualsiasi garanzia di sicurezza con intervento "
                     "militare straniero.", "sources": [by_index[1], 99]}]}
    answer = _finish(service, raw, sources)
    assert answer.dropped_citations == 1 and answer.rejected_citations == 1
    assert [c.sentence_id for c in answer.citations] == [f"{SEED_DOC}-s001", f"{SEED_DOC}-s008"]
    assert [(s.citations, s.aligned) for s in answer.sentences] == [([1], []), ([2], [2])]


@pytest.mark.slow
def test_the_citing_setting_picks_schema_and_system_prompt(seed_assistant):
    from assistant.answering.cite import SCHEMAS
    from assistant.answering.prompting import build_messages

    sources = number_sources(seed_assistant.retrieve("Chi guida la NATO?", top_k=2))
    for citing in ("per_answer", "per_sentence"):
        system = build_messages(seed_assistant.settings.prompts_dir, "Chi guida la NATO?", "it", sources,
                                citing)[0]["content"]
        # the prompt's reply format names the fields of the schema the engine enforces
        assert all(f'"{key}"' in system for key in SCHEMAS[citing]["required"])
    assert '"sentence"' in build_messages(seed_assistant.settings.prompts_dir, "Chi guida la NATO?", "it", sources,
                                          "per_sentence")[0]["content"]


@pytest.mark.slow
def test_a_short_answer_in_another_language_is_checked_with_its_question(seed):
    helper, sources, by_index = seed
    verifier = helper.verifier
    question, answer = "When will Western forces be deployed in Ukraine?", "only after a peace deal"
    # no word of the English answer is in the Italian source ("... solo dopo la conclusione di un accordo di pace")
    alone = verifier.supports(answer, sources, question)
    across = verifier.supports(answer, sources, question, language="en")
    first, lavrov = by_index[0], by_index[8]
    assert alone[first].novel == across[first].novel == 0.0
    assert not verifier.passes(alone[first])
    assert verifier.passes(across[first]) and across[first].cosine > alone[first].cosine
    assert across[first].cosine > across[lavrov].cosine and not verifier.passes(across[lavrov])
    # an answer in the sources' own language is compared on its own
    same = verifier.supports("dopo un accordo di pace", sources, "Quando saranno dispiegate le forze?", language="it")
    assert same[first].cosine == pytest.approx(
        verifier.supports("dopo un accordo di pace", sources, "Quando saranno dispiegate le forze?")[first].cosine)
