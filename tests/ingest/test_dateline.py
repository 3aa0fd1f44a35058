from datetime import date

import pytest

from assistant.ingest.dateline import parse_date_words, parse_dateline

REF = date(2026, 11, 25)


@pytest.mark.parametrize("text, agency, place, when, body_start", [
    ("(AGENPARL) - Roma, 3 Febbraio 2026Le forze armate", "AGENPARL", "Roma", date(2026, 2, 3), "Le forze"),
    ("(AGENPARL) – Roma, 23 feb 2020 – Il ministro ha detto", "AGENPARL", "Roma", date(2020, 2, 23), "Il ministro"),
    ("(AGENPARL) – gio 16 giugno 2022 Il comunicato", "AGENPARL", None, date(2022, 6, 16), "Il comunicato"),
    ("(AGENPARL) – Tue 16 September 2025 Comunicato Stampa", "AGENPARL", None, date(2025, 9, 16), "Comunicato"),
    ("Roma, 6 nov. (Adnkronos) – Il governo", "Adnkronos", "Roma", date(2026, 11, 6), "Il governo"),
    ("Roma, 16 lug. (askanews) – Il", "askanews", "Roma", date(2026, 7, 16), "Il"),
    ("STRASBURGO (FRANCIA) (ITALPRESS) – Il Parlamento", "ITALPRESS", "Strasburgo (Francia)", None, "Il Parl"),
    ("(ASCA) – Roma, 1 aprile 2014 – Il", "ASCA", "Roma", date(2014, 4, 1), "Il"),
    ("CARPI. Ieri sera, mercoledì 10 marzo", None, "Carpi", None, "Ieri sera"),
])
def test_dateline_variants(text, agency, place, when, body_start):
    line = parse_dateline(text, reference=REF)
    assert line.matched
    assert (line.agency, line.place, line.published_at) == (agency, place, when)
    assert line.body.startswith(body_start)


def test_year_less_date_is_never_in_the_future():
    line = parse_dateline("Roma, 20 dic. (Adnkronos) – Testo", reference=REF)
    assert line.published_at == date(2025, 12, 20)


def test_no_dateline_keeps_the_whole_text():
    text = "Il governo ha deciso. Roma, 3 marzo."
    line = parse_dateline(text, reference=REF)
    assert not line.matched and line.body == text and line.agency is None


def test_impossible_date_is_not_taken():
    line = parse_dateline("(AGENPARL) – Roma, 31 feb 2020 – Testo", reference=REF)
    assert line.published_at is None


def test_reuters_style_dateline_words():
    assert parse_date_words("SALVADOR, Feb 26", reference=date(1987, 3, 1)) == date(1987, 2, 26)
