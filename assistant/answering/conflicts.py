"""Conflicting and updated sources, found outside the model.

Two statements conflict when they are the same sentence but for a value of
the kind the question asks for: "evacuate duemila persone" in one dispatch,
"evacuate tremila persone" in another. Statements are aligned word by word
(difflib); they must share most of their words, differ in at most
``conflicts.max_differences`` short spans (settings), and each differing span must hold a value:
a number or a date where the question asks for one ("quanti", "when"; the other of
the two when none differs: "quanti anni aveva quando..."), a capitalised name where it
asks who or where ("chi", "dove", "where"), else any of these. A span the
question itself names is what is asked about, not the answer, and does not
count. Text that merely says "the sources disagree" or "ignore the others"
aligns with nothing and changes nothing.

The kind of a conflict: ``updated`` when every side comes from one sender and
one side is an earlier version of a re-issued dispatch (the newest is the
answer, the earlier is cited beside it); ``disagree`` otherwise (different
agencies give different values: each side is cited, newest first)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher

from assistant.retrieval.answer_types import asked_positions, holds_type
from assistant.domain import Dispatch, Sentence
from assistant.retrieval.near_duplicates import same_sender
from assistant.settings import ConflictSettings
from assistant.text.words import fold

# "chi ...", "da chi ...", "in quale città ...", "where ...": the answer is a name or a place
_ASKS_NAME = re.compile(r"\b(?:chi|dove|who|whom|whose|where)\b"
                        r"|\b(?:quale|che)\s+(?:città|paese|nazione|regione|provincia|località)\b"
                        r"|\b(?:which|what)\s+(?:city|country|region|town)\b", re.I)
# question words that ask for no kind of value of their own: coming first, they ask for any
# ("What was the tribe of the woman he married when he was 16?" asks no date)
_ASKS_ANY = re.compile(r"\b(?:what|which|quale|quali|qual|cosa)\b|\bcos'", re.I)
# what a conflict may be about, by the kind of answer asked: tried in this order
_FALLBACK = {"date": ("date", "number"), "number": ("number", "date"), "name": ("name",), None: (None,)}
_WORD = re.compile(r"\d+(?:[.,:/]\d+)*|\w+")
_NUMBER_WORD = re.compile(
    r"^(?:un[oa]?|due|tre|quattro|cinque|sei|sette|otto|nove|dieci|undici|dodici|tredici|quattordici|quindici|"
    r"sedici|diciassette|diciotto|diciannove|vent[ie]?|trent[ao]?|quarant[ao]?|cinquant[ao]?|sessant[ao]?|"
    r"settant[ao]?|ottant[ao]?|novant[ao]?|cento|mille|mila|milion[ei]|miliard[oi])+$"
    r"|^(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
    r"million|billion|dozen)$")


@dataclass(frozen=True)
class Statement:
    """A sentence of a dispatch as evidence: ``key`` names it for the caller
    (e.g. its source number); ``earlier`` when it is an older version's sentence."""

    key: str
    sentence: Sentence
    dispatch: Dispatch
    earlier: bool = False


@dataclass
class Side:
    """One value and the statements that give it."""

    value: str
    statements: list[Statement] = field(default_factory=list)

    @property
    def newest(self) -> date | None:
        """The latest publication date among its statements."""
        return max((s.dispatch.published_at for s in self.statements if s.dispatch.published_at), default=None)


@dataclass
class Conflict:
    """Sides giving different values, newest first, and the kind of conflict."""

    kind: str  # "disagree" | "updated"
    sides: list[Side]


def _words(text: str) -> list[re.Match]:
    return list(_WORD.finditer(text))


def _is_number(span: str) -> bool:
    return any(ch.isdigit() for ch in span) or any(_NUMBER_WORD.match(fold(w)) for w in _WORD.findall(span))


def asked_value(question: str) -> str | None:
    """The kind of value a question asks for: "date", "number", "name" (who, where) or None
    (any), from its first question word ("chi ha assunto Tesla quando..." asks a name; "what
    company ... when ..." asks for any)."""
    positions = asked_positions(question)
    if (name := _ASKS_NAME.search(question)) is not None:
        positions["name"] = name.start()
    if not positions:
        return None
    first = min(positions, key=positions.get)
    generic = _ASKS_ANY.search(question)
    return None if generic is not None and generic.start() < positions[first] else first


