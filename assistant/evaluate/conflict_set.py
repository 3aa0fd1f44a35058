"""Conflict test sets built from a real question set, the way published
knowledge-conflict benchmarks build theirs: the passage that answers a
question is copied with every mention of its answer replaced by another value of the same
kind (a number by a number, a date by a date, a name by a name, taken from
the answers to other questions), and both are indexed. The questions on the
copied passages are the conflicted set; as many questions on passages left
alone are the unconflicted set. Nothing is written into the project: the
corpus and questions go to a folder of the caller's."""

from __future__ import annotations

import json
import random
import re
from datetime import date, timedelta
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.retrieval.answer_types import holds_type
from assistant.answering.conflicts import is_value
from assistant.evaluate.metrics import normalize_answer
from assistant.evaluate.pairing import configured_embedder, well_paired

COPY_SOURCE = "Agenzia Beta (copy of the passage with the answer replaced)"
ORIGINAL_DATE = "2026-01-01"  # for undated passages; a copy is dated a day before or after its original
_SMALL = {"di", "de", "del", "della", "da", "e", "la", "il", "of", "the", "and", "von", "van", "d"}


_NUMBER = re.compile(r"^\d{1,3}(?:[.,]\d{3})*(?:[.,]\d+)?$|^\d+$")


def _is_number_word(word: str) -> bool:
    return bool(_NUMBER.match(word)) or (word.isalpha() and is_value(word, "number"))


def answer_kind(answer: str) -> str | None:
    """"date" (only date words: "7 gennaio 2014", "1226"), "number" (a number,
    perhaps with a unit: "84 ore"), "name" (capitalised words, no digit) or None."""
    words = answer.split()
    if not words or len(words) > 4:
        return None
    if holds_type(answer, "date") and all(_NUMBER.match(w) or holds_type(w, "date") for w in words):
        return "date"
    if _is_number_word(words[0]) and len(words) <= 3 and not any(ch.isdigit() for w in words[1:] for ch in w):
        return "number"
    if (all(w[:1].isupper() or w.lower() in _SMALL for w in words) and words[0][:1].isupper()
            and not any(ch.isdigit() for ch in answer)):
        return "name"
    return None


def replacement(answer: str, kind: str, value: str) -> str:
    """The text put in place of ``answer``: for a number, ``value``'s number with the answer's unit."""
    if kind == "number":
        return " ".join([value.split()[0], *answer.split()[1:]])
    return value


@dataclass
class Candidate:
    record: dict
    doc_id: str
    start: int
    end: int
    answer: str
    kind: str


def _candidates(questions: Iterable[dict], corpus: dict[str, dict]) -> list[Candidate]:
    out = []
    for q in questions:
        evidence = (q.get("evidence") or [{}])[0]
        doc_id, start, end = evidence.get("doc_id"), evidence.get("answer_start"), evidence.get("answer_end")
        if doc_id not in corpus or start is None or end is None:
            continue
        body = corpus[doc_id]["body"]
        if (start > 0 and body[start - 1].isalnum()) or (end < len(body) and body[end].isalnum()):
            continue  # part of a word ("Dorito" in "Doritos"): the copy would not change where it answers
        answer = body[start:end]
        kind = answer_kind(answer)
        accepted = {normalize_answer(a) for a in [q.get("answer"), *(q.get("answers") or [])] if a}
        if kind and normalize_answer(answer) and normalize_answer(answer) in accepted:  # the span is the answer
            out.append(Candidate(q, doc_id, start, end, answer, kind))
    return out


