"""Relative dates in questions, in Italian and English, against a fixed reference day;
then on the ask path over the small corpus (which stops before the model)."""

from datetime import date

import pytest

from assistant.core import Assistant
from assistant.domain import Filters
from assistant.retrieval.dates import relative_date_filter, with_relative_dates
from assistant.settings import RetrievalSettings
from tests.conftest import make_settings
from tests.retrieval.conftest import RECORDS, write_jsonl

REF = date(2025, 3, 12)  # a Wednesday
D = date


@pytest.mark.parametrize("question, since, until, phrase", [
    ("Cosa è successo ieri a Roma?", D(2025, 3, 11), D(2025, 3, 11), "ieri"),
    ("Notizie di oggi sul governo", REF, REF, "oggi"),
    ("Che cosa è accaduto l'altro ieri?", D(2025, 3, 10), D(2025, 3, 10), "l'altro ieri"),
    ("Cosa ha detto la BCE la settimana scorsa?", D(2025, 3, 3), D(2025, 3, 9), "la settimana scorsa"),
    ("Chi ha parlato questa settimana?", D(2025, 3, 10), REF, "questa settimana"),
    ("Quanto è salita l'inflazione il mese scorso?", D(2025, 2, 1), D(2025, 2, 28), "il mese scorso"),
    ("Cosa è successo a febbraio?", D(2025, 2, 1), D(2025, 2, 28), "a febbraio"),
    ("Cosa è successo lo scorso marzo?", D(2024, 3, 1), D(2024, 3, 31), "lo scorso marzo"),
    ("Cosa è successo a maggio?", D(2024, 5, 1), D(2024, 5, 31), "a maggio"),  # the latest May before March
    ("Chi governava nel 2024?", D(2024, 1, 1), D(2024, 12, 31), "nel 2024"),
    ("Cosa disse Draghi il 3 febbraio?", D(2025, 2, 3), D(2025, 2, 3), "il 3 febbraio"),
    ("Cosa è successo il 15 dicembre 2023?", D(2023, 12, 15), D(2023, 12, 15), "il 15 dicembre 2023"),
    ("Che cosa è successo negli ultimi 3 giorni?", D(2025, 3, 10), REF, "negli ultimi 3 giorni"),
    ("Cosa è successo due giorni fa?", D(2025, 3, 10), D(2025, 3, 10), "due giorni fa"),
    ("Quante nascite quest'anno?", D(2025, 1, 1), REF, "quest'anno"),
    ("Cosa accadde l’anno scorso?", D(2024, 1, 1), D(2024, 12, 31), "l’anno scorso"),
    ("Gli scioperi di gennaio 2025", D(2025, 1, 1), D(2025, 1, 31), "di gennaio 2025"),
])
def test_italian_phrases(question, since, until, phrase):
    assert relative_date_filter(question, "it", REF) == (since, until, phrase)


@pytest.mark.parametrize("question, since, until, phrase", [
    ("What happened yesterday in Rome?", D(2025, 3, 11), D(2025, 3, 11), "yesterday"),
    ("What is the news today?", REF, REF, "today"),
    ("What did the ECB say last week?", D(2025, 3, 3), D(2025, 3, 9), "last week"),
    ("How much did prices rise last month?", D(2025, 2, 1), D(2025, 2, 28), "last month"),
    ("What happened in February?", D(2025, 2, 1), D(2025, 2, 28), "in February"),
    ("What happened last March?", D(2024, 3, 1), D(2024, 3, 31), "last March"),
    ("Who won the election in 2024?", D(2024, 1, 1), D(2024, 12, 31), "in 2024"),
    ("What did he say on March 3?", D(2025, 3, 3), D(2025, 3, 3), "on March 3"),
    ("What did the minister say in May 2024?", D(2024, 5, 1), D(2024, 5, 31), "in May 2024"),
    ("What happened over the past 10 days?", D(2025, 3, 3), REF, "over the past 10 days"),
    ("What happened 3 days ago?", D(2025, 3, 9), D(2025, 3, 9), "3 days ago"),
    ("What was decided this year?", D(2025, 1, 1), REF, "this year"),
])
def test_english_phrases(question, since, until, phrase):
    assert relative_date_filter(question, "en", REF) == (since, until, phrase)


