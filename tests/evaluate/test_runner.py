"""The evaluation runner on the seed dispatch with the real embedder: scoring,
resume after an interruption, torn result lines, run identity, model faults."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from assistant.evaluate.questions import Question
from assistant.evaluate.runner import (EvalAborted, EvalOptions, EvalRunner, MAX_CONSECUTIVE_ERRORS,
                                       gold_sentence_ids, read_results)
from assistant.core import Assistant
from assistant.domain import Answer, Dispatch, Sentence, SentenceHit
from assistant.llms.base import ChatBackend, LLMError
from assistant.query.translate import QuestionTranslator
from assistant.settings import RetrievalSettings
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
SEED_IT = ROOT / "evals" / "seed_it.jsonl"
SEED_DOC = "d4d6082e06082f5e"


class Interrupting:
    """The real assistant, interrupted (like Ctrl-C) at the n-th retrieval
    (``retrieve`` or ``search``), counting calls."""

    def __init__(self, helper, stop_at: int | None = None):
        self._helper, self.stop_at, self.calls = helper, stop_at, 0
        self.settings, self.catalog = helper.settings, helper.catalog

    def __getattr__(self, name):
        return getattr(self._helper, name)

    def _count(self) -> None:
        self.calls += 1
        if self.stop_at is not None and self.calls == self.stop_at:
            raise KeyboardInterrupt

    def retrieve(self, *args, **kwargs):
        self._count()
        return self._helper.retrieve(*args, **kwargs)

    def search(self, *args, **kwargs):
        self._count()
        return self._helper.search(*args, **kwargs)


class ModelDown(Interrupting):
    """Retrieval works, the model always fails."""

    def answer(self, found):
        raise LLMError("the model server is not reachable")


def _options(tmp_path: Path, **kw) -> EvalOptions:
    return EvalOptions(questions=SEED_IT, out=tmp_path / "run", retrieval_only=True, **kw)


@pytest.mark.slow
def test_retrieval_only_run_scores_every_question(seed_assistant, tmp_path):
    records = EvalRunner(seed_assistant, _options(tmp_path)).run(progress=False)
    assert [r["id"] for r in records] == [json.loads(line)["id"] for line in SEED_IT.read_text().splitlines()]
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    assert len(answerable) == 8 and len(unanswerable) == 4
    for r in answerable:
        assert r["gold_doc_ids"] == [SEED_DOC]
        assert r["gold_sentence_ids"], r["id"]
        assert all(s.startswith(f"{SEED_DOC}-s") for s in r["gold_sentence_ids"])
        assert r["doc_hit@1"] == 1.0  # a single dispatch is indexed
        assert 0.0 <= r["mrr@10"] <= 1.0 and r["hit@10"] in (0.0, 1.0)
        assert r["answer_hit@5"] in (0.0, 1.0)
    assert next(r for r in records if r["id"] == "seed-it-01")["gold_sentence_ids"] == [f"{SEED_DOC}-s000"]
    # the gold answers are spans of the seed dispatch, so they sit in its top 5 sentences (all 8 do)
    assert sum(r["answer_hit@5"] for r in answerable) >= 7, [r["answer_hit@5"] for r in answerable]
    for r in unanswerable:
        assert "hit@5" not in r and "answer_hit@5" not in r
    # "a gennaio 2026" becomes a date filter, as in ask; the seed dispatch is of 3 February 2026
    dated = next(r for r in records if r["id"] == "seed-it-u1")
    assert dated["ranked"] == [] and dated["top_dense"] is None and dated["abstain_reason"] == "no_sources"
    assert all(r["top_dense"] is not None for r in unanswerable if r is not dated)


@pytest.mark.slow
def test_retrieval_only_run_records_the_relevance_decision(seed_assistant, tmp_path):
    records = EvalRunner(seed_assistant, _options(tmp_path)).run(progress=False)
    for r in records:
        assert r["abstained"] == float(r["abstain_reason"] is not None)
        assert r["abstain_reason"] in (None, "low_relevance", "no_sources")
        assert (r["abstain_reason"] == "no_sources") == (r["ranked"] == [])
    # the questions the seed dispatch cannot answer fall under the relevance threshold; at most
    # two of its eight answerable ones do (their best cosines are 0.84-0.85, the threshold 0.85)
    assert all(r["abstained"] for r in records if not r["answerable"])
    assert sum(r["abstained"] for r in records if r["answerable"]) <= 2


@pytest.mark.slow
@pytest.mark.parametrize("hold_out", ["paragraph", "article"])
def test_held_out_evidence_makes_every_question_one_to_decline(seed_assistant, tmp_path, hold_out):
    records = EvalRunner(seed_assistant, _options(tmp_path, hold_out=hold_out)).run(progress=False)
    answerable_in_the_set = [r for r in records if r["filters"]["exclude_doc_ids"]]
    assert len(answerable_in_the_set) == 8  # the four unanswerable questions have no evidence to hold out
    for r in answerable_in_the_set:
        assert r["answerable"] is False and r["filters"]["exclude_doc_ids"] == [SEED_DOC]
        assert r["ranked"] == [] and r["abstained"] == 1.0 and r["abstain_reason"] == "no_sources"
        assert "hit@5" not in r and "doc_hit@5" not in r and "answer_hit@5" not in r
    assert json.loads((tmp_path / "run" / "run.json").read_text())["hold_out"] == hold_out


class RecordingAsks(Interrupting):
    """Retrieval works; each search is recorded and its answer declined without a model."""

    def __init__(self, helper):
        super().__init__(helper)
        self.asked: list[dict] = []

    def search(self, question, filters=None, top_k=None, reference_date=None, depth=None):
        self.asked.append({"question": question, "reference_date": reference_date})
        return super().search(question, filters, top_k, reference_date, depth)

    def answer(self, found):
        return Answer(question=found.question, answer="-", language="it", abstained=True,
                      abstain_reason="low_relevance")


@pytest.mark.slow
def test_with_evidence_keeps_the_questions_that_name_it_and_dates_count_from_the_question(seed_assistant,
                                                                                           tmp_path):
    lines = SEED_IT.read_text(encoding="utf-8").splitlines()
    dated = [json.dumps({**json.loads(line), "question_date": "2026-02-03"}) for line in lines[:2]]
    questions = tmp_path / "dated.jsonl"
    questions.write_text("\n".join(dated + lines[2:]) + "\n", encoding="utf-8")
    helper = RecordingAsks(seed_assistant)
    options = EvalOptions(questions=questions, out=tmp_path / "run", with_evidence=True)
    records = EvalRunner(helper, options).run(progress=False)
    assert len(records) == 8 and all(r["gold_doc_ids"] == [SEED_DOC] for r in records)
    assert [a["reference_date"] for a in helper.asked] == [date(2026, 2, 3)] * 2 + [None] * 6
    assert json.loads((tmp_path / "run" / "run.json").read_text())["with_evidence"] is True


def test_gold_sentences_from_spans_then_from_text():
    sentences = {"d": [Sentence(id="d-s000", doc_id="d", index=0, text="Alpha beta.", char_start=0, char_end=11),
                       Sentence(id="d-s001", doc_id="d", index=1, text="Gamma delta.", char_start=12, char_end=24)]}
    by_span = Question(id="1", question="q", language="it", gold_sentence_spans=[("d", 12, 24)])
    by_text = Question(id="2", question="q", language="it", gold_doc_ids=["d"], gold_sentences=["Alpha  beta."])
    nothing = Question(id="3", question="q", language="it", gold_doc_ids=["d"], gold_sentences=["Omega."])
    lookup = lambda doc: sentences.get(doc, [])  # noqa: E731
    assert gold_sentence_ids(lookup, by_span) == {"d-s001"}
    assert gold_sentence_ids(lookup, by_text) == {"d-s000"}
    assert gold_sentence_ids(lookup, nothing) == set()


def test_an_updated_question_is_scored_on_what_is_read_first_and_on_the_answer_proper():
    from assistant.evaluate.runner import answer_metrics

    question = Question(id="u", question="Quanti morti?", language="it", answers=["135"],
                        conflicting_answers=["120"], conflict_mode="updated")
    note = "Il dispaccio più recente (ANSA, 2023-02-08) riporta 135 [1]."
    led = Answer(question="Quanti morti?", answer=f"{note} Il bilancio è di 120 morti [2].", language="it",
                 abstained=False, conflict_note=note)
    scores = answer_metrics(led, question, set())
    assert scores["latest_first"] == 1.0 and scores["superseded_answer"] == 1.0
    after = Answer(question="Quanti morti?", answer="Il bilancio è di 120 morti [2]. Poi 135 [1].", language="it",
                   abstained=False)
    assert answer_metrics(after, question, set())["latest_first"] == 0.0
    disagree = question.model_copy(update={"conflict_mode": None})
    assert "latest_first" not in answer_metrics(led, disagree, set())


class CountingRetriever:
    """Ranked sentences of one made-up dispatch, recording each search and the translation it was given."""

    def __init__(self):
        self.searches: list[tuple[str, tuple[str, str] | None]] = []
        self.catalog = type("Catalog", (), {"language_counts": lambda _self: {"en": 9, "it": 1},
                                            "has_dated_dispatches": lambda _self: False})()

    def retrieve(self, question, language, top_k=None, filters=None, neighbours=None, translation=None):
        return self.retrieve_depths(question, language, [top_k], filters, neighbours, translation)[0]

    def retrieve_depths(self, question, language, depths, filters=None, neighbours=None, translation=None):
        self.searches.append((question, translation))
        dispatch = Dispatch(id="d", body="-", language="en")
        return [[SentenceHit(sentence=Sentence(id=f"d-s{i:03d}", doc_id="d", index=i, text=f"Sentence {i}.",
                                               char_start=0, char_end=1),
                             dispatch=dispatch, score=1.0 - i / 100, dense=0.95 - i / 1000)
                 for i in range(depth or 8)] for depth in depths]


class Scripted(ChatBackend):
    """Translates every question into one English text and answers citing source 1."""

    def stream(self, messages, schema=None, max_tokens=None):
        yield "In English?" if messages[0]["content"].startswith("Translate") else \
            json.dumps({"citations": [1], "answer": "Sentence 0."})


class CountingTranslator(QuestionTranslator):
    """The real translator (which keeps recent translations), counting the questions it is asked."""

    asked = 0

    def translate(self, question, target, *args, **kwargs):
        self.asked += 1
        return super().translate(question, target, *args, **kwargs)


def test_answer_mode_searches_and_translates_each_question_once(tmp_path):
    helper = Assistant(make_settings(tmp_path / "home", retrieval=RetrievalSettings(translate_questions=True)))
    retriever, llm = CountingRetriever(), Scripted()
    translator = CountingTranslator(helper.settings, lambda: llm)
    helper.__dict__.update(retriever=retriever, verifier=None, translator=translator)
    helper._llm = llm
    options = EvalOptions(questions=SEED_IT, out=tmp_path / "run", limit=3)
    records = EvalRunner(helper, options).run(progress=False)
    assert len(records) == 3 and translator.asked == 3
    assert [question for question, _ in retriever.searches] == [r["question"] for r in records]
    assert all(translation == ("In English?", "en") for _, translation in retriever.searches)
    top_k = helper.settings.retrieval.top_k
    for r in records:  # the metrics over the ranked hits to RETRIEVAL_DEPTH, the model given the top_k best
        assert [h["sentence_id"] for h in r["ranked"]] == [f"d-s{i:03d}" for i in range(10)]
        assert [h["sentence_id"] for h in r["retrieved"]] == [f"d-s{i:03d}" for i in range(top_k)]
        assert not r["abstained"] and [c["sentence_id"] for c in r["citations"]] == ["d-s000"]
        assert r["timings"]["retrieval"] <= r["timings"]["total"]


@pytest.mark.slow
def test_interrupted_run_resumes_without_redoing_or_duplicating(seed_assistant, tmp_path):
    options = _options(tmp_path)
    first = Interrupting(seed_assistant, stop_at=5)
    with pytest.raises(KeyboardInterrupt):
        EvalRunner(first, options).run(progress=False)
    results = options.out / "results.jsonl"
    assert len(results.read_text().splitlines()) == 4

    second = Interrupting(seed_assistant)
    records = EvalRunner(second, options).run(progress=False)
    assert second.calls == 8  # only the questions not done before
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(lines) == 12 and len({r["id"] for r in lines}) == 12
    assert len(records) == 12


@pytest.mark.slow
def test_torn_last_line_is_ignored_and_redone(seed_assistant, tmp_path):
    options = _options(tmp_path, limit=3)
    EvalRunner(seed_assistant, options).run(progress=False)
    results = options.out / "results.jsonl"
    lines = results.read_text().splitlines()
    results.write_text("\n".join(lines[:2]) + "\n" + lines[2][: len(lines[2]) // 2])  # cut mid-record
    assert len(read_results(results)) == 2
    again = Interrupting(seed_assistant)
    records = EvalRunner(again, options).run(progress=False)
    assert again.calls == 1 and [r["id"] for r in records] == ["seed-it-01", "seed-it-02", "seed-it-03"]


@pytest.mark.slow
def test_a_different_run_in_the_same_folder_is_refused(seed_assistant, tmp_path):
    EvalRunner(seed_assistant, _options(tmp_path, limit=2)).run(progress=False)
    with pytest.raises(ValueError, match="limit"):
        EvalRunner(seed_assistant, _options(tmp_path, limit=3)).run(progress=False)
    records = EvalRunner(seed_assistant, _options(tmp_path, limit=3, fresh=True)).run(progress=False)
    assert len(records) == 3


@pytest.mark.slow
def test_a_run_with_another_answer_style_is_refused(seed_assistant, tmp_path, monkeypatch):
    EvalRunner(seed_assistant, _options(tmp_path, limit=2)).run(progress=False)
    llm = seed_assistant.settings.llm
    monkeypatch.setattr(llm, "answer_style", "concise" if llm.answer_style == "sentences" else "sentences")
    with pytest.raises(ValueError, match="llm"):
        EvalRunner(seed_assistant, _options(tmp_path, limit=2)).run(progress=False)


@pytest.mark.slow
def test_model_down_stops_the_run_keeping_results_and_retries_on_resume(seed_assistant, tmp_path):
    options = EvalOptions(questions=SEED_IT, out=tmp_path / "run")
    with pytest.raises(EvalAborted, match="not reachable"):
        EvalRunner(ModelDown(seed_assistant), options).run(progress=False)
    failed = read_results(options.out / "results.jsonl")
    assert len(failed) == MAX_CONSECUTIVE_ERRORS and all(r["error"] for r in failed.values())
    retry = ModelDown(seed_assistant)
    with pytest.raises(EvalAborted):
        EvalRunner(retry, options).run(progress=False)
    assert retry.calls == MAX_CONSECUTIVE_ERRORS  # the failed questions are tried again first
