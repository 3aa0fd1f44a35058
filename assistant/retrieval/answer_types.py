"""What kind of words a question asks for, read from its question word:
"quando" / "when" asks for a date, "quanti" / "how many" for a number.
A sentence holding such words is more likely the one that answers."""

from __future__ import annotations

import re

from assistant.text.months import MONTHS

_ASKS = [
    ("date", re.compile(r"\b(quando|in che anno|in quale anno|che anno|in che data|when|what year|which year|"
                        r"in what year|what date)\b", re.I)),
    ("number", re.compile(r"\b(quant[aoie]|how many|how much|what percentage|che percentuale|quale percentuale)\b",
                          re.I)),
]
_MONTHS = ("|".join(MONTHS["it"] + MONTHS["en"]) + "|"
           "lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica|ieri|oggi|domani|"
           "monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow")
_HAS = {
    "date": re.compile(rf"\b(1\d{{3}}|20\d{{2}}|{_MONTHS}|secolo|century|\d+0s|anni \d+)\b", re.I),
    "number": re.compile(r"\d|\b(due|tre|quattro|cinque|sei|sette|otto|nove|dieci|cento|mille|mila|milion[ei]|"
                         r"miliard[oi]|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|"
                         r"billion)\b", re.I),
}


def asked_type(question: str) -> str | None:
    """``"date"``, ``"number"`` or None, from the question's question word."""
    for kind, pattern in _ASKS:
        if pattern.search(question):
            return kind
    return None


def asked_positions(question: str) -> dict[str, int]:
    """Where the first question word of each kind ("date", "number") occurs in ``question``."""
    return {kind: m.start() for kind, pattern in _ASKS if (m := pattern.search(question))}


def holds_type(text: str, kind: str) -> bool:
    """Whether ``text`` holds words of the kind asked for."""
    return bool(_HAS[kind].search(text))