def _is_name(span: str) -> bool:
    """A capitalised word that is not a number or a date word ("Dodici", "Marzo")."""
    return any(w[:1].isupper() and not _is_number(w) and not holds_type(w, "date") for w in _WORD.findall(span))


def is_value(span: str, kind: str | None, around: str = "") -> bool:
    """Whether a span holds a value of ``kind`` ("date", "number", "name"; None: a number, a
    date or a name); ``around``: the span with its neighbouring words, where a
    day ("il 12") finds its month ("12 ottobre")."""
    if kind == "name":
        return _is_name(span)
    if kind == "number":
        return _is_number(span)
    if kind == "date":
        return holds_type(span, "date") or (_is_number(span) and holds_type(around, "date"))
    return _is_number(span) or holds_type(span, "date") or any(w[:1].isupper() for w in _WORD.findall(span))


def _same_value(a: str, b: str) -> bool:
    """The same value written differently ("2,6" / "2.6", "Roma" / "roma")."""
    def norm(s: str) -> str:
        return re.sub(r"[.,\s]", "", fold(s))
    return norm(a) == norm(b)


def differing_values(a: str, b: str, kind: str | None, asked: set[str],
                     rules: ConflictSettings) -> tuple[str, str] | None:
    """The values in which statement ``a`` and ``b`` differ when they are one
    statement of one fact (see the module docstring; ``rules``: min_shared,
    max_differences, max_span), as (a's, b's); None otherwise.
    ``asked``: the question's folded words."""
    wa, wb = _words(a), _words(b)
    fa, fb = [fold(m.group()) for m in wa], [fold(m.group()) for m in wb]
    if not fa or not fb:
        return None
    matcher = SequenceMatcher(None, fa, fb, autojunk=False)
    shared = sum(block.size for block in matcher.get_matching_blocks())
    if 2 * shared / (len(fa) + len(fb)) < rules.min_shared:
        return None
    differences = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    # one value named twice ("Los Angeles ... Los Angeles") is one difference
    if not differences or len({(tuple(fa[i1:i2]), tuple(fb[j1:j2]))
                               for _, i1, i2, j1, j2 in differences}) > rules.max_differences:
        return None
    values: list[tuple[str, str]] = []
    for _, i1, i2, j1, j2 in differences:
        if i2 - i1 > rules.max_span or j2 - j1 > rules.max_span:
            return None
        if i1 == i2 or j1 == j2:
            continue  # words added or left out, not a value changed
        va, vb = a[wa[i1].start():wa[i2 - 1].end()], b[wb[j1].start():wb[j2 - 1].end()]
        if set(fa[i1:i2]) <= asked or set(fb[j1:j2]) <= asked:
            continue
        around_a = a[wa[max(i1 - 2, 0)].start():wa[min(i2 + 1, len(wa) - 1)].end()]
        around_b = b[wb[max(j1 - 2, 0)].start():wb[min(j2 + 1, len(wb) - 1)].end()]
        if is_value(va, kind, around_a) and is_value(vb, kind, around_b) and not _same_value(va, vb):
            values.append((_widened(a, wa, i1, i2), _widened(b, wb, j1, j2)))
    values = list(dict.fromkeys(values))
    if not values:
        return None
    return " … ".join(v for v, _ in values), " … ".join(v for _, v in values)


