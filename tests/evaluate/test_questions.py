"""Loading question sets: shared data format, minimal form, errors, sampling."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path

import pytest

from assistant.evaluate.questions import Question, load_questions, sample_questions

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

SHARED_RECORD = {
    "id": "q1", "question": "When did the 1973 oil crisis begin?", "answer": "ottobre 1973",
    "answers": ["ottobre 1973", "ottobre", "1973"], "answer_en": "October 1973",
    "answers_en": ["October 1973", "October", "1973"], "question_type": "crosslingual_en_question_it_paragraph",
    "lang": "en",
    "evidence": [
        {"doc_id": "d1", "sentence": "La crisi iniziò nell' ottobre 1973.", "sentence_start": 0, "sentence_end": 35},
        {"doc_id": "d1", "sentence": "La crisi iniziò nell' ottobre 1973.", "sentence_start": 0, "sentence_end": 35},
        {"doc_id": "d2", "sentence": "Second passage.", "char_start": 10, "char_end": 25},
        {"doc_id": "d3", "sentence": "No offsets here."},
    ],
}


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    return path


def test_shared_format(tmp_path):
    (q,) = load_questions(write_lines(tmp_path / "q.jsonl", [SHARED_RECORD]))
    assert q.id == "q1" and q.language == "en"
    assert q.answers == ["ottobre 1973", "ottobre", "1973", "October 1973", "October"]
    assert q.answer_en == ["October 1973", "October", "1973"]
    assert q.gold_doc_ids == ["d1", "d2", "d3"]
    assert q.gold_sentences == ["La crisi iniziò nell' ottobre 1973.", "Second passage.", "No offsets here."]
    assert q.gold_sentence_spans == [("d1", 0, 35), ("d2", 10, 25)]
    assert q.question_type == "crosslingual_en_question_it_paragraph"
    assert q.question_date is None and q.answerable


def test_minimal_form_and_defaults(tmp_path):
    path = write_lines(tmp_path / "q.jsonl", [
        {"question": "Chi ha vinto le elezioni regionali in Sardegna?", "answer": "Alessandra Todde"},
        "",
        {"question": "What year did the war in Ukraine begin?", "answer": ["2022", "in 2022"],
         "question_date": "2024-01-01"},
        {"question": "Quanto costa il biglietto?", "answer": 3},
    ])
    first, second, third = load_questions(path)
    assert (first.id, second.id, third.id) == ("1", "3", "4")  # file line numbers, blank line counted
    assert first.answers == ["Alessandra Todde"] and first.answer_en is None
    assert first.language == "it" and second.language == "en"
    assert second.answers == ["2022", "in 2022"] and second.question_date == "2024-01-01"
    assert third.answers == ["3"]
    assert first.gold_doc_ids == [] and first.gold_sentence_spans == [] and first.question_type == "unspecified"
    assert all(q.answerable for q in (first, second, third))


@pytest.mark.parametrize("record", [
    {"question": "Who?", "answer": None, "lang": "en"},
    {"question": "Who?", "answer": "", "answers": [], "lang": "en"},
    {"question": "Who?", "answer": "Rossi", "answerable": False, "lang": "en"},
])
def test_unanswerable(tmp_path, record):
    (q,) = load_questions(write_lines(tmp_path / "q.jsonl", [record]))
    assert q.answerable is False


@pytest.mark.parametrize("bad_line", [
    "{not json",
    json.dumps(["a", "list"]),
    json.dumps({"answer": "no question"}),
    json.dumps({"question": "Q?", "answer": "A", "evidence": "not a list"}),
    json.dumps({"question": "Q?", "answer": {"nested": 1}}),
])
def test_malformed_line_names_file_and_line(tmp_path, bad_line):
    path = write_lines(tmp_path / "bad.jsonl", [{"question": "Ok?", "answer": "yes", "lang": "en"}, "", bad_line])
    with pytest.raises(ValueError, match=r"bad\.jsonl:3"):
        load_questions(path)


def test_round_trip_of_dumped_questions(tmp_path):
    (q,) = load_questions(write_lines(tmp_path / "q.jsonl", [SHARED_RECORD]))
    (again,) = load_questions(write_lines(tmp_path / "dump.jsonl", [q.model_dump()]))
    assert again == q


def test_sample_is_deterministic_and_ordered():
    questions = [Question(id=str(i), question=f"q{i}", answers=["a"], language="en") for i in range(20)]
    sample = sample_questions(questions, 5, seed=7)
    assert len(sample) == 5 and sample == sample_questions(questions, 5, seed=7)
    ids = [int(q.id) for q in sample]
    assert ids == sorted(ids)
    assert sample_questions(questions, 50, seed=1) == questions
    assert sample_questions(questions, None) == questions
    assert sample_questions(questions, 0) == []
    assert sample_questions(questions, 5, seed=8) != sample
    with pytest.raises(ValueError):
        sample_questions(questions, -1)


def test_real_squad_en_it_file(tmp_path):
    source = SHARED_DATA / "squad_en_it" / "queries_en_dev.jsonl"
    if not source.exists():
        pytest.skip(f"shared data not available: {source} (expected ../shared/data beside the project)")
    with source.open(encoding="utf-8") as handle:
        head = list(islice(handle, 50))
    path = tmp_path / "head.jsonl"
    path.write_text("".join(head), encoding="utf-8")
    questions = load_questions(path)
    assert len(questions) == len([line for line in head if line.strip()]) > 0
    raw = [json.loads(line) for line in head if line.strip()]
    for q, rec in zip(questions, raw):
        assert q.id == rec["id"] and q.language == "en" and q.answerable
        assert set(rec["answers"]) <= set(q.answers) and set(rec["answers_en"]) <= set(q.answers)
        assert q.answer_en and q.gold_doc_ids and q.gold_sentences
        for doc_id, start, end in q.gold_sentence_spans:
            assert doc_id in q.gold_doc_ids and 0 <= start < end
