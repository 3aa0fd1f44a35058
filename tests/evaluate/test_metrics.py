"""Evaluation metrics on hand-made cases with known values."""

from __future__ import annotations

import pytest

from assistant.evaluate.metrics import (
    METRIC_DEFINITIONS, aggregate, answer_hit_at_k, citation_correct, citation_scores, dedupe_keep_order, exact_match,
    hit_at_k, mrr_at_k, normalize_answer, percentile, summarize_latency, token_f1,
)


@pytest.mark.parametrize("text, expected", [
    ("Città  di   Perù", "citta di peru"),
    ("L'uomo è arrivato", "uomo e arrivato"),
    ("l’uomo e un’altra donna", "uomo e altra donna"),
    ("Il Presidente, la Camera e gli Stati", "presidente camera e stati"),
    ("Lo sciopero, i treni, le navi, uno o una", "sciopero treni navi o"),
    ("The President of the United States", "president of united states"),
    ("An apple a day", "apple day"),
    ("«Roma» “capitale” \"d'Italia\"!?", "roma capitale d italia"),
    ("U.S. 1,000 dollars; (approx.)", "us 1000 dollars approx"),
    ("nord-est/sud–ovest", "nord est sud ovest"),
    ("nell' ottobre dell'OPEC", "nell ottobre dell opec"),
    ("Theory, Lola, Ilva", "theory lola ilva"),
    ("", ""),
])
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_over_golds():
    assert exact_match("il 1973", ["ottobre 1973", "1973"]) == 1.0
    assert exact_match("The Città!", ["citta"]) == 1.0
    assert exact_match("ottobre", ["ottobre 1973"]) == 0.0
    assert exact_match("anything", []) == 0.0


