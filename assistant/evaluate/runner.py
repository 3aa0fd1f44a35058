"""Run a question set through the answering service and score every answer.

Results are appended to ``results.jsonl`` one question at a time, so an
interrupted run resumes where it stopped; ``summary.json`` and the reports
are written from the results file at the end."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from tqdm import tqdm

from assistant.answering.cite import strip_markers
from assistant.evaluate.metrics import (answer_hit_at_k, citation_scores, conflict_flagged, dedupe_keep_order,
                                       exact_match, hit_at_k, latest_first, mrr_at_k, question_check_scores,
                                       states_only, token_f1)
from assistant.evaluate.questions import Question, load_questions, sample_questions
from assistant.ingest.readers import fingerprint
from assistant.llms.base import LLMError
from assistant.domain import Filters, SentenceHit

log = logging.getLogger(__name__)

RESULTS = "results.jsonl"
MANIFEST = "run.json"
RETRIEVAL_DEPTH = 40  # sentences retrieved for scoring: enough to rank 10 distinct documents
MAX_CONSECUTIVE_ERRORS = 5


# The model settings that change what an answer says, or what a translated question
# finds (a resumed run must not mix them).
ANSWER_SHAPING = {"citations", "answer_style", "temperature", "max_tokens", "question_max_tokens", "context_window",
                  "model_path", "ollama_model", "openai_model"}
# The index settings that change what is found.
INDEX_SHAPING = {"embed_chunks", "chunk_max_words", "hnsw_ef_search", "hnsw_ef_construction", "hnsw_max_neighbors"}


class EvalOptions(BaseModel):
    """What to run: the question set, the sample, and how deep to go."""

    questions: Path
    corpus: list[Path] = []
    out: Path
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    retrieval_only: bool = False
    top_k: int | None = None
    date_window_days: int | None = None
    language: str | None = None
    hold_out: Literal["article", "paragraph"] | None = None
    with_evidence: bool = False
    well_paired: bool = False
    fresh: bool = False


class EvalAborted(RuntimeError):
    """The run stopped early (e.g. the model kept failing); results so far are kept."""


def read_results(path: Path) -> dict[str, dict]:
    """Per question id the last complete record of a results file (a torn last line is ignored)."""
    records: dict[str, dict] = {}
    if not path.exists():
        return records
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interruption
            if isinstance(record, dict) and "id" in record:
                records[str(record["id"])] = record
    return records


def select_questions(options: EvalOptions, embedder=None) -> list[Question]:
    """The questions of the run: the whole set (only those with gold evidence
    when ``with_evidence``), a seeded sample of it, less the cross-lingual
    questions whose gold answers answer another question when ``well_paired``
    (``embedder`` compares the paired questions, see pairing.py), then the first ``limit``."""
    questions = load_questions(options.questions)
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{options.questions}: question ids are not unique")
    if options.with_evidence:
        questions = [q for q in questions if q.gold_doc_ids]
    questions = sample_questions(questions, options.sample, options.seed)
    if options.well_paired:
        questions = _well_paired(options.questions, questions, embedder)
    if options.language:
        questions = [q.model_copy(update={"language": options.language}) for q in questions]
    return questions[: options.limit] if options.limit is not None else questions


def _well_paired(path: Path, questions: list[Question], embedder) -> list[Question]:
    from assistant.evaluate.pairing import configured_embedder, well_paired

    wanted = {q.id for q in questions}
    with Path(path).open(encoding="utf-8") as handle:
        raw = [r for r in (json.loads(line) for line in handle if line.strip()) if str(r.get("id")) in wanted]
    paired = {str(r["id"]) for r, ok in zip(raw, well_paired(raw, embedder or configured_embedder())) if ok}
    return [q for q in questions if q.id in paired]


def gold_sentence_ids(sentences_of: Callable[[str], list], question: Question) -> set[str]:
    """Our sentence ids that hold the question's gold evidence: sentences overlapping a
    gold span, else sentences of a gold document whose text contains or is contained
    in a gold sentence."""
    found: set[str] = set()
    for doc_id, start, end in question.gold_sentence_spans:
        for s in sentences_of(doc_id):
            if s.char_start < end and start < s.char_end:
                found.add(s.id)
    if found or not question.gold_sentences:
        return found
    golds = [" ".join(g.split()) for g in question.gold_sentences]
    for doc_id in question.gold_doc_ids:
        for s in sentences_of(doc_id):
            text = " ".join(s.text.split())
            if any(text and (text in g or g in text) for g in golds):
                found.add(s.id)
    return found


def _filters(question: Question, window: int | None) -> Filters:
    if window is None or not question.question_date:
        return Filters()
    day = date.fromisoformat(question.question_date[:10])
    return Filters(since=day - timedelta(days=window), until=day)


def held_out_ids(corpus, question: Question, hold_out: str | None) -> list[str]:
    """The dispatches left out of retrieval for ``question``: its gold
    dispatches ("paragraph"), or with every dispatch titled as one of them
    ("article": the whole source article, not just the passage that answers)."""
    if hold_out is None:
        return []
    gold = set(question.gold_doc_ids)
    if hold_out == "article":
        gold |= corpus.ids_with_titles(d.title for d in corpus.dispatches(gold).values())
    return sorted(gold)


def _texts(corpus, ids: list[str]) -> list[str]:
    """The sentences' texts in the order of ``ids`` ("" for one no longer indexed)."""
    found = corpus.sentences(ids)
    return [found[i].text if i in found else "" for i in ids]