@pytest.mark.parametrize("question, language", [
    ("Quando è iniziata la crisi petrolifera del 1973?", "it"),  # an event's name, not a period of publication
    ("Quanti morti si contano ad oggi?", "it"),  # "up to today"
    ("Chi ha risolto questa crisi?", "it"),
    ("This may be the largest deal ever?", "en"),  # 'may' the verb
    ("Who is the Secretary General of NATO?", "en"),
    ("Quale attacco ha colpito Kiev?", "it"),
])
def test_questions_without_a_period(question, language):
    assert relative_date_filter(question, language, REF) is None


def test_month_of_the_reference_counts_as_this_month_unless_said_last():
    assert relative_date_filter("Cosa succede a marzo?", "it", REF)[:2] == (D(2025, 3, 1), D(2025, 3, 31))
    assert relative_date_filter("E a marzo scorso?", "it", REF)[:2] == (D(2024, 3, 1), D(2024, 3, 31))


def test_year_boundaries():
    new_year = D(2025, 1, 2)
    assert relative_date_filter("il mese scorso", "it", new_year)[:2] == (D(2024, 12, 1), D(2024, 12, 31))
    assert relative_date_filter("last week", "en", new_year)[:2] == (D(2024, 12, 23), D(2024, 12, 29))
    assert relative_date_filter("a dicembre", "it", new_year)[:2] == (D(2024, 12, 1), D(2024, 12, 31))
    # leap year February
    assert relative_date_filter("in February", "en", D(2024, 3, 5))[:2] == (D(2024, 2, 1), D(2024, 2, 29))


def test_language_mismatch_still_finds_the_phrase():
    assert relative_date_filter("Cosa è successo yesterday?", "it", REF)[:2] == (D(2025, 3, 11),) * 2
    assert relative_date_filter("What happened ieri?", "en", REF)[:2] == (D(2025, 3, 11),) * 2


def test_earliest_phrase_wins():
    assert relative_date_filter("Cosa è successo ieri rispetto al mese scorso?", "it", REF)[2] == "ieri"


def test_explicit_dates_win_and_other_filters_are_kept():
    explicit = Filters(since=D(2020, 1, 1), sources=["ANSA"])
    assert with_relative_dates("Cosa è successo ieri?", "it", explicit, REF) == (explicit, None)
    merged, phrase = with_relative_dates("Cosa è successo ieri?", "it", Filters(sources=["ANSA"], languages=["it"]), REF)
    assert phrase == "ieri"
    assert merged == Filters(since=D(2025, 3, 11), until=D(2025, 3, 11), sources=["ANSA"], languages=["it"])
    unchanged = Filters(languages=["en"])
    assert with_relative_dates("Who is NATO's chief?", "en", unchanged, REF) == (unchanged, None)


# --- on the ask path (stops before the model) --------------------------------------------
@pytest.mark.slow
def test_relative_date_becomes_the_filter_and_is_reported(helper):
    answer = helper.ask("Cosa è successo al porto ieri?", reference_date=date(2025, 3, 12))
    assert answer.date_phrase == "ieri"
    assert (answer.filters.since, answer.filters.until) == (date(2025, 3, 11), date(2025, 3, 11))
    retrieved = helper.catalog.sentences(r["sentence_id"] for r in answer.retrieved)
    assert retrieved and {s.doc_id for s in retrieved.values()} == {"port"}
    assert answer.abstained and answer.backend == ""  # no model call in this test


@pytest.mark.slow
def test_explicit_dates_win_over_the_question(helper):
    explicit = Filters(since=date(2025, 2, 1), until=date(2025, 2, 28))
    answer = helper.ask("What happened last week?", filters=explicit, reference_date=date(2025, 3, 12))
    assert answer.date_phrase is None and answer.filters == explicit
    retrieved = helper.catalog.sentences(r["sentence_id"] for r in answer.retrieved)
    assert {s.doc_id for s in retrieved.values()} == {"grano"}


@pytest.mark.slow
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


@pytest.mark.slow
def test_relative_dates_ignored_when_no_dispatch_is_dated(tmp_path):
    path = tmp_path / "undated.jsonl"
    write_jsonl(path, [RECORDS[-1]])
    undated = Assistant(make_settings(tmp_path / "home", retrieval=RetrievalSettings(min_top_cosine={"default": 1.01})))
    undated.ingest([path], progress=False)
    answer = undated.ask("Cosa ha deciso la BCE ieri sui tassi?", reference_date=date(2025, 3, 12))
    assert answer.date_phrase is None and answer.filters == Filters()
    assert answer.retrieved  # the undated dispatch is still found
