"""Citations: the output schema the model fills, parsing of its reply (JSON,
or free text with ``[n]`` markers as a fallback), and resolution of cited
numbers to the sentences actually given to the model."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from assistant.model import Citation
from assistant.prompting import NumberedSource

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "citations": {"type": "array", "items": {"type": "integer"}, "maxItems": 4},
        "answer": {"type": "string"},
    },
    "required": ["citations", "answer"],
}

_CITATIONS_ARRAY = re.compile(r'"citations"\s*:\s*\[([^\]]*)\]')
_MARKER = re.compile(r"\[\s*(\d+(?:\s*(?:[-–,;]|and|e)\s*\d+)*)\s*\]")


@dataclass
class ModelReply:
    """What the model said: answer text and the source numbers it cited."""

    answer: str
    numbers: list[int] = field(default_factory=list)


def parse_reply(raw: str) -> ModelReply:
    """Parse the model's reply: the JSON object of ``ANSWER_SCHEMA`` when it is
    one, else free text whose ``[n]``, ``[1, 3]``, ``[2-4]`` markers are the citations."""
    text = raw.strip()
    data = _json_object(text)
    if data is not None and isinstance(data.get("answer"), str):
        numbers = [n for n in data.get("citations") or [] if isinstance(n, int) and not isinstance(n, bool)]
        answer, inline = strip_markers(data["answer"])
        return ModelReply(answer=answer, numbers=_unique(numbers + inline))
    answer, numbers = strip_markers(text)
    return ModelReply(answer=answer, numbers=numbers)


def strip_markers(text: str) -> tuple[str, list[int]]:
    """Remove ``[n]`` markers from text and return them in order."""
    numbers: list[int] = []
    for m in _MARKER.finditer(text):
        numbers.extend(_expand(m.group(1)))
    cleaned = _MARKER.sub("", text)
    cleaned = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()
    return cleaned, _unique(numbers)


def _expand(spec: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:[,;]|and|e)\s*", spec):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            lo, hi = int(bounds[0]), int(bounds[1])
            if 0 < hi - lo <= 10:
                out.extend(range(lo, hi + 1))
                continue
        out.extend(int(b) for b in bounds if b.isdigit())
    return out


def _json_object(text: str) -> dict | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(text[start:end + 1])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _unique(numbers: list[int]) -> list[int]:
    return list(dict.fromkeys(numbers))


def resolve(numbers: list[int], sources: list[NumberedSource]) -> tuple[list[Citation], int]:
    """Citations for the cited numbers that exist among the sources, numbered
    1.. in order of first use, plus how many cited numbers did not resolve."""
    by_n = {s.n: s for s in sources}
    citations: list[Citation] = []
    dropped = 0
    for number in _unique(numbers):
        source = by_n.get(number)
        if source is None:
            dropped += 1
            continue
        citations.append(to_citation(len(citations) + 1, source))
    return citations, dropped


def to_citation(n: int, source: NumberedSource) -> Citation:
    """A shown citation for a numbered source."""
    hit = source.hit
    d = hit.dispatch
    return Citation(n=n, sentence_id=hit.sentence.id, doc_id=d.id, text=hit.sentence.text, agency=d.agency or d.source,
                    place=d.place, published_at=d.published_at, title=d.title, char_start=hit.sentence.char_start,
                    char_end=hit.sentence.char_end, score=round(hit.dense if hit.dense is not None else hit.score, 4))


class AnswerFieldStream:
    """Follows a JSON reply as it streams and yields the text of its
    ``answer`` string as soon as each character arrives."""

    def __init__(self) -> None:
        self.raw = ""
        self.text = ""  # the answer text decoded so far
        self._pos: int | None = None  # index in raw where the answer string's content starts
        self._done = False

    def cited(self) -> list[int]:
        """Source numbers cited so far: the ``citations`` array once it is
        closed, then ``[n]`` markers complete in the answer text."""
        numbers: list[int] = []
        m = _CITATIONS_ARRAY.search(self.raw)
        if m:
            numbers = [int(x) for x in re.findall(r"-?\d+", m.group(1)) if int(x) > 0]
        return _unique(numbers + strip_markers(self.text)[1])

    def feed(self, piece: str) -> str:
        """Add model output; return the newly decoded answer text."""
        self.raw += piece
        if self._done:
            return ""
        if self._pos is None:
            m = re.search(r'"answer"\s*:\s*"', self.raw)
            if not m:
                return ""
            self._pos = m.end()
        out = []
        i = self._pos
        while i < len(self.raw):
            ch = self.raw[i]
            if ch == '"':
                self._done = True
                i += 1
                break
            if ch == "\\":
                if i + 1 >= len(self.raw):
                    break
                nxt = self.raw[i + 1]
                if nxt == "u":
                    if i + 6 > len(self.raw):
                        break
                    out.append(json.loads(f'"{self.raw[i:i + 6]}"'))
                    i += 6
                    continue
                out.append(json.loads(f'"\\{nxt}"'))
                i += 2
                continue
            out.append(ch)
            i += 1
        self._pos = i
        decoded = "".join(out)
        self.text += decoded
        return decoded
