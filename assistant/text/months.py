"""Month names in Italian and English: one table for datelines, relative dates
in questions and the date words a sentence may hold."""

from __future__ import annotations

MONTHS = {
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
           "ottobre", "novembre", "dicembre"],
    "en": ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"],
}
#: the short forms datelines use ("3 feb 2020", "6 nov.", "16 sept 2025")
ABBREVIATIONS = {
    "it": ["gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"],
    "en": ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
}
_MORE = {"sett": 9, "sept": 9}


def month_numbers() -> dict[str, int]:
    """Every full and short month name (lower case) -> its number, 1 to 12."""
    numbers: dict[str, int] = {}
    for table in (MONTHS, ABBREVIATIONS):
        for names in table.values():
            for i, name in enumerate(names, 1):
                numbers.setdefault(name, i)
    return {**numbers, **_MORE}
