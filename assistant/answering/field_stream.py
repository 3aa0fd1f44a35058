"""The model's JSON reply followed as it streams: the answer text to show at
once, and the source numbers cited so far."""

from __future__ import annotations

import json
import re

from assistant.answering.cite import strip_markers

_CITED_ARRAY = re.compile(r'"(?:citations|sources)"\s*:\s*\[([^\]]*)\]')
_TEXT_FIELD = re.compile(r'"(?:answer|sentence)"\s*:\s*"')


class AnswerFieldStream:
    """Follows a JSON reply as it streams and yields the answer text (each
    ``sentence`` string in turn, or the ``answer`` string of the older shape)
    as soon as each character arrives."""

    def __init__(self) -> None:
        self.raw = ""
        self.text = ""  # the answer text decoded so far
        self._pos: int | None = None  # index in raw where the current string's content starts
        self._scan = 0  # where to look for the next answer string

    def cited(self) -> list[int]:
        """Source numbers cited so far: each ``sources`` (or ``citations``)
        array once it is closed, in order, then ``[n]`` markers complete in the answer text."""
        numbers = [int(x) for m in _CITED_ARRAY.finditer(self.raw)
                   for x in re.findall(r"-?\d+", m.group(1)) if int(x) > 0]
        return list(dict.fromkeys(numbers + strip_markers(self.text)[1]))

    def feed(self, piece: str) -> str:
        """Add model output; return the newly decoded answer text."""
        self.raw += piece
        decoded = []
        while True:
            if self._pos is None:
                m = _TEXT_FIELD.search(self.raw, self._scan)
                if not m:
                    break
                self._pos = m.end()
                if self.text or decoded:
                    decoded.append(" ")
            chunk, closed = self._decode()
            decoded.append(chunk)
            if not closed:
                break
        text = "".join(decoded)
        self.text += text
        return text

    def _decode(self) -> tuple[str, bool]:
        """Decode the current string from ``_pos``; whether its closing quote arrived."""
        out = []
        i = self._pos
        while i < len(self.raw):
            ch = self.raw[i]
            if ch == '"':
                self._pos, self._scan = None, i + 1
                return "".join(out), True
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
        return "".join(out), False
