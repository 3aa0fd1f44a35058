"""Question sets for evaluation: JSON lines in the shared data format
(``evidence`` with gold sentences) or the minimal ``{question, answer}``."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ValidationError

from assistant.text.language import detect_language


class Question(BaseModel):
    """One evaluation question with its accepted answers and gold evidence."""

    id: str
    question: str
    answers: list[str] = []
    answer_en: list[str] | None = None
    language: str
    question_type: str = "unspecified"
    gold_doc_ids: list[str] = []
    gold_sentences: list[str] = []
    gold_sentence_spans: list[tuple[str, int, int]] = []
    question_date: str | None = None
    answerable: bool = True
    conflicting_answers: list[str] = []  # values another indexed source gives (a conflict test set)
    conflict_mode: str | None = None  # "updated": the answers are the newer version's (a conflict test set)


def _strings(value, field: str) -> list[str]:
    """A string, number or list of them as a list of non-empty stripped strings."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValueError(f"{field!r} must hold strings, got {item!r}")
        text = str(item).strip()
        if text:
            out.append(text)
    return out


def _unique(items: Iterable) -> list:
    return list(dict.fromkeys(items))


def _span(ev: dict) -> tuple[str, int, int] | None:
    doc_id = ev.get("doc_id")
    for start_key, end_key in (("sentence_start", "sentence_end"), ("char_start", "char_end")):
        start, end = ev.get(start_key), ev.get(end_key)
        if doc_id is not None and start is not None and end is not None:
            return str(doc_id), int(start), int(end)
    return None


def _evidence(record: dict) -> tuple[list[str], list[str], list[tuple[str, int, int]]]:
    """Gold document ids, sentences and spans from ``evidence`` (or the model's own fields)."""
    evidence = record.get("evidence")
    if evidence is None:
        spans = [tuple(s) for s in record.get("gold_sentence_spans") or []]
        return (_strings(record.get("gold_doc_ids"), "gold_doc_ids"),
                _strings(record.get("gold_sentences"), "gold_sentences"), spans)
    if not isinstance(evidence, list) or not all(isinstance(ev, dict) for ev in evidence):
        raise ValueError("'evidence' must be a list of objects")
    doc_ids = _unique(str(ev["doc_id"]) for ev in evidence if ev.get("doc_id") is not None)
    sentences = _unique(s for ev in evidence for s in _strings(ev.get("sentence"), "sentence"))
    spans = _unique(span for ev in evidence if (span := _span(ev)) is not None)
    return doc_ids, sentences, spans


def parse_question(record: dict, default_id: str) -> Question:
    """A Question from one decoded JSON object (``default_id`` when it has no id)."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("missing or empty 'question'")
    english = _unique(_strings(record.get("answers_en"), "answers_en") + _strings(record.get("answer_en"), "answer_en"))
    answers = _unique(_strings(record.get("answer"), "answer") + _strings(record.get("answers"), "answers") + english)
    doc_ids, sentences, spans = _evidence(record)
    record_id = record.get("id")
    return Question(
        id=str(record_id) if record_id not in (None, "") else default_id,
        question=question.strip(),
        answers=answers,
        answer_en=english or None,
        language=record.get("lang") or record.get("language") or detect_language(question),
        question_type=record.get("question_type") or "unspecified",
        gold_doc_ids=doc_ids,
        gold_sentences=sentences,
        gold_sentence_spans=spans,
        question_date=record.get("question_date"),
        answerable=bool(answers) and record.get("answerable") is not False,
        conflicting_answers=_strings(record.get("conflicting_answers"), "conflicting_answers"),
        conflict_mode=record.get("conflict_mode") or None,
    )


def load_questions(path: str | Path) -> list[Question]:
    """Questions from a JSON-lines file, skipping blank lines.

    Raises ValueError naming the file and line of a malformed record."""
    path = Path(path)
    questions: list[Question] = []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                questions.append(parse_question(json.loads(line), default_id=str(lineno)))
            except (ValueError, TypeError, KeyError, ValidationError) as exc:
                # json.JSONDecodeError and pydantic's ValidationError are ValueErrors too.
                raise ValueError(f"{path}:{lineno}: malformed question record: {exc}") from exc
    return questions


def sample_questions(questions: Sequence[Question], n: int | None, seed: int = 0) -> list[Question]:
    """A deterministic random sample of ``n`` questions in their original order (all when n is None or large)."""
    if n is None or n >= len(questions):
        return list(questions)
    if n < 0:
        raise ValueError(f"sample size must be non-negative, got {n}")
    picked = sorted(random.Random(seed).sample(range(len(questions)), n))
    return [questions[i] for i in picked]
