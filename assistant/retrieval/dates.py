"""Relative dates in questions ("ieri", "la settimana scorsa", "in February",
"nel 2024", ...) turned into a date range relative to a reference day.

Pure functions: no clock is read here; the caller passes the reference date."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, timedelta

from assistant.domain import Filters
from assistant.text.months import MONTHS
from assistant.text.words import fold

DateRange = tuple[date, date, str]  # since, until (inclusive), the phrase that was matched

_NUMBERS = {
    "un": 1, "uno": 1, "una": 1, "due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7, "otto": 8,
    "nove": 9, "dieci": 10, "quindici": 15, "venti": 20, "trenta": 30,
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30,
}
_NUM = r"(?P<n>\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
_YEAR = r"(?P<year>(?:19|20)\d\d)"


def _month_re(language: str) -> str:
    names = MONTHS[language]
    if language == "en":
        names = names + [m[:3] for m in names if m != "may"] + ["sept"]
    return r"(?P<month>" + "|".join(sorted(names, key=len, reverse=True)) + r")\.?"


def _month_number(name: str) -> int:
    name = name.rstrip(".")
    for months in MONTHS.values():
        for i, full in enumerate(months, 1):
            if name == full or (len(name) >= 3 and full.startswith(name)):
                return i
    raise ValueError(name)


def _year(match: re.Match) -> int | None:
    year = match.groupdict().get("year")
    return int(year) if year else None


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBERS[text]


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _week(ref: date, weeks_back: int) -> tuple[date, date]:
    monday = ref - timedelta(days=ref.weekday()) - timedelta(weeks=weeks_back)
    return monday, monday + timedelta(days=6)


def _named_month(ref: date, month: int, year: int | None, strictly_past: bool) -> tuple[date, date]:
    """A month by name: the given year, else the latest such month not after
    the reference (strictly before its month for "lo scorso marzo" / "last March")."""
    if year is None:
        year = ref.year if month < ref.month or (month == ref.month and not strictly_past) else ref.year - 1
    return _month_range(year, month)


def _day(ref: date, day: int, month: int, year: int | None) -> tuple[date, date] | None:
    if year is None:
        year = ref.year if (month, day) <= (ref.month, ref.day) else ref.year - 1
    try:
        when = date(year, month, day)
    except ValueError:
        return None
    return when, when


Rule = tuple[re.Pattern, Callable[[re.Match, date], tuple[date, date] | None]]


def _rules(language: str) -> list[Rule]:
    month = _month_re(language)
    ago = lambda unit: lambda m, r: _ago(r, _number(m["n"]), unit)  # noqa: E731
    last = lambda unit: lambda m, r: _last(r, _number(m["n"]), unit)  # noqa: E731
    this_month = lambda m, r: (r.replace(day=1), r)  # noqa: E731
    last_month = lambda m, r: _month_range(*_shift_month(r.year, r.month, -1))  # noqa: E731
    this_year = lambda m, r: (date(r.year, 1, 1), r)  # noqa: E731
    last_year = lambda m, r: (date(r.year - 1, 1, 1), date(r.year - 1, 12, 31))  # noqa: E731
    year = lambda m, r: (date(int(m["year"]), 1, 1), date(int(m["year"]), 12, 31))  # noqa: E731
    day = lambda m, r: _day(r, int(m["day"]), _month_number(m["month"]), _year(m))  # noqa: E731
    month_of = lambda past: lambda m, r: _named_month(  # noqa: E731
        r, _month_number(m["month"]), _year(m), past)
    if language == "it":
        table = [
            (r"(?:l'|l )?altro ?ieri|avantieri", lambda m, r: (r - timedelta(2),) * 2),
            (r"(?<!ad )(?<!a )(?<!fino )oggi|stamattina|stamani|stasera|in giornata", lambda m, r: (r, r)),
            (r"ieri", lambda m, r: (r - timedelta(1),) * 2),
            (_NUM + r" giorni fa", ago("days")),
            (_NUM + r" settimane fa", ago("weeks")),
            (r"(?:negli |nelle )?ultim[ie] " + _NUM + r" giorni", last("days")),
            (r"(?:negli |nelle )?ultim[ie] " + _NUM + r" settimane", last("weeks")),
            (r"(?:nell'|nell )?ultima settimana|(?:negli |nei )?ultimi sette giorni", lambda m, r: _last(r, 7, "days")),
            (r"(?:la |nella )?settimana (?:scorsa|passata)|(?:la |nella )?scorsa settimana", lambda m, r: _week(r, 1)),
            (r"questa settimana|in settimana|nella settimana in corso", lambda m, r: (_week(r, 0)[0], r)),
            (r"(?:il |nel |lo )?(?:mese scorso|mese passato|scorso mese)", last_month),
            (r"(?:questo mese|nel mese in corso)", this_month),
            (r"(?:l'|nell'|l |nell )?(?:anno scorso|anno passato)|(?:lo |nello )?scorso anno", last_year),
            (r"(?:quest'|quest )anno|nell'anno in corso", this_year),
            (r"(?:il |l'|l |dal |del |al )?(?P<day>[0-3]?\d)(?:°|º)? " + month + r"(?: " + _YEAR + r")?", day),
            (r"(?:lo |nello |nel )?scorso " + month, month_of(True)),
            (r"(?:(?:a|ad|in|di|nel mese di) )?" + month + r" scorso", month_of(True)),
            (r"(?:a|ad|in|di|nel mese di|a inizio|a fine) " + month
             + r"(?: (?:del |dello )?" + _YEAR + r")?", month_of(False)),
            (month + r" " + _YEAR, month_of(False)),
            (r"(?:nel|durante il|nell'anno) " + _YEAR, year),
        ]
    else:
        table = [
            (r"(?:the )?day before yesterday", lambda m, r: (r - timedelta(2),) * 2),
            (r"(?<!to )(?<!until )today|this morning|tonight|this evening", lambda m, r: (r, r)),
            (r"yesterday", lambda m, r: (r - timedelta(1),) * 2),
            (_NUM + r" days? ago", ago("days")),
            (_NUM + r" weeks? ago", ago("weeks")),
            (r"(?:in |over |during )?the (?:last|past) " + _NUM + r" days", last("days")),
            (r"(?:in |over |during )?the (?:last|past) " + _NUM + r" weeks", last("weeks")),
            (r"(?:in |over |during )?the (?:past|last) week", lambda m, r: _last(r, 7, "days")),
            (r"last week|the week before", lambda m, r: _week(r, 1)),
            (r"this week", lambda m, r: (_week(r, 0)[0], r)),
            (r"last month|the previous month|(?:in |over |during )?the (?:past|last) month", last_month),
            (r"this month", this_month),
            (r"last year|the previous year", last_year),
            (r"this year", this_year),
            (r"(?:on )?" + month + r" (?P<day>[0-3]?\d)(?:st|nd|rd|th)?(?:,? " + _YEAR + r")?", day),
            (r"(?:on )?(?:the )?(?P<day>[0-3]?\d)(?:st|nd|rd|th)? (?:of )?" + month + r"(?:,? " + _YEAR + r")?", day),
            (r"last " + month, month_of(True)),
            (r"(?:in|during|of|early|late|mid) " + month + r"(?:,? " + _YEAR + r")?", month_of(False)),
            (month + r",? " + _YEAR, month_of(False)),
            (r"(?:in|during) " + _YEAR, year),
        ]
    return [(re.compile(r"(?<!\w)(?:" + p + r")(?!\w)"), f) for p, f in table]


def _ago(ref: date, n: int, unit: str) -> tuple[date, date]:
    when = ref - (timedelta(days=n) if unit == "days" else timedelta(weeks=n))
    return when, when


def _last(ref: date, n: int, unit: str) -> tuple[date, date]:
    days = n if unit == "days" else 7 * n
    return ref - timedelta(days=days - 1), ref


_COMPILED: dict[str, list[Rule]] = {}


def relative_date_filter(question: str, language: str, reference: date) -> DateRange | None:
    """The date range a question refers to, relative to ``reference``:
    ``(since, until, matched_phrase)`` or None when it names no period.

    Rules of the question's language are tried first, then the other
    language's; the earliest phrase in the question wins."""
    text = fold(question).replace("\u2019", "'")
    same_length = len(text) == len(question)
    order = [language, *(lang for lang in MONTHS if lang != language)] if language in MONTHS else list(MONTHS)
    for lang in order:
        rules = _COMPILED.setdefault(lang, _rules(lang))
        best: tuple[int, int, tuple[date, date], re.Match] | None = None
        for pattern, to_range in rules:
            for match in pattern.finditer(text):
                period = to_range(match, reference)
                if period is None:
                    continue
                key = (match.start(), -(match.end() - match.start()))
                if best is None or key < best[:2]:
                    best = (*key, period, match)
                break
        if best is not None:
            (since, until), match = best[2], best[3]
            phrase = question[match.start():match.end()] if same_length else match[0]
            return since, until, phrase.strip()
    return None


def with_relative_dates(question: str, language: str, filters: Filters, reference: date) -> tuple[Filters, str | None]:
    """``filters`` with the question's relative period as since/until, and the
    phrase it came from. Explicit dates win: a filter with since or until is
    returned unchanged."""
    if filters.since or filters.until:
        return filters, None
    found = relative_date_filter(question, language, reference)
    if found is None:
        return filters, None
    since, until, phrase = found
    return filters.model_copy(update={"since": since, "until": until}), phrase
