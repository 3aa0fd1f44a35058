"""The conflict test set: copies of answering passages with the answer replaced
by another value of the same kind, and as many questions left alone."""

from __future__ import annotations

import json

import pytest

from assistant.evaluate.conflict_set import COPY_SOURCE, answer_kind, build
from assistant.evaluate.questions import load_questions


@pytest.mark.parametrize("answer,kind", [("1973", "date"), ("7 gennaio 2014", "date"), ("84 ore", "number"),
                                         ("tre", "number"), ("Giovanni Paolo II", "name"), ("Genova", "name"),
                                         ("gene CYP27B1", None), ("per evitare il boicottaggio", None),
                                         ("Pac-12", None)])
def test_answer_kinds(answer, kind):
    assert answer_kind(answer) == kind


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_copies_replace_the_answer_with_another_value_of_its_kind(tmp_path):
    passages, questions = [], []
    for i, (year, city) in enumerate([("1911", "Torino"), ("1927", "Napoli"), ("1948", "Bari"), ("1960", "Roma")]):
        body = f"Il museo di {city} fu fondato nel {year} da un gruppo di mercanti."
        passages.append({"id": f"p{i}", "source": "wiki", "body": body})
        start = body.index(year)
        questions.append({"id": f"q{i}", "question": f"Quando fu fondato il museo di {city}?", "answer": year,
                          "answers": [year], "evidence": [{"doc_id": f"p{i}", "answer_start": start,
                                                           "answer_end": start + 4}]})
    _write(tmp_path / "corpus.jsonl", passages)
    _write(tmp_path / "questions.jsonl", questions)
    report = build(tmp_path / "corpus.jsonl", tmp_path / "questions.jsonl", tmp_path / "out", n=2, seed=1)
    assert report["conflicted"] == 2 and report["unconflicted"] == 2 and report["kinds"]["date"] == 2
    corpus = [json.loads(line) for line in (tmp_path / "out" / "corpus.jsonl").open()]
    copies = [r for r in corpus if r["id"].endswith("-copy")]
    assert len(corpus) == 6 and len(copies) == 2 and all(c["source"] == COPY_SOURCE for c in copies)
    loaded = load_questions(tmp_path / "out" / "questions.jsonl")
    conflicted = [q for q in loaded if q.conflicting_answers]
    assert len(conflicted) == 2 and len(loaded) == 4
    by_id = {r["id"]: r for r in corpus}
    for q in conflicted:
        copy = by_id[f"{q.gold_doc_ids[0]}-copy"]
        original = by_id[q.gold_doc_ids[0]]
        value = q.conflicting_answers[0]
        assert value not in q.answers and value in copy["body"] and q.answers[0] not in copy["body"]
        assert copy["body"] == original["body"].replace(q.answers[0], value)
    # questions on passages left alone have no copy
    assert all(f"{q.gold_doc_ids[0]}-copy" not in by_id for q in loaded if not q.conflicting_answers)


def test_an_answer_that_is_part_of_a_word_makes_no_copy(tmp_path):
    """A copy replaces whole words: an answer span inside a word ("Dorito" in "Doritos", "8" in
    "282") would leave the answering sentence unchanged, so the question is not used."""
    passages = [{"id": "p0", "source": "wiki", "body": "Lo sponsor era Doritos da molti anni."},
                {"id": "p1", "source": "wiki", "body": "Lo sponsor era Pepsi da molti anni."},
                {"id": "p2", "source": "wiki", "body": "Lo sponsor era Nike da molti anni."}]
    questions = [{"id": f"q{i}", "question": "Quale marchio era lo sponsor?", "answer": a, "answers": [a],
                  "evidence": [{"doc_id": f"p{i}", "answer_start": 15, "answer_end": 15 + len(a)}]}
                 for i, a in enumerate(["Dorito", "Pepsi", "Nike"])]
    _write(tmp_path / "corpus.jsonl", passages)
    _write(tmp_path / "questions.jsonl", questions)
    for seed in range(8):  # whichever way the candidates are shuffled
        out = tmp_path / f"out{seed}"
        assert build(tmp_path / "corpus.jsonl", tmp_path / "questions.jsonl", out, n=1, seed=seed)["conflicted"] == 1
        assert "q0" not in {json.loads(line)["id"] for line in (out / "questions.jsonl").open()}
