"""Parsing the model's reply: the JSON object (sentences each with their
sources, and the older one-list-per-answer shape), the free-text [n] fallback
(lists, ranges, stray brackets, out-of-range numbers), and resolution against the
sources given."""

from __future__ import annotations

import json

import pytest

from assistant.answering.cite import PER_SENTENCE_SCHEMA, parse_reply, resolve, strip_markers
from assistant.answering.prompting import NumberedSource
from assistant.domain import Dispatch, Sentence, SentenceHit


def _sources(n: int) -> list[NumberedSource]:
    out = []
    for i in range(n):
        s = Sentence(id=f"d-s{i:03d}", doc_id="d", index=i, text=f"Frase {i}.", char_start=i * 10, char_end=i * 10 + 8)
        out.append(NumberedSource(n=i + 1, hit=SentenceHit(sentence=s, dispatch=Dispatch(id="d", body="x"), score=1.0)))
    return out


def test_reply_of_sentences_keeps_each_sentences_sources():
    reply = parse_reply(json.dumps({"answer": [
        {"sentence": "Rutte guida la NATO.", "sources": [2]},
        {"sentence": "Lavrov ha risposto [4].", "sources": [3, 2, True, "1"]},
        {"sentence": "", "sources": [1]},
        "not an object"]}))
    assert [(c.text, c.numbers) for c in reply.claims] == [("Rutte guida la NATO.", [2]),
                                                            ("Lavrov ha risposto.", [3, 2, 4])]
    assert reply.answer == "Rutte guida la NATO. Lavrov ha risposto." and reply.numbers == [2, 3, 4]


def test_schema_writes_each_sentence_before_its_sources():
    item = PER_SENTENCE_SCHEMA["properties"]["answer"]["items"]
    # grammar builders that sort keys must still put the claim first
    assert sorted(item["properties"]) == ["sentence", "sources"] == item["required"]


def test_json_reply_with_citations_and_inline_markers():
    reply = parse_reply('{"citations": [2, 1], "answer": "Rutte guida la NATO [3]."}')
    assert reply.answer == "Rutte guida la NATO." and reply.numbers == [2, 1, 3]


def test_json_reply_wrapped_in_prose_and_bad_citation_types():
    reply = parse_reply('Ecco: {"citations": [1, "2", true, 3.5, 4], "answer": "Sì."} fine')
    assert reply.answer == "Sì." and reply.numbers == [1, 4]


@pytest.mark.parametrize("text,answer,numbers", [
    ("Rutte [1] ha parlato [2].", "Rutte ha parlato.", [1, 2]),
    ("Rutte ha parlato [1, 3].", "Rutte ha parlato.", [1, 3]),
    ("Rutte ha parlato [2-4].", "Rutte ha parlato.", [2, 3, 4]),
    ("Rutte ha parlato [1][2][1].", "Rutte ha parlato.", [1, 2]),
    ("Rutte ha parlato [1 e 3].", "Rutte ha parlato.", [1, 3]),
    ("Rutte ha parlato [ 5 ].", "Rutte ha parlato.", [5]),
    ("Rutte [ha] parlato [", "Rutte [ha] parlato [", []),
    ("Range too wide [1-400].", "Range too wide.", [1, 400]),
])
def test_free_text_markers(text, answer, numbers):
    reply = parse_reply(text)
    assert (reply.answer, reply.numbers) == (answer, numbers)


def test_strip_markers_keeps_punctuation_tidy():
    assert strip_markers("Uno [1] , due [2] .") == ("Uno, due.", [1, 2])


def test_resolve_drops_numbers_outside_the_sources_and_renumbers_by_first_use():
    citations, dropped = resolve([3, 9, 0, 1, 3], _sources(3))
    assert dropped == 2
    assert [(c.n, c.sentence_id) for c in citations] == [(1, "d-s002"), (2, "d-s000")]