def retrieval_metrics(hits: list[SentenceHit], gold_sentences: set[str], gold_docs: set[str]) -> dict[str, Any]:
    """hit@k and MRR@10 for gold sentences and gold documents over ranked hits."""
    sentence_ids = [h.sentence.id for h in hits]
    doc_ids = dedupe_keep_order(h.sentence.doc_id for h in hits)
    out: dict[str, Any] = {}
    if gold_sentences:
        for k in (1, 5, 10):
            out[f"hit@{k}"] = hit_at_k(sentence_ids, gold_sentences, k)
        out["mrr@10"] = mrr_at_k(sentence_ids, gold_sentences, 10)
    if gold_docs:
        for k in (1, 5, 10):
            out[f"doc_hit@{k}"] = hit_at_k(doc_ids, gold_docs, k)
        out["doc_mrr@10"] = mrr_at_k(doc_ids, gold_docs, 10)
    return out


def answer_metrics(answer, question: Question, gold_sentences: set[str]) -> dict[str, Any]:
    """Answer, citation and abstention metrics of one Answer."""
    text = "" if answer.abstained else strip_markers(answer.answer)[0]
    out: dict[str, Any] = {"abstained": float(answer.abstained)}
    if question.answerable and question.answers:
        out["em"] = exact_match(text, question.answers)
        out["f1"] = token_f1(text, question.answers)
    citations = [c.model_dump(mode="json") for c in answer.citations]
    given = {r["sentence_id"] for r in answer.retrieved}
    if citations:
        out["citation_validity"] = sum(c["sentence_id"] in given for c in citations) / len(citations)
    if question.answerable and not answer.abstained:
        scores = citation_scores(citations, question.answers, question.gold_sentences, gold_sentences)
        out["n_citations"] = scores["n_citations"]
        out["n_correct_citations"] = scores["n_correct"]
        out["citation_precision"] = scores["precision"]
        out["any_correct_citation"] = float(scores["any_correct"])
        if gold_sentences:
            cited = {c["sentence_id"] for c in citations}
            out["citation_recall"] = len(cited & gold_sentences) / len(gold_sentences)
    elif question.answerable:
        out["any_correct_citation"] = 0.0
    sides = [side.model_dump(mode="json") for side in answer.conflicts]
    if question.conflicting_answers:
        out["conflict_flagged"] = float(conflict_flagged(sides, question.answers, question.conflicting_answers))
        if question.conflict_mode == "updated":
            own = text.replace(strip_markers(answer.conflict_note)[0], " ") if answer.conflict_note else text
            out["latest_first"] = float(latest_first(text, question.answers, question.conflicting_answers))
            out["superseded_answer"] = float(states_only(own, question.conflicting_answers, question.answers))
    else:
        out["false_conflict"] = float(bool(sides))
    return out


