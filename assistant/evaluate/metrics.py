"""Pure evaluation metrics: answer matching, retrieval ranking, citation
correctness, latency percentiles and the aggregate over a question set."""

from __future__ import annotations

import math
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from llama_index.core.evaluation.retrieval.metrics import MRR, HitRate

ARTICLES = frozenset({"a", "an", "the", "il", "lo", "la", "i", "gli", "le", "l", "un", "uno", "una"})
# Characters turned into a space (so elisions and compounds split into tokens);
# every other punctuation mark is deleted, as in the SQuAD evaluation script.
_APOSTROPHES = "'’‘`ʼ′"
_SEPARATORS = set(_APOSTROPHES) | {"/", "\\"}
_ASCII_PUNCT = set(string.punctuation)


def _punct_replacement(ch: str) -> str | None:
    """' ' for separators, '' for other punctuation, None to keep the character."""
    category = unicodedata.category(ch)
    if ch in _SEPARATORS or category == "Pd":
        return " "
    if ch in _ASCII_PUNCT or category.startswith("P"):
        return ""
    return None


def normalize_answer(text: str) -> str:
    """Lowercase, strip accents and punctuation, drop Italian/English articles, collapse spaces.

    Apostrophes, dashes and slashes become spaces ("l'uomo" -> "uomo"), other
    punctuation is deleted ("U.S." -> "us", "1,000" -> "1000")."""
    decomposed = unicodedata.normalize("NFKD", (text or "").lower())
    chars: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        repl = _punct_replacement(ch)
        chars.append(ch if repl is None else repl)
    return " ".join(tok for tok in "".join(chars).split() if tok not in ARTICLES)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised gold answer, else 0.0."""
    pred = normalize_answer(prediction)
    return max((float(pred == normalize_answer(g)) for g in golds), default=0.0)


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token-overlap F1 between prediction and the best-matching gold answer."""
    pred = normalize_answer(prediction).split()
    return max((_f1(pred, normalize_answer(g).split()) for g in golds), default=0.0)


def dedupe_keep_order(ids: Iterable[str]) -> list[str]:
    """The ids without repeats, each at its first position (e.g. documents from sentence hits)."""
    return list(dict.fromkeys(ids))


def _top_k(ranked_ids: Sequence[str], k: int) -> list[str]:
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    return dedupe_keep_order(ranked_ids)[:k]


def hit_at_k(ranked_ids: Sequence[str], gold_ids: set[str], k: int) -> float:
    """1.0 when a gold id is among the first k distinct ranked ids, else 0.0 (llama-index HitRate)."""
    top = _top_k(ranked_ids, k)
    if not gold_ids or not top:
        return 0.0
    return HitRate().compute(expected_ids=list(gold_ids), retrieved_ids=top).score


def mrr_at_k(ranked_ids: Sequence[str], gold_ids: set[str], k: int = 10) -> float:
    """Reciprocal rank of the first gold id among the first k distinct ranked ids, 0.0 if none (llama-index MRR)."""
    top = _top_k(ranked_ids, k)
    if not gold_ids or not top:
        return 0.0
    return MRR().compute(expected_ids=list(gold_ids), retrieved_ids=top).score


def _contains(haystack: str, needle: str) -> bool:
    """Token-boundary containment of two normalised strings."""
    return bool(needle) and f" {needle} " in f" {haystack} "


def _holds_answer(normalised: str, golds: Sequence[str]) -> bool:
    """Whether a gold answer, normalised, occurs on token boundaries in the normalised text."""
    return any(_contains(normalised, normalize_answer(g)) for g in golds)


def answer_hit_at_k(texts: Sequence[str], golds: Sequence[str], k: int) -> float:
    """1.0 when a gold answer occurs in one of the first k texts, else 0.0:
    retrieval judged by the answer, not by the gold passage."""
    return float(any(_holds_answer(normalize_answer(t), golds) for t in texts[:k]))


def citation_correct(cited_text: str, cited_sentence_id: str | None, golds: Sequence[str],
                     gold_sentence_texts: Sequence[str], gold_sentence_ids: set[str]) -> bool:
    """Whether a cited sentence contains a gold answer or is (one of) the gold sentence(s).

    The gold sentence is recognised by id; when either side has no ids, by
    normalised text equality or one text containing the other."""
    cited = normalize_answer(cited_text)
    if _holds_answer(cited, golds):
        return True
    if cited_sentence_id is not None and gold_sentence_ids:
        return cited_sentence_id in gold_sentence_ids
    if not cited:
        return False
    for gold_text in gold_sentence_texts:
        gold = normalize_answer(gold_text)
        if gold and (_contains(cited, gold) or _contains(gold, cited)):
            return True
    return False


