"""Citations: the output schemas the model fills (one list of source numbers
for the answer, or the answer as a list of sentences each with the numbers of
the source sentences it rests on), parsing of its reply (either JSON, or free
text with ``[n]`` markers as a fallback), and resolution of cited numbers to
the sentences actually given to the model."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from assistant.answering.prompting import NumberedSource
from assistant.domain import Citation, Dispatch, Sentence

# One list of source numbers for the whole answer.
PER_ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "citations": {"type": "array", "items": {"type": "integer"}, "maxItems": 4},
        "answer": {"type": "string"},
    },
    "required": ["citations", "answer"],
}
# The answer as a list of sentences, each with its own source numbers. Key
# order matters to grammar engines that sort keys: "sentence" sorts before
# "sources", so the claim is written before what it cites.
PER_SENTENCE_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {
            "type": "array",
            "minItems": 1,
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "sentence": {"type": "string"},
                    "sources": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
                },
                "required": ["sentence", "sources"],
            },
        },
    },
    "required": ["answer"],
}
SCHEMAS = {"per_answer": PER_ANSWER_SCHEMA, "per_sentence": PER_SENTENCE_SCHEMA}

_MARKER = re.compile(r"\[\s*(\d+(?:\s*(?:[-–,;]|and|e)\s*\d+)*)\s*\]")


@dataclass
class Claim:
    """One answer sentence as the model wrote it, with the source numbers it cited for it."""

    text: str
    numbers: list[int] = field(default_factory=list)


@dataclass
class ModelReply:
    """What the model said: its answer sentences with their citations."""

    claims: list[Claim] = field(default_factory=list)

    @property
    def answer(self) -> str:
        """The whole answer text."""
        return " ".join(c.text for c in self.claims if c.text)

    @property
    def numbers(self) -> list[int]:
        """Every cited source number, in order of first use."""
        return _unique([n for c in self.claims for n in c.numbers])


def parse_reply(raw: str) -> ModelReply:
    """Parse the model's reply: the JSON of ``PER_SENTENCE_SCHEMA``
    (``{"answer": [{"sentence", "sources"}]}``), of ``PER_ANSWER_SCHEMA``
    (``{"citations": [...], "answer": "..."}``), else free text whose ``[n]``,
    ``[1, 3]``, ``[2-4]`` markers are the citations. ``[n]`` markers inside
    JSON strings count as citations of their sentence."""
    text = raw.strip()
    data = _json_object(text)
    if data is not None and isinstance(data.get("answer"), list):
        claims = [_claim(item.get("sentence"), item.get("sources"))
                  for item in data["answer"] if isinstance(item, dict)]
        return ModelReply(claims=[c for c in claims if c.text])
    if data is not None and isinstance(data.get("answer"), str):
        return ModelReply(claims=[_claim(data["answer"], data.get("citations"))])
    answer, numbers = strip_markers(text)
    return ModelReply(claims=[Claim(answer, numbers)])


def _claim(text, numbers) -> Claim:
    text = text if isinstance(text, str) else ""
    listed = [n for n in numbers or [] if isinstance(n, int) and not isinstance(n, bool)]
    cleaned, inline = strip_markers(text)
    return Claim(cleaned, _unique(listed + inline))


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
    return sentence_citation(n, hit.sentence, hit.dispatch, hit.dense if hit.dense is not None else hit.score)


def sentence_citation(n: int, sentence: Sentence, dispatch: Dispatch, score: float) -> Citation:
    """A shown citation for a sentence of a dispatch."""
    d = dispatch
    return Citation(n=n, sentence_id=sentence.id, doc_id=d.id, text=sentence.text, agency=d.agency or d.source,
                    place=d.place, published_at=d.published_at, title=d.title, char_start=sentence.char_start,
                    char_end=sentence.char_end, score=round(score, 4))