def mentions(text: str, value: str) -> bool:
    """Whether ``text`` states ``value``: its words, folded, appear together in ``text``
    ("12 ottobre" in "il 12 ottobre scorso", not "12" in "2012")."""
    needle = [fold(w) for w in _WORD.findall(value)]
    hay = [fold(w) for w in _WORD.findall(text)]
    n = len(needle)
    return bool(n) and any(hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def _widened(text: str, words: list[re.Match], start: int, end: int) -> str:
    """The differing words with the date or number words next to them ("12" -> "12 ottobre 2025");
    a name stays as it is ("ABC", not "Settanta, ABC")."""
    def part_of_value(i: int) -> bool:
        word = words[i].group()
        return holds_type(word, "date") or _is_number(word)
    if all(part_of_value(i) for i in range(start, end)):
        for _ in range(2):
            if end < len(words) and part_of_value(end):
                end += 1
            if start > 0 and part_of_value(start - 1):
                start -= 1
    return text[words[start].start():words[end - 1].end()]


def find_conflict(question: str, anchors: list[Statement], pool: list[Statement],
                  rules: ConflictSettings, stated: str = "", translation: str | None = None) -> Conflict | None:
    """The first conflict between an anchor (a statement the answer rests on, most
    relevant first) and the other statements of ``pool``; None when they agree.
    ``rules``: what makes two sentences one statement of one fact. ``stated``: the
    answer's own words (no markers); a statement of ``pool`` giving a value they state
    is one the answer rests on too, whichever source the model cited for it. ``translation``: the
    question in the sources' language; its words are the question's own too ("Lutero" for "Luther"),
    never a value it asks for."""
    asked = {fold(w) for w in _WORD.findall(f"{question} {translation or ''}")}
    anchored = {a.key for a in anchors}
    others = [s for s in pool if s.key not in anchored] if stated else []
    # values of the kind asked for first; then a date for a number and the reverse
    # ("quanti anni aveva quando si sposò" asks a number); never a name where a number is asked
    for wanted in _FALLBACK[asked_value(question)]:
        conflict = _first_conflict(anchors, pool, wanted, asked, rules)
        if conflict is None and others:
            conflict = _first_conflict(others, pool, wanted, asked, rules,
                                       lambda value: states(stated, value))
        if conflict is not None:
            return conflict
    return None


def states(text: str, value: str) -> bool:
    """Whether ``text`` states ``value`` or one of its parts ("12 … 14": either)."""
    return any(mentions(text, part) for part in value.split(" … "))


def _first_conflict(anchors: list[Statement], pool: list[Statement], kind: str | None,
                    asked: set[str], rules: ConflictSettings,
                    accept: Callable[[str], bool] | None = None) -> Conflict | None:
    """The first anchor's conflict with the rest of ``pool``; with ``accept``, only an
    anchor whose value it accepts counts."""
    for anchor in anchors:
        sides: dict[str, Side] = {}
        agreeing: list[Statement] = []
        anchor_value: str | None = None
        for other in pool:
            if other.key == anchor.key or other.dispatch.id == anchor.dispatch.id:
                continue
            if _words_of(other) == _words_of(anchor):
                agreeing.append(other)
                continue
            values = differing_values(anchor.sentence.text, other.sentence.text, kind, asked, rules)
            if values is None:
                continue
            mine, theirs = values
            if accept is not None and not accept(mine):
                continue
            anchor_value = anchor_value or mine
            if not _same_value(mine, anchor_value):
                continue  # another fact of the same sentence: left to its own anchor
            own = _side(sides, mine)
            if anchor not in own.statements:
                own.statements.append(anchor)
            _side(sides, theirs).statements.append(other)
        if len(sides) >= 2:
            first = _side(sides, anchor_value)
            first.statements += [s for s in agreeing if s not in first.statements]
            ordered = sorted(sides.values(), key=lambda s: (s.newest is not None, s.newest), reverse=True)
            return Conflict(kind=_kind(ordered), sides=ordered)
    return None


def _words_of(statement: Statement) -> list[str]:
    return [fold(w) for w in _WORD.findall(statement.sentence.text)]


def _side(sides: dict[str, Side], value: str) -> Side:
    key = re.sub(r"[.,\s]", "", fold(value))
    if key not in sides:
        sides[key] = Side(value=value)
    return sides[key]


def _kind(sides: list[Side]) -> str:
    statements = [s for side in sides for s in side.statements]
    one_sender = all(same_sender(statements[0].dispatch, s.dispatch) for s in statements[1:])
    return "updated" if one_sender and any(s.earlier for s in statements) else "disagree"
