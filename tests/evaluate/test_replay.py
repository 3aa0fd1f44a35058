"""Replaying a recorded answer's sources (assistant/evaluate/replay.py): numbered as
they were given, with the earlier versions collapsed into them."""

from __future__ import annotations

import pytest

from assistant.domain import Dispatch, Sentence
from assistant.evaluate.replay import numbered_sources


class Catalog:
    """Sentences and dispatches by id, as the index's catalog returns them."""

    def __init__(self, texts: dict[str, str]):
        self.by_id = {i: Sentence(id=i, doc_id=i.split(":")[0], index=0, text=t, char_start=0, char_end=len(t))
                      for i, t in texts.items()}

    def sentences(self, ids):
        return {i: self.by_id[i] for i in ids if i in self.by_id}

    def dispatches(self, doc_ids):
        return {d: Dispatch(id=d, body="-", language="it") for d in doc_ids}


CATALOG = Catalog({"new:0": "135 morti.", "old:0": "120 morti.", "other:0": "Altro.", "agi:0": "140 morti."})


def test_sources_come_back_in_order_with_their_earlier_versions():
    record = {"id": "q", "retrieved": [{"sentence_id": "other:0", "score": 0.9},
                                       {"sentence_id": "new:0", "score": 0.8, "dense": 0.7, "earlier": ["old:0"]}]}
    sources = numbered_sources(record, CATALOG)
    assert [(s.n, s.hit.sentence.id) for s in sources] == [(1, "other:0"), (2, "new:0")]
    assert sources[0].hit.earlier == [] and [e.sentence.id for e in sources[1].hit.earlier] == ["old:0"]
    assert sources[1].hit.dense == 0.7


def test_a_record_without_earlier_versions_per_source_keeps_those_a_conflict_cited():
    record = {"id": "q", "retrieved": [{"sentence_id": "new:0", "score": 0.8},
                                       {"sentence_id": "old:0", "score": 0.0, "earlier_version": True}]}
    sources = numbered_sources(record, CATALOG)
    assert [s.hit.sentence.id for s in sources] == ["new:0"]
    assert [e.sentence.id for e in sources[0].hit.earlier] == ["old:0"]


def test_another_agencys_copy_comes_back_beside_its_source_and_is_not_a_source():
    record = {"id": "q", "retrieved": [{"sentence_id": "new:0", "score": 0.8, "copies": ["agi:0"]},
                                       {"sentence_id": "agi:0", "score": 0.0, "other_copy": True}]}
    [source] = numbered_sources(record, CATALOG)
    assert source.hit.sentence.id == "new:0" and source.hit.earlier == []
    assert [(c.sentence.id, c.dispatch.id) for c in source.hit.copies] == [("agi:0", "agi")]


def test_a_source_missing_from_the_index_is_an_error():
    with pytest.raises(ValueError, match="no longer in this index"):
        numbered_sources({"id": "q", "retrieved": [{"sentence_id": "gone:0", "score": 1.0}]}, CATALOG)


def test_the_answer_proper_is_the_text_without_its_conflict_note():
    from assistant.evaluate.replay import own_text

    note = "Il dispaccio più recente (ANSA, 2023-02-08) riporta 135 [1]."
    assert own_text({"answer": f"{note} Il bilancio è di 120 morti [2].", "conflict_note": note},
                    []) == "Il bilancio è di 120 morti [2]."
    older = {"answer": "Il bilancio è di 135 morti [1]. Un dispaccio precedente (ANSA) riportava 120 [2]."}
    assert own_text(older, ["Un dispaccio precedente ("]) == "Il bilancio è di 135 morti [1]."
    assert own_text({"answer": "Nessun disaccordo [1]."}, ["Un dispaccio precedente ("]) == "Nessun disaccordo [1]."
