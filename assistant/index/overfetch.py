"""Filtering by over-fetching: when a store's own filtered search is slow, ask
it for more of its best rows unfiltered and keep those that pass. Used by the
dense side (Chroma neighbours) and the lexical side (FTS5 BM25 rows)."""

from __future__ import annotations

import math
from collections.abc import Callable

#: how many rows to fetch for n that pass when the share passing is known: n * SLACK / share
SLACK = 1.5


def overfetched(fetch: Callable[[int], tuple[list, int]], n: int, share: float | None, *,
                floor: int, factor: float, cap: int) -> list | None:
    """The first ``n`` rows that pass, from ``fetch(wide)`` -> (rows of the best
    ``wide`` that pass, how many were looked at); None when even ``cap`` rows
    hold too few, so the caller's own filtered search must run.

    The first width expects ``share`` of the rows to pass (unknown: 1/``factor``),
    never under ``floor``; when fewer pass, it is widened by the pass rate
    observed, at least doubling, up to ``cap``."""
    wide = max(floor, math.ceil(n * (SLACK / share if share else factor)))
    while wide <= cap:
        kept, looked_at = fetch(wide)
        if len(kept) >= n or looked_at < wide:  # enough, or every row was looked at
            return kept[:n]
        if wide == cap:
            break
        wide = min(cap, max(2 * wide, math.ceil(n * SLACK * looked_at / max(len(kept), 1))))
    return None
