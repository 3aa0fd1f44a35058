"""The model's one-line replies (a rewritten or translated question) cleaned of
labels and quotes."""

from __future__ import annotations

import re

_PREFIX = re.compile(r"^\s*(rewritten question|standalone question|domanda riformulata|domanda|italian|italiano|english|inglese)\s*:\s*", re.I)


def clean_reply(reply: str, question: str) -> str | None:
    """The first non-empty line without labels or quotes; None if it is empty
    or implausibly long (the model answered instead of rewriting)."""
    line = next((ln for ln in reply.strip().splitlines() if ln.strip()), "")
    line = _PREFIX.sub("", line).strip().strip('"“”«»\'').strip()
    if not line or len(line) > max(300, 4 * len(question)):
        return None
    return line