class EvalRunner:
    """Runs one evaluation into ``options.out`` with a given Assistant."""

    def __init__(self, helper, options: EvalOptions):
        self.helper = helper
        self.options = options
        self.out = options.out
        self.results_path = self.out / RESULTS

    # --- run identity ---------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        o = self.options
        settings = self.helper.settings
        return {
            "questions": str(o.questions), "questions_sha256": fingerprint(o.questions).sha256,
            "corpus": [str(p) for p in o.corpus], "sample": o.sample, "seed": o.seed, "limit": o.limit,
            "retrieval_only": o.retrieval_only, "top_k": o.top_k, "date_window_days": o.date_window_days,
            "language": o.language, "hold_out": o.hold_out, "with_evidence": o.with_evidence,
            **({"well_paired": True} if o.well_paired else {}),
            "embedder": settings.embedder.model, "retrieval": settings.retrieval.model_dump(mode="json"),
            "index": settings.index.model_dump(mode="json", include=INDEX_SHAPING),
            "chunk_weight_applied": self.helper.retrieval_settings.chunk_weight, "retrieval_depth": RETRIEVAL_DEPTH,
            "verification": settings.verification.model_dump(mode="json"),
            "conflicts": settings.conflicts.model_dump(mode="json"),
            "llm_backend": settings.llm.backend, "prompts_dir": str(settings.prompts_dir),
            "llm": settings.llm.model_dump(mode="json", include=ANSWER_SHAPING),
        }

    def _check_manifest(self) -> None:
        path = self.out / MANIFEST
        current = self.manifest()
        if path.exists() and not self.options.fresh:
            previous = json.loads(path.read_text(encoding="utf-8"))
            differing = sorted(k for k in current if k not in ("started_at",) and previous.get(k) != current[k])
            if differing:
                raise ValueError(f"{self.out} holds a different run (differs in: {', '.join(differing)}); "
                                 "use another --out or --fresh to start over")
        elif self.options.fresh and self.results_path.exists():
            self.results_path.unlink()
        path.write_text(json.dumps(current, indent=2, ensure_ascii=False), encoding="utf-8")

    # --- per question ---------------------------------------------------------
    def evaluate(self, question: Question) -> dict[str, Any]:
        """One result record: what was retrieved and answered, with its metrics."""
        helper = self.helper
        filters = _filters(question, self.options.date_window_days)
        held_out = held_out_ids(helper, question, self.options.hold_out)
        if held_out:  # the evidence is out of reach: the right outcome is to decline
            filters = filters.model_copy(update={"exclude_doc_ids": held_out})
            question = question.model_copy(update={"answerable": False})
        gold_sentences = set() if held_out else gold_sentence_ids(helper.sentences_of, question)
        gold_docs = set() if held_out else set(question.gold_doc_ids)
        record: dict[str, Any] = {
            "id": question.id, "question": question.question, "language": question.language,
            "question_type": question.question_type, "answerable": question.answerable,
            "gold_answers": question.answers, "gold_doc_ids": sorted(gold_docs),
            "gold_sentence_ids": sorted(gold_sentences), "filters": filters.model_dump(mode="json"),
        }
        # "this week" in a dated question counts from the day it was asked
        asked_on = date.fromisoformat(question.question_date[:10]) if question.question_date else None
        started = time.perf_counter()
        if self.options.retrieval_only:
            found, hits = None, helper.retrieve(question.question, filters, top_k=RETRIEVAL_DEPTH,
                                                reference_date=asked_on)
        else:  # one search serves the retrieval metrics and the answer
            found = helper.search(question.question, filters, top_k=self.options.top_k, reference_date=asked_on,
                                  depth=RETRIEVAL_DEPTH)
            hits = found.ranked
        retrieval_seconds = time.perf_counter() - started
        record["ranked"] = [{"sentence_id": h.sentence.id, "doc_id": h.sentence.doc_id, "score": round(h.score, 6),
                             "dense": None if h.dense is None else round(h.dense, 6)} for h in hits[:10]]
        dense = [h.dense for h in hits if h.dense is not None]
        record["top_dense"] = max(dense) if dense else None
        record.update(retrieval_metrics(hits, gold_sentences, gold_docs))
        if question.answerable and question.answers:
            record["answer_hit@5"] = answer_hit_at_k([h.sentence.text for h in hits], question.answers, 5)
        if found is None:
            # what the answering service would decide before any model call
            reason = helper.relevance_decline(question.question, hits[:self.options.top_k or
                                                                     helper.settings.retrieval.top_k])
            record.update({"abstained": float(reason is not None), "abstain_reason": reason,
                           "timings": {"retrieval": retrieval_seconds}})
            return record
        answer = helper.answer(found)
        record.update({
            "answer": answer.answer, "abstain_reason": answer.abstain_reason, "backend": answer.backend,
            "translated_question": answer.translated_question,
            "citations": [{"n": c.n, "sentence_id": c.sentence_id, "doc_id": c.doc_id, "text": c.text}
                          for c in answer.citations],
            "retrieved": answer.retrieved, "dropped_citations": answer.dropped_citations,
            "context_tokens": answer.context_tokens, "timings": answer.timings,
            "checks": answer.checks,
            "judged": answer.judged,
            "retrieved_texts": _texts(helper, [r["sentence_id"] for r in answer.retrieved]),
            "conflicts": [side.model_dump(mode="json") for side in answer.conflicts],
            "conflict_kind": answer.conflict_kind, "conflict_note": answer.conflict_note,
        })
        record.update(answer_metrics(answer, question, gold_sentences))
        if question.answerable and question.answers:
            check = question_check_scores(answer.checks, record["retrieved_texts"],
                                          [r["sentence_id"] for r in answer.retrieved], question.answers,
                                          gold_sentences)
            record.update({"n_question_dropped": check["dropped"], "n_question_dropped_wrong": check["dropped_wrong"],
                           "declined_irrelevant": float(answer.abstain_reason == "irrelevant_citations")})
        return record

    # --- the loop ----------------------------------------------------------------
    def run(self, progress: bool = True) -> list[dict]:
        """Evaluate every question not yet done; return all records in question order."""
        self.out.mkdir(parents=True, exist_ok=True)
        self._check_manifest()
        questions = select_questions(self.options, self.helper.embedder if self.options.well_paired else None)
        done = {k: v for k, v in read_results(self.results_path).items() if not v.get("error")}
        todo = [q for q in questions if q.id not in done]
        if done:
            log.info("resuming: %d of %d questions already done", len(questions) - len(todo), len(questions))
        failures = 0
        with self.results_path.open("a", encoding="utf-8") as sink, \
                tqdm(total=len(questions), initial=len(questions) - len(todo), desc="questions", unit="q",
                     disable=not progress, dynamic_ncols=True) as bar:
            for question in todo:
                try:
                    record = self.evaluate(question)
                    failures = 0
                except LLMError as exc:
                    failures += 1
                    record = {"id": question.id, "question": question.question, "error": str(exc)}
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()
                done[question.id] = record
                bar.update(1)
                if failures >= MAX_CONSECUTIVE_ERRORS:
                    raise EvalAborted(f"stopped after {failures} model errors in a row; last: {record['error']}. "
                                      "Results so far are kept; re-run the same command to resume.")
        return [done[q.id] for q in questions if q.id in done]
