"""Re-issued dispatches: agencies send the same story again with small edits.
Among retrieved candidates, dispatches whose bodies share most of their word
n-grams (``retrieval.duplicate_shingle_words`` words, ``retrieval.duplicate_resemblance``
of them shared) are versions of one story; only the newest (by publication date, then
ingestion order) is shown, in the place of the best-ranked version. Versions
come from one agency: two agencies sending near-identical text are two
sources, both shown (when they differ in a figure, they disagree); where a hit's sentence
reads differently in the other agency's copy and that copy's sentence was not retrieved, it
is kept beside the hit (``SentenceHit.copies``) for the conflict check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from assistant.domain import Dispatch, Sentence
from assistant.text.words import tokens


def shingles(text: str, n: int) -> set[int]:
    """Hashed word n-grams of accent-folded, lower-cased text (the words themselves for short texts)."""
    words = tokens(text)
    if len(words) < n:
        return {hash(" ".join(words))} if words else set()
    return {hash(" ".join(words[i:i + n])) for i in range(len(words) - n + 1)}


def resemblance(a: set[int], b: set[int]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not (a and b):
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def could_resemble(a: set[int], b: set[int], threshold: float) -> bool:
    """False when the sizes alone rule out a resemblance of ``threshold``
    (Jaccard is at most the smaller set's size over the larger's)."""
    small, large = sorted((len(a), len(b)))
    return threshold <= 0 or small >= threshold * large


def same_sender(a: Dispatch, b: Dispatch) -> bool:
    """Whether two dispatches can be versions of one: the same agency (or source), or either unknown."""
    x, y = ((d.agency or d.source or "").strip().casefold() for d in (a, b))
    return not x or not y or x == y


def newest_versions(dispatches: Mapping[str, Dispatch], ingest_order: Mapping[str, tuple],
                    threshold: float, shingle_words: int) -> dict[str, str]:
    """For each dispatch that is an older version of another among ``dispatches``
    (same sender, bodies' ``shingle_words``-grams resembling from ``threshold``), the id of
    the newest version of its group (dispatches absent from the map are their own newest)."""
    ids = list(dispatches)
    sets = {i: shingles(dispatches[i].body, shingle_words) for i in ids}
    parent = {i: i for i in ids}

    def root(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for x, a in enumerate(ids):
        for b in ids[x + 1:]:
            if (root(a) != root(b) and same_sender(dispatches[a], dispatches[b])
                    and could_resemble(sets[a], sets[b], threshold)
                    and resemblance(sets[a], sets[b]) >= threshold):
                parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for i in ids:
        groups.setdefault(root(i), []).append(i)
    newest: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        winner = max(members, key=lambda i: (dispatches[i].published_at is not None,
                                             dispatches[i].published_at, ingest_order.get(i, ()), i))
        newest.update({i: winner for i in members if i != winner})
    return newest


def copies_by_other_senders(dispatches: Mapping[str, Dispatch], of: Sequence[str], threshold: float,
                            shingle_words: int) -> dict[str, list[str]]:
    """For each dispatch id of ``of``, the dispatches of ``dispatches`` sent by another
    sender (both known) whose bodies' ``shingle_words``-grams resemble it from ``threshold``:
    one story sent by two agencies (compared for what they say differently, never collapsed)."""
    sets = {i: shingles(d.body, shingle_words) for i, d in dispatches.items()}
    found: dict[str, list[str]] = {}
    for a in of:
        if a not in dispatches:
            continue
        found[a] = [b for b in dispatches if b != a and not same_sender(dispatches[a], dispatches[b])
                    and could_resemble(sets[a], sets[b], threshold) and resemblance(sets[a], sets[b]) >= threshold]
    return {a: bs for a, bs in found.items() if bs}


def counterpart(sentence: Sentence, candidates: Sequence[Sentence], min_share: float = 0.0) -> Sentence | None:
    """The sentence of another version most like ``sentence`` by shared words
    (Jaccard); None when none shares more than ``min_share``."""
    words = set(tokens(sentence.text))
    best, best_score = None, min_share
    for other in candidates:
        other_words = set(tokens(other.text))
        score = len(words & other_words) / len(words | other_words) if words | other_words else 0.0
        if score > best_score:
            best, best_score = other, score
    return best