def build(corpus_path: Path, questions_path: Path, out: Path, n: int, seed: int = 0,
          mode: str = "disagree", distractors: int | None = None, embedder=None,
          check_pairing: bool = True) -> dict:
    """Write ``corpus.jsonl`` (the passages, plus the ``n`` copies) and
    ``questions.jsonl`` (``n`` conflicted questions with ``conflicting_answers``,
    then ``n`` unconflicted ones with an empty list) into ``out``.
    ``mode``: "disagree" (the copy comes from another agency, dated a day before
    or after its original at random; a quiz question's replacement is one of its
    own wrong choices)
    or "updated" (the same sender re-issues the passage a day later with the new
    value: the expected answer is the new value). ``distractors``: keep only this
    many passages besides the questions' own (default: every passage).
    Cross-lingual questions whose gold answers answer another question are left
    out (pairing.py) unless ``check_pairing`` is False; ``embedder`` compares the
    two questions (default: the configured one)."""
    corpus = {r["id"]: r for r in _read(corpus_path)}
    candidates = _candidates(_read(questions_path), corpus)
    unpaired = 0
    if check_pairing and any("answers_en" in c.record for c in candidates):
        kept_pairs = well_paired([c.record for c in candidates], embedder or configured_embedder())
        unpaired = kept_pairs.count(False)
        candidates = [c for c, ok in zip(candidates, kept_pairs) if ok]
    rng = random.Random(seed)
    rng.shuffle(candidates)
    pool: dict[str, list[str]] = {}
    for c in candidates:
        pool.setdefault(c.kind, []).append(c.answer)
    conflicted: list[tuple[Candidate, str]] = []
    used: set[str] = set()
    for c in candidates:
        if len(conflicted) >= n or c.doc_id in used:
            continue
        accepted = {normalize_answer(a) for a in [c.answer, *c.record.get("answers", [])]}
        body = f' {normalize_answer(corpus[c.doc_id]["body"])} '
        choices = [str(x) for x in c.record.get("choices") or []]  # a quiz's own distractors, where it has them
        options = [a for a in (choices or pool[c.kind]) if normalize_answer(a) not in accepted
                   and f" {normalize_answer(a)} " not in body]
        if options:
            value = rng.choice(options)
            conflicted.append((c, value if choices else replacement(c.answer, c.kind, value)))
            used.add(c.doc_id)
    others = [c for c in candidates if c.doc_id not in used]
    plain, seen = [], set()
    for c in others:  # one question per passage, as in the conflicted set
        if len(plain) < n and c.doc_id not in seen:
            plain.append(c)
            seen.add(c.doc_id)
    if len(conflicted) < n or len(plain) < n:
        raise ValueError(f"only {len(conflicted)} conflicted and {len(plain)} unconflicted questions can be made")
    out.mkdir(parents=True, exist_ok=True)
    kept = list(corpus.values())
    if distractors is not None:
        own = {c.doc_id for c, _ in conflicted} | {c.doc_id for c in plain}
        rest = [r for r in kept if r["id"] not in own]
        kept = [r for r in kept if r["id"] in own] + rng.sample(rest, min(distractors, len(rest)))
    records = [dict(r, published_at=r.get("published_at") or ORIGINAL_DATE) for r in kept]
    dated = {r["id"]: date.fromisoformat(str(r["published_at"])[:10]) for r in records}
    questions = []
    for c, value in conflicted:
        original = corpus[c.doc_id]
        # every mention of the answer is replaced, as in entity-substitution benchmarks (else the copy contradicts
        # itself, and a sentence left unchanged still gives the original value)
        body = re.sub(rf"(?<!\w){re.escape(c.answer)}(?!\w)", lambda _: value, original["body"])
        later = mode == "updated" or rng.random() < 0.5
        copy = {k: v for k, v in original.items() if k != "sentences"}
        day = dated[c.doc_id] + timedelta(days=1 if later else -1)
        copy.update(id=f"{c.doc_id}-copy", body=body, published_at=day.isoformat())
        if mode == "disagree":
            copy["source"] = COPY_SOURCE
        records.append(copy)
        question = dict(c.record, conflicting_answers=[value], conflict_mode=mode)
        if mode == "updated":  # the latest value is the answer; the earlier is the other side
            question.update(answer=value, answers=[value], conflicting_answers=[c.answer])
        questions.append(question)
    questions += [dict(c.record, conflicting_answers=[]) for c in plain]
    _write(out / "corpus.jsonl", records)
    _write(out / "questions.jsonl", questions)
    kinds = {k: sum(1 for c, _ in conflicted if c.kind == k) for k in ("date", "number", "name")}
    return {"passages": len(records) - len(conflicted), "copies": len(conflicted), "conflicted": len(conflicted),
            "unconflicted": len(plain), "kinds": kinds, "mode": mode, "seed": seed,
            "left_out_unpaired": unpaired}


def _read(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("-n", type=int, default=100, help="conflicted questions (and as many unconflicted)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", choices=("disagree", "updated"), default="disagree")
    parser.add_argument("--distractors", type=int, help="passages kept besides the questions' own (default: all)")
    parser.add_argument("--keep-unpaired", action="store_true",
                        help="keep cross-lingual questions whose gold answers answer another question")
    args = parser.parse_args()
    print(json.dumps(build(args.corpus, args.questions, args.out, args.n, args.seed, args.mode, args.distractors,
                           check_pairing=not args.keep_unpaired)))


if __name__ == "__main__":
    _main()