def citation_scores(citations: Sequence[Mapping], golds: Sequence[str],
                    gold_sentence_texts: Sequence[str], gold_sentence_ids: set[str]) -> dict:
    """Counts of citations and correct ones, their precision (None without citations)
    and whether any is correct; each citation has "text" and "sentence_id"."""
    correct = sum(
        citation_correct(c.get("text") or "", c.get("sentence_id"), golds, gold_sentence_texts, gold_sentence_ids)
        for c in citations)
    n = len(citations)
    return {"n_citations": n, "n_correct": correct,
            "precision": correct / n if n else None, "any_correct": correct > 0}


def question_check_scores(checks: Sequence[Mapping], texts: Sequence[str], sentence_ids: Sequence[str],
                          golds: Sequence[str], gold_sentence_ids: set[str]) -> dict[str, int]:
    """How many supported citations the question check removed from an answer
    (``dropped``) and how many of those were wrong (``dropped_wrong``); numbers
    index ``texts``/``sentence_ids`` from 1."""
    removed = {n for c in checks for n in c.get("supported", []) if n not in c.get("shown", c.get("supported", []))}
    removed = {n for n in removed if 0 < n <= len(texts)}
    wrong = sum(not citation_correct(texts[n - 1], sentence_ids[n - 1], golds, [], gold_sentence_ids)
                for n in removed)
    return {"dropped": len(removed), "dropped_wrong": wrong}


def _matches(value: str, golds: Sequence[str]) -> bool:
    """Whether a conflict side's value is one of the gold values (either holding the other)."""
    v = normalize_answer(value)
    return any(g and (_contains(v, g) or _contains(g, v)) for g in map(normalize_answer, golds))


def conflict_flagged(sides: Sequence[Mapping], answers: Sequence[str], conflicting: Sequence[str]) -> bool:
    """Whether an answer's conflict sides include, each with a citation, the value
    of the question's answer and one of the conflicting values."""
    cited = [s for s in sides if s.get("citations")]
    return (any(_matches(s["value"], answers) for s in cited)
            and any(_matches(s["value"], conflicting) for s in cited))


def _first_position(text: str, values: Sequence[str]) -> int | None:
    """Where the first of ``values`` (normalised, on token boundaries) occurs in normalised ``text``."""
    padded = f" {normalize_answer(text)} "
    found = [padded.find(f" {v} ") for v in map(normalize_answer, values) if v]
    found = [i for i in found if i >= 0]
    return min(found) if found else None


def latest_first(text: str, latest: Sequence[str], earlier: Sequence[str]) -> bool:
    """Whether ``text`` states a value of ``latest`` before any of ``earlier``."""
    new, old = _first_position(text, latest), _first_position(text, earlier)
    return new is not None and (old is None or new < old)


