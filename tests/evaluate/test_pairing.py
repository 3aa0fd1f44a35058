"""Cross-lingual questions whose gold answers answer another question are told
apart from well-paired ones (with the bundled e5 comparing the two questions)."""

from __future__ import annotations

import json

import pytest

from assistant.evaluate.conflict_set import build
from assistant.evaluate.pairing import answers_agree, well_paired
from assistant.index.embedders import build_embedder
from assistant.settings import EmbedderSettings


@pytest.mark.parametrize("english,italian,agree", [
    (["3,837"], ["3.837"], True), (["October 1973"], ["ottobre 1973"], True), (["Vistula"], ["Vistola"], True),
    (["Peyton Manning"], ["Manning"], True), (["Type II hypersensitivity"], ["ipersensibilità di tipo II"], True),
    (["eight"], ["otto"], False), (["Coldplay"], ["Pepsi"], False), (["1873"], ["Tedesco"], False),
    (["26 years old", "26"], ["41 anni", "41"], False)])
def test_answers_agree(english, italian, agree):
    assert answers_agree(english, italian) is agree


def _pair(question, question_it, answers_en, answers):
    return {"question": question, "question_it": question_it, "answers_en": answers_en, "answers": answers}


@pytest.fixture(scope="module")
def embedder():
    return build_embedder(EmbedderSettings())


@pytest.mark.slow
def test_a_translated_question_is_kept_and_another_question_is_not(embedder):
    records = [
        # the answers differ in wording, but the Italian question is the English one translated
        _pair("How many Doctor Who Christmas Specials have been shown?",
              "Quanti Dottore Chi Speciali di Natale sono stati mostrati?", ["eight"], ["otto"]),
        # the Italian side is another question on the paragraph: its gold is not what the English one asks
        _pair("Who lead the halftime show of Super Bowl 50?",
              "Quale azienda ha confermato che Beyoncè avrebbe partecipato al primo semestre del Super Bowl 50?",
              ["Coldplay"], ["Pepsi"]),
        # the answers agree: kept whatever the Italian question says
        _pair("How many interceptions are the Panthers defense credited with in 2015?",
              "Chi ha condotto le Pantere in sacchi?", ["24"], ["24"]),
        {"question": "Quando fu fondato il museo?", "answers": ["1911"]},  # not cross-lingual
    ]
    assert well_paired(records, embedder) == [True, False, True, True]


@pytest.mark.slow
def test_the_conflict_set_leaves_out_badly_paired_questions(tmp_path, embedder):
    corpus, questions = [], []
    for i, (sponsor, question, answer_en) in enumerate([
            ("Pepsi", "Who lead the halftime show of Super Bowl 50?", "Coldplay"),  # the gold answers another question
            ("Nike", "Which company confirmed the show?", "Nike"), ("Adidas", "Which company confirmed the show?",
                                                                    "Adidas"),
            ("Fiat", "Which company confirmed the show?", "Fiat")]):
        body = f"Il gruppo Coldplay guidò lo spettacolo; lo sponsor {sponsor} lo confermò nel 2015."
        corpus.append({"id": f"p{i}", "source": "wiki", "body": body})
        start = body.index(sponsor)
        evidence = [{"doc_id": f"p{i}", "answer_start": start, "answer_end": start + len(sponsor)}]
        questions.append(dict(_pair(question, "Quale azienda ha confermato lo spettacolo?", [answer_en], [sponsor]),
                              id=f"q{i}", answer=sponsor, evidence=evidence))
    for name, records in (("corpus.jsonl", corpus), ("questions.jsonl", questions)):
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    def built(**kwargs):
        report = build(tmp_path / "corpus.jsonl", tmp_path / "questions.jsonl", tmp_path / "out", embedder=embedder,
                       **kwargs)
        return report, {json.loads(line)["id"] for line in (tmp_path / "out" / "questions.jsonl").open()}

    report, ids = built(n=1)
    assert report["left_out_unpaired"] == 1 and "q0" not in ids
    with pytest.raises(ValueError, match="only 2 conflicted and 1 unconflicted"):
        built(n=2)  # three questions are left for four places
    report, ids = built(n=2, check_pairing=False)
    assert report["left_out_unpaired"] == 0 and ids == {"q0", "q1", "q2", "q3"}


@pytest.mark.slow
def test_an_eval_run_can_leave_out_badly_paired_questions(tmp_path, embedder):
    from assistant.evaluate.runner import EvalOptions, select_questions

    records = [dict(_pair("Who lead the halftime show of Super Bowl 50?", "Quale azienda ha confermato lo spettacolo?",
                          ["Coldplay"], ["Pepsi"]), id="q0", answer="Pepsi"),
               dict(_pair("Which company confirmed the show?", "Quale azienda ha confermato lo spettacolo?",
                          ["Pepsi"], ["Pepsi"]), id="q1", answer="Pepsi")]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    chosen = {flag: [q.id for q in select_questions(EvalOptions(questions=path, out=tmp_path / "run",
                                                                 well_paired=flag), embedder)]
              for flag in (False, True)}
    assert chosen == {False: ["q0", "q1"], True: ["q1"]}