def test_token_f1_known_values():
    # pred {ottobre, 1973, circa} vs gold {ottobre, 1973}: P=2/3, R=1 -> F1=0.8
    assert token_f1("ottobre 1973 circa", ["ottobre 1973"]) == pytest.approx(0.8)
    # best over golds: "1979" vs {"1973", "1979"}
    assert token_f1("nel 1979", ["1973", "1979"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert token_f1("The Mariah Carey", ["Mariah Carey", "Carey"]) == 1.0
    assert token_f1("Parigi", ["Roma"]) == 0.0
    # a repeated token matches once: [x, x, y] vs [x, y] -> P=2/3, R=1
    assert token_f1("x x y", ["x y"]) == pytest.approx(0.8)


def test_token_f1_empty_cases():
    assert token_f1("", ["Roma"]) == 0.0
    assert token_f1("il", ["Roma"]) == 0.0  # normalises to empty
    assert token_f1("Roma", []) == 0.0
    assert token_f1("", ["the"]) == 1.0  # both empty after normalisation


def test_hit_at_k_boundaries():
    ranked = ["a", "b", "g", "c"]
    assert hit_at_k(ranked, {"g"}, 2) == 0.0
    assert hit_at_k(ranked, {"g"}, 3) == 1.0
    assert hit_at_k(ranked, {"g"}, 10) == 1.0
    assert hit_at_k(ranked, {"z"}, 10) == 0.0
    assert hit_at_k([], {"g"}, 1) == 0.0
    assert hit_at_k(ranked, set(), 5) == 0.0
    with pytest.raises(ValueError):
        hit_at_k(ranked, {"g"}, 0)


def test_mrr_at_k():
    assert mrr_at_k(["a", "b", "g"], {"g"}) == pytest.approx(1 / 3)
    assert mrr_at_k(["g", "b"], {"g", "b"}) == 1.0
    assert mrr_at_k(["a", "b", "g"], {"g"}, k=2) == 0.0
    assert mrr_at_k(["a", "b"], {"g"}) == 0.0


def test_duplicates_do_not_take_ranks():
    docs = ["d1", "d1", "d2", "d1", "d3"]
    assert dedupe_keep_order(docs) == ["d1", "d2", "d3"]
    assert mrr_at_k(docs, {"d3"}) == pytest.approx(1 / 3)
    assert hit_at_k(docs, {"d2"}, 2) == 1.0
    assert hit_at_k(docs, {"d3"}, 2) == 0.0


SENT = "La crisi petrolifera del 1973 iniziò nell' ottobre 1973 quando i membri dell' OPEC proclamarono un embargo."


def test_citation_correct_by_answer_substring():
    assert citation_correct(SENT, "x-s001", ["Ottobre 1973"], [], set())
    assert citation_correct(SENT, None, ["l'OPEC"], [], set())  # article dropped on both sides
    assert not citation_correct(SENT, None, ["197"], [], set())  # token boundaries, not characters
    assert not citation_correct("Parigi è la capitale.", None, ["Roma"], [], set())


def test_answer_hit_at_k_reads_only_the_first_k_texts():
    texts = ["Parigi è la capitale.", "Nulla.", SENT]
    assert answer_hit_at_k(texts, ["Ottobre 1973"], 3) == 1.0
    assert answer_hit_at_k(texts, ["Ottobre 1973"], 2) == 0.0  # third text, beyond k
    assert answer_hit_at_k(texts, ["Roma", "l'OPEC"], 5) == 1.0  # any gold answer counts
    assert answer_hit_at_k(texts, ["197"], 3) == 0.0  # token boundaries, not characters
    assert answer_hit_at_k(texts, ["", "the"], 3) == 0.0  # nothing left after normalisation
    assert answer_hit_at_k([], ["Roma"], 5) == 0.0


def test_citation_correct_by_gold_sentence():
    gold = ["Il governo ha approvato la legge.", SENT]
    assert citation_correct("Altro testo.", "d1-s003", ["Roma"], gold, {"d1-s003"})
    # ids known on both sides and different: text equality is not consulted
    assert not citation_correct(gold[0], "d1-s004", ["Roma"], gold, {"d1-s003"})
    # ids unknown: equality or containment of normalised texts
    assert citation_correct("il governo ha approvato la legge", None, ["Roma"], gold, {"d1-s003"})
    assert citation_correct(gold[0], "d1-s004", ["Roma"], gold, set())
    assert citation_correct("I membri dell'OPEC proclamarono un embargo", None, ["Roma"], gold, set())
    assert citation_correct(gold[0] + " Poi è partito.", None, ["Roma"], gold, set())
    assert not citation_correct("", None, ["Roma"], gold, set())


def test_citation_scores():
    citations = [{"text": SENT, "sentence_id": "a"}, {"text": "Nulla.", "sentence_id": "b"},
                 {"text": "Altro.", "sentence_id": "g"}]
    scores = citation_scores(citations, ["ottobre 1973"], [], {"g"})
    assert scores == {"n_citations": 3, "n_correct": 2, "precision": pytest.approx(2 / 3), "any_correct": True}
    assert citation_scores([], ["x"], [], set()) == {"n_citations": 0, "n_correct": 0, "precision": None,
                                                     "any_correct": False}


def test_percentile_linear_interpolation():
    assert percentile([], 50) is None
    assert percentile([7], 95) == 7
    assert percentile([3, 1, 2, 4], 50) == pytest.approx(2.5)
    assert percentile(range(1, 11), 95) == pytest.approx(9.55)
    assert percentile([10, 20], 0) == 10 and percentile([10, 20], 100) == 20
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_summarize_latency():
    summary = summarize_latency([{"retrieval": 1.0, "total": 2.0}, {"retrieval": 3.0, "total": 4.0},
                                 {"total": 6.0}, None])
    assert summary["retrieval"] == {"p50": 2.0, "p95": pytest.approx(2.9), "mean": 2.0}
    assert summary["total"]["p50"] == 4.0 and summary["total"]["mean"] == pytest.approx(4.0)


RECORDS = [
    {"em": 1.0, "f1": 1.0, "hit@1": 1.0, "mrr@10": 1.0, "citation_precision": 1.0, "n_citations": 1,
     "n_correct_citations": 1, "any_correct_citation": True, "abstained": False, "answerable": True,
     "context_tokens": 100, "timings": {"total": 1.0}},
    {"em": 0.0, "f1": 0.5, "hit@1": 0.0, "mrr@10": 1 / 3, "citation_precision": 0.25, "n_citations": 4,
     "n_correct_citations": 1, "any_correct_citation": True, "abstained": True, "answerable": True,
     "context_tokens": 300, "timings": {"total": 3.0, "generation": 2.0}},
    {"em": 0.0, "f1": None, "citation_precision": None, "n_citations": 0, "n_correct_citations": 0,
     "any_correct_citation": False, "abstained": True, "answerable": False, "context_tokens": 200,
     "timings": {"total": 5.0}},
]


def test_aggregate_known_means():
    agg = aggregate(RECORDS)
    assert agg["n_questions"] == 3
    assert agg["em"] == pytest.approx(1 / 3)
    assert agg["f1"] == pytest.approx(0.75)  # None skipped
    assert agg["hit@1"] == pytest.approx(0.5)  # absent skipped
    assert agg["mrr@10"] == pytest.approx(2 / 3)
    assert agg["hit@5"] is None and agg["doc_mrr@10"] is None
    assert agg["citation_precision"] == pytest.approx(2 / 5)  # micro: (1+1+0) / (1+4+0)
    assert agg["citation_precision_macro"] == pytest.approx(0.625)  # macro: (1 + 0.25) / 2
    assert agg["any_correct_citation"] == pytest.approx(2 / 3)
    assert agg["abstention_rate"] == pytest.approx(2 / 3)
    assert agg["abstention_rate_answerable"] == pytest.approx(0.5)
    assert agg["abstention_rate_unanswerable"] == 1.0
    assert agg["context_tokens_p50"] == 200 and agg["context_tokens"] == pytest.approx(200)
    assert agg["latency"]["total"] == {"p50": 3.0, "p95": pytest.approx(4.8), "mean": pytest.approx(3.0)}
    assert agg["latency"]["generation"]["p50"] == 2.0


def test_aggregate_empty_and_flat_names():
    agg = aggregate([])
    assert agg["n_questions"] == 0 and agg["em"] is None and agg["citation_precision"] is None
    assert agg["latency"] == {}
    assert all(isinstance(k, str) and " " not in k and "." not in k for k in agg)


def test_every_metric_is_defined():
    assert set(aggregate(RECORDS)) <= set(METRIC_DEFINITIONS)
    assert all(text.strip().endswith(".") for text in METRIC_DEFINITIONS.values())


def test_a_conflict_counts_as_flagged_only_with_both_values_cited():
    from assistant.evaluate.metrics import conflict_flagged

    sides = [{"value": "14 ottobre 2025", "citations": [2]}, {"value": "12 ottobre", "citations": [1]}]
    assert conflict_flagged(sides, ["12 ottobre"], ["14 ottobre 2025"])
    assert conflict_flagged(sides, ["12 ottobre 2025"], ["14 ottobre"])  # either value may hold the other
    assert not conflict_flagged(sides[:1], ["12 ottobre"], ["14 ottobre 2025"])  # one side only
    assert not conflict_flagged([dict(sides[0]), dict(sides[1], citations=[])], ["12 ottobre"], ["14 ottobre 2025"])
    assert not conflict_flagged(sides, ["3 maggio"], ["14 ottobre 2025"])  # not the question's value


def test_conflict_rates_are_aggregated_over_their_own_questions():
    from assistant.evaluate.metrics import aggregate

    records = [{"conflict_flagged": 1.0}, {"conflict_flagged": 0.0}, {"conflict_flagged": 1.0},
               {"false_conflict": 0.0}, {"false_conflict": 1.0}, {"false_conflict": 0.0}, {"false_conflict": 0.0}]
    metrics = aggregate(records)
    assert metrics["conflict_flag_rate"] == pytest.approx(2 / 3)
    assert metrics["false_conflict_rate"] == pytest.approx(1 / 4)
    assert aggregate([{"f1": 1.0}])["conflict_flag_rate"] is None


def test_an_updated_answer_is_scored_by_the_value_read_first():
    from assistant.evaluate.metrics import latest_first, states_only

    assert latest_first("Il bilancio è di 135 morti. Un dispaccio precedente riportava 120.", ["135"], ["120"])
    assert not latest_first("Il bilancio è di 120 morti. Il dispaccio più recente riporta 135.", ["135"], ["120"])
    assert not latest_first("Il bilancio è salito.", ["135"], ["120"])
    assert latest_first("Nel 2012, non nel 12.", ["2012"], ["1879"])
    assert states_only("Il bilancio è di 120 morti.", ["120"], ["135"])
    assert not states_only("Da 120 a 135 morti.", ["120"], ["135"]) and not states_only("Salito.", ["120"], ["135"])


def test_question_check_scores_count_removed_citations_and_the_wrong_ones():
    from assistant.evaluate.metrics import question_check_scores

    texts = ["Il ponte aprì nel 1932.", "Il ponte è lungo 300 metri.", "Lo disse il sindaco."]
    ids = ["a:0", "a:1", "a:2"]
    checks = [{"supported": [1, 2], "shown": [1]}, {"supported": [3], "shown": []}, {"supported": [1]}]
    assert question_check_scores(checks, texts, ids, ["1932"], set()) == {"dropped": 2, "dropped_wrong": 2}
    assert question_check_scores([{"supported": [1], "shown": []}], texts, ids, ["1932"], set()) == {
        "dropped": 1, "dropped_wrong": 0}
    result = aggregate([{"n_question_dropped": 2, "n_question_dropped_wrong": 1, "declined_irrelevant": 0.0},
                        {"n_question_dropped": 2, "n_question_dropped_wrong": 2, "declined_irrelevant": 1.0}])
    assert result["question_check_precision"] == 0.75 and result["irrelevant_decline_rate"] == 0.5
    assert aggregate([{"n_question_dropped": 0}])["question_check_precision"] is None