def states_only(text: str, values: Sequence[str], others: Sequence[str]) -> bool:
    """Whether ``text`` states one of ``values`` and none of ``others``."""
    return _first_position(text, values) is not None and _first_position(text, others) is None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks; None when empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0 and 100, got {q}")
    data = sorted(float(v) for v in values)
    if not data:
        return None
    pos = (len(data) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return data[low] + (data[high] - data[low]) * (pos - low)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize_latency(timings: Iterable[Mapping[str, float] | None]) -> dict[str, dict[str, float | None]]:
    """Per stage, the p50, p95 and mean of its durations over the dicts that have it."""
    by_stage: dict[str, list[float]] = {}
    for item in timings:
        for stage, seconds in (item or {}).items():
            if seconds is not None:
                by_stage.setdefault(stage, []).append(float(seconds))
    return {stage: {"p50": percentile(vals, 50), "p95": percentile(vals, 95), "mean": _mean(vals)}
            for stage, vals in by_stage.items()}


MEAN_METRICS = ("em", "f1", "hit@1", "hit@5", "hit@10", "mrr@10", "doc_hit@1", "doc_hit@5", "doc_hit@10",
                "doc_mrr@10", "answer_hit@5", "any_correct_citation", "citation_validity", "n_citations",
                "n_correct_citations", "n_question_dropped", "context_tokens")
RATE_METRICS = {"conflict_flag_rate": "conflict_flagged", "false_conflict_rate": "false_conflict",
                "irrelevant_decline_rate": "declined_irrelevant", "latest_first_rate": "latest_first",
                "superseded_answer_rate": "superseded_answer"}


def _present(records: Iterable[Mapping], key: str) -> list[float]:
    return [float(r[key]) for r in records if r.get(key) is not None]


def aggregate(per_question: Sequence[Mapping]) -> dict:
    """Flat dict of metrics over per-question records (see METRIC_DEFINITIONS).

    Means skip questions where the key is absent or None; a metric without any
    data is None. A record without "answerable" counts as answerable."""
    result: dict = {"n_questions": len(per_question)}
    for key in MEAN_METRICS:
        result[key] = _mean(_present(per_question, key))
    cited = [r for r in per_question if r.get("n_citations") is not None]
    total_cited = sum(int(r["n_citations"]) for r in cited)
    total_correct = sum(int(r.get("n_correct_citations") or 0) for r in cited)
    result["citation_precision"] = total_correct / total_cited if total_cited else None
    result["citation_precision_macro"] = _mean(_present(per_question, "citation_precision"))
    dropped = sum(int(r.get("n_question_dropped") or 0) for r in per_question)
    result["question_check_precision"] = (sum(int(r.get("n_question_dropped_wrong") or 0) for r in per_question)
                                          / dropped if dropped else None)
    result["abstention_rate"] = _mean(_present(per_question, "abstained"))
    answerable = [r for r in per_question if r.get("answerable", True) is not False]
    unanswerable = [r for r in per_question if r.get("answerable", True) is False]
    result["abstention_rate_answerable"] = _mean(_present(answerable, "abstained"))
    result["abstention_rate_unanswerable"] = _mean(_present(unanswerable, "abstained"))
    for name, key in RATE_METRICS.items():
        result[name] = _mean(_present(per_question, key))
    result["context_tokens_p50"] = percentile(_present(per_question, "context_tokens"), 50)
    result["latency"] = summarize_latency(r.get("timings") for r in per_question)
    return result


METRIC_DEFINITIONS: dict[str, str] = {
    "n_questions": "Number of questions evaluated.",
    "em": "Exact match: share of answers equal to a gold answer after normalisation "
          "(lowercase, no accents, punctuation or articles).",
    "f1": "Token F1 (SQuAD style) between the normalised answer and the best-matching gold answer, averaged.",
    "hit@1": "Share of questions whose top retrieved sentence is a gold evidence sentence.",
    "hit@5": "Share of questions with a gold evidence sentence among the top 5 retrieved sentences.",
    "hit@10": "Share of questions with a gold evidence sentence among the top 10 retrieved sentences.",
    "mrr@10": "Mean reciprocal rank of the first gold evidence sentence within the top 10 (0 when absent).",
    "doc_hit@1": "Share of questions whose top retrieved document (sentence hits deduplicated by document) is gold.",
    "doc_hit@5": "Share of questions with a gold document among the top 5 distinct retrieved documents.",
    "doc_hit@10": "Share of questions with a gold document among the top 10 distinct retrieved documents.",
    "doc_mrr@10": "Mean reciprocal rank of the first gold document within the top 10 distinct documents.",
    "answer_hit@5": "Share of answerable questions with a gold answer string (normalised, on token boundaries) "
                    "in one of the top 5 retrieved sentences, whichever dispatch they come from.",
    "citation_precision": "Correct citations (the cited sentence contains a gold answer or is a gold evidence "
                          "sentence) divided by all citations, pooled over all questions (micro average).",
    "citation_precision_macro": "Per-question citation precision averaged over questions that cite (macro average).",
    "any_correct_citation": "Share of questions with at least one correct citation.",
    "citation_validity": "Mean fraction of an answer's citation markers that refer to a sentence given in its context.",
    "n_citations": "Mean number of citations per answer.",
    "n_correct_citations": "Mean number of correct citations per answer.",
    "abstention_rate": "Share of questions the assistant declined to answer (in a retrieval-only run: declined "
                       "before any model call, for want of a relevant enough source sentence).",
    "abstention_rate_answerable": "Share of answerable questions the assistant declined to answer (lower is better).",
    "abstention_rate_unanswerable": "Share of unanswerable questions the assistant declined to answer "
                                    "(higher is better).",
    "conflict_flag_rate": "Share of conflicted questions (another indexed source gives another value) whose answer "
                          "says the sources disagree and cites both the question's value and the other one.",
    "latest_first_rate": "Share of questions on an updated dispatch (conflict_mode 'updated': a later version "
                         "of the same sender's dispatch changed the value) whose answer states the newer value "
                         "before any earlier one (declined: not).",
    "superseded_answer_rate": "Share of questions on an updated dispatch whose answer text, without the conflict "
                              "note, states only an earlier value (lower is better).",
    "false_conflict_rate": "Share of questions without a planted conflict whose answer says the sources disagree.",
    "question_check_precision": "Of the supported citations the question check removed (the cited sentence "
                                "does not answer the question), the share that were indeed wrong, pooled.",
    "irrelevant_decline_rate": "Share of answerable questions declined because no supporting citation "
                               "passed the question check (abstain_reason irrelevant_citations).",
    "n_question_dropped": "Mean number of supported citations per answer the question check removed.",
    "context_tokens": "Mean number of tokens of retrieved context put in the prompt.",
    "context_tokens_p50": "Median number of tokens of retrieved context put in the prompt.",
    "latency": "Per pipeline stage, the median (p50), 95th percentile (p95) and mean duration in seconds.",
}
