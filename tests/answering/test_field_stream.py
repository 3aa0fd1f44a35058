"""Following the answer field of the model's JSON reply while it streams, and
the source numbers cited so far."""

from __future__ import annotations

import json

from assistant.answering.cite import parse_reply
from assistant.answering.field_stream import AnswerFieldStream


def test_stream_knows_citations_as_soon_as_they_are_complete():
    stream = AnswerFieldStream()
    seen = []
    for piece in ['{"citations": [2', ', 5', ']', ', "answer": "Rutte [', '3] parla', ' [1, 2]."}']:
        stream.feed(piece)
        seen.append(stream.cited())
    assert seen == [[], [], [2, 5], [2, 5], [2, 5, 3], [2, 5, 3, 1]]
    assert parse_reply(stream.raw).numbers == seen[-1]  # the same numbers as the final parse


def test_answer_field_stream_follows_any_chunking():
    raw = json.dumps({"citations": [1], "answer": "Città \"già\" citata\nda Peskov — ü"}, ensure_ascii=True)
    for size in (1, 2, 3, 7, len(raw)):
        stream = AnswerFieldStream()
        text = "".join(stream.feed(raw[i:i + size]) for i in range(0, len(raw), size))
        assert text == "Città \"già\" citata\nda Peskov — ü"
        assert stream.raw == raw


def test_stream_of_sentences_yields_their_text_and_each_sources_list_once_closed():
    raw = json.dumps({"answer": [{"sentence": "Rutte guida la NATO.", "sources": [2, 5]},
                                 {"sentence": "Peskov \"risponde\".", "sources": [1]}]})
    for size in (1, 4, 9, len(raw)):
        stream = AnswerFieldStream()
        seen, text = [], ""
        for i in range(0, len(raw), size):
            text += stream.feed(raw[i:i + size])
            seen.append(stream.cited())
        assert text == 'Rutte guida la NATO. Peskov "risponde".' == parse_reply(raw).answer
        assert seen[-1] == [2, 5, 1] == parse_reply(raw).numbers
    # the first sentence's sources are known as soon as the second sentence begins
    stream = AnswerFieldStream()
    assert stream.feed(raw[:raw.index("Peskov") + 1]) == "Rutte guida la NATO. P"
    assert stream.cited() == [2, 5]
