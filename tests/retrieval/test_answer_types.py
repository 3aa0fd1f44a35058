"""Expected answer kinds: question words asking for dates and numbers, and the
boost of candidate sentences holding one."""

import pytest


def test_question_words_ask_for_dates_and_numbers():
    from assistant.retrieval.answer_types import asked_type, holds_type

    assert asked_type("Quando aprirà la linea M4?") == asked_type("In what year did it open?") == "date"
    assert asked_type("Quanti soldati perse Napoleone?") == asked_type("How much did it cost?") == "number"
    assert asked_type("Chi guida la NATO?") is None and asked_type("Who leads NATO?") is None
    assert holds_type("La linea aprirà il 12 ottobre.", "date") and holds_type("Nel 1973 iniziò la crisi.", "date")
    assert holds_type("Si è riunito lunedì.", "date") and holds_type("The port reopened on Tuesday.", "date")
    assert not holds_type("Il sindaco ha parlato dei lavori.", "date")
    assert holds_type("Sono costati due miliardi.", "number") and holds_type("It has 10 turbines.", "number")
    assert not holds_type("The harbour master spoke.", "number")


@pytest.mark.slow
def test_sentences_holding_what_the_question_asks_for_gain_the_boost(helper, monkeypatch):
    question = "Quando si è riunito il consiglio comunale?"
    plain_settings = helper.retriever.settings.model_copy(update={"answer_type_boost": 0.0})
    monkeypatch.setattr(helper.retriever, "settings", plain_settings)
    plain = {h.sentence.id: h.score for h in helper.retriever.retrieve(question, "it", top_k=40)}
    monkeypatch.setattr(helper.retriever, "settings", plain_settings.model_copy(update={"answer_type_boost": 0.3}))
    boosted = {h.sentence.id: h.score for h in helper.retriever.retrieve(question, "it", top_k=40)}
    assert boosted["metro-s000"] == pytest.approx(plain["metro-s000"] + 0.3)  # "lunedì"
    assert boosted["metro-s001"] == pytest.approx(plain["metro-s001"] + 0.3)  # "12 ottobre"
    assert boosted["metro-s002"] == pytest.approx(plain["metro-s002"])  # no date
