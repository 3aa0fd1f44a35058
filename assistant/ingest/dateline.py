"""Datelines: "(AGENPARL) - Roma, 3 Febbraio 2026Le forze ..." -> agency, place,
date and body. Handles the agency-first, place-first, place-only and English
date variants seen in Italian agency dispatches."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from assistant.text.months import month_numbers

MONTHS = month_numbers()  # full and short names -> 1..12
_WEEKDAYS = (
    r"lun(?:edì|edi)?|mar(?:tedì|tedi)?|mer(?:coledì|coledi)?|gio(?:vedì|vedi)?|"
    r"ven(?:erdì|erdi)?|sab(?:ato)?|dom(?:enica)?|"
    r"mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
)
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DASH = r"[-–—]"
# "gio 16 giugno 2022", "3 Febbraio 2026", "23 feb 2020", "6 nov.", "Tue 16 September 2025"
_DATE = (
    rf"(?:(?:{_WEEKDAYS})\.?,?\s+)?(?P<day>\d{{1,2}})\s+(?P<month>{_MONTH})\.?"
    rf"(?:,?\s+(?P<year>\d{{4}})(?!\d))?"
)
_AGENCY = r"\((?P<agency>[A-Za-z][A-Za-z0-9 .&'/-]{1,30})\)"
_PLACE = r"(?P<place>[A-ZÀ-Ýa-zà-ÿ][\wÀ-ÿ' .]*?(?:\s*\([A-ZÀ-Ý][\wÀ-ÿ' .]*\))?)"

_PATTERNS = [
    # (AGENPARL) - Roma, 3 Febbraio 2026Le ... | (ASCA) – Roma, 1 aprile 2014 – ... | (AGENPARL) – gio 16 giugno 2022 ...
    re.compile(rf"^\s*{_AGENCY}\s*{_DASH}\s*(?:{_PLACE},\s*)?{_DATE}\s*(?:{_DASH}\s*)?", re.I),
    # Roma, 6 nov. (Adnkronos) – ...
    re.compile(rf"^\s*{_PLACE},\s*{_DATE}\s*{_AGENCY}\s*{_DASH}\s*", re.I),
    # STRASBURGO (FRANCIA) (ITALPRESS) – ...
    re.compile(rf"^\s*{_PLACE}\s*{_AGENCY}\s*{_DASH}\s*"),
    # (AGENPARL) – Roma – ... (agency and place, no date)
    re.compile(rf"^\s*{_AGENCY}\s*{_DASH}\s*(?:{_PLACE}\s*{_DASH}\s*)?"),
    # CARPI. I ladri ... (local papers: an upper-case place and a full stop)
    re.compile(r"^\s*(?P<place>[A-ZÀ-Ý][A-ZÀ-Ý' ]{2,40}[A-ZÀ-Ý])\.\s+(?=[A-ZÀ-Ý\"“«])"),
]

_HEAD_CHARS = 400


@dataclass(frozen=True)
class Dateline:
    """What a dateline says, and the body that follows it."""

    agency: str | None
    place: str | None
    published_at: date | None
    body: str
    matched: bool


def parse_dateline(text: str, reference: date | None = None) -> Dateline:
    """Split a dispatch into dateline fields and body.

    A date without a year ("6 nov.") takes the latest such date not after
    ``reference`` (today by default). Text without a recognisable dateline is
    returned whole as the body with ``matched=False``.
    """
    head = text[:_HEAD_CHARS]  # datelines are short; bounds regex work on huge lines
    for pattern in _PATTERNS:
        m = pattern.match(head)
        if not m:
            continue
        groups = m.groupdict()
        body = text[m.end():]
        if not body.strip():
            # the whole text is a dateline: report it as one with an empty body
            return Dateline(groups.get("agency"), _clean_place(groups.get("place")), None, "", True)
        place = _clean_place(groups.get("place"))
        when = _to_date(groups, reference) if groups.get("day") else None
        if groups.get("day") and when is None:
            continue  # "31 feb": not a date, try the next shape
        return Dateline(groups.get("agency"), place, when, body.lstrip(" –—-"), True)
    return Dateline(None, None, None, text, False)


def parse_date_words(text: str, reference: date | None = None) -> date | None:
    """Parse a free-standing date such as "SALVADOR, Feb 26" or "3 febbraio 2026"."""
    m = re.search(_DATE, text, re.I)
    if not m:
        m = re.search(rf"(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:,?\s+(?P<year>\d{{4}}))?", text, re.I)
    return _to_date(m.groupdict(), reference) if m else None


def _clean_place(place: str | None) -> str | None:
    if not place:
        return None
    place = place.strip(" .,")
    if not place or place[0].isdigit():
        return None
    return place.title() if place.isupper() else place


def _to_date(groups: dict, reference: date | None) -> date | None:
    month = MONTHS.get(groups["month"].lower().rstrip("."))
    day = int(groups["day"])
    if month is None:
        return None
    reference = reference or date.today()
    year = int(groups["year"]) if groups.get("year") else reference.year
    try:
        when = date(year, month, day)
    except ValueError:
        return None
    if not groups.get("year") and when > reference:
        try:
            when = date(year - 1, month, day)
        except ValueError:
            return None
    return when
