"""Calibrate the answer verification thresholds from evaluation runs.

Reads the ``results.jsonl`` of one or more ``assistant eval`` runs (answers
generated with verification off, so the model's own citations are kept),
scores every answer sentence against every source sentence the model was
given, and replays the verification policy for a grid of thresholds:

    citation precision   correct shown citations / shown citations
    any correct          answerable questions with >= 1 correct shown citation
    unsupported          answered questions with an answer sentence left unsupported

A citation is correct when the cited sentence contains a gold answer or is a
gold evidence sentence (the evaluation's definition). Prints the grid's best
points and the chosen thresholds: the highest "any correct" with citation
precision >= the target, lowest thresholds on ties.

Usage (index of the run's corpus in ASSISTANT_HOME):
    ASSISTANT_HOME=/path/to/index python scripts/calibrate_verification.py RUN_DIR [RUN_DIR ...] [--target 0.8]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import assistant  # noqa: F401
from assistant.answering.cite import strip_markers
from assistant.core import Assistant
from assistant.evaluate.metrics import citation_correct
from assistant.evaluate.runner import read_results
from assistant.answering.prompting import NumberedSource
from assistant.text.language import answer_language
from assistant.domain import SentenceHit
from assistant.settings import Settings, VerificationSettings
from assistant.answering.verify import Verifier, split_answer

COSINES = [round(0.84 + 0.01 * i, 2) for i in range(12)] + [2.0]
OVERLAPS = [0.5, 0.7, 0.9, 1.0, 2.0]
NOVELS = [0.3, 0.5, 0.7, 0.9, 1.0, 2.0]
MAX_PER_SENTENCE = [1, 2]
GATES = [0.84, 0.86, 0.87, 0.88, 0.89, 0.90]


def collect(helper: Assistant, runs: list[Path]) -> list[dict]:
    """Per answered question: its sentences' support by every source, the model's
    citation numbers and which sources are correct."""
    verifier = Verifier(helper.embedder, helper.vectors, VerificationSettings(min_cosine=0, min_overlap=0, min_novel=0))
    items = []
    for run in runs:
        for r in read_results(run / "results.jsonl").values():
            if r.get("error") or not r.get("answerable") or "retrieved" not in r:
                continue
            if r.get("abstained"):
                items.append({"abstained": True, "top_dense": r.get("top_dense") or 0.0})
                continue
            ids = [x["sentence_id"] for x in r["retrieved"]]
            sentences = _sentences(helper, ids)
            dispatches = helper.catalog.dispatches({sentences[sid].doc_id for sid in ids if sid in sentences})
            sources = [NumberedSource(n=i + 1, hit=_hit(sentences[sid], dispatches)) for i, sid in enumerate(ids)
                       if sid in sentences]
            number_of = {s.hit.sentence.id: s.n for s in sources}
            cited = [number_of[c["sentence_id"]] for c in r["citations"] if c["sentence_id"] in number_of]
            gold_ids = set(r["gold_sentence_ids"])
            gold_texts = [sentences[g].text for g in gold_ids if g in sentences]
            correct = {s.n for s in sources
                       if citation_correct(s.hit.sentence.text, s.hit.sentence.id, r["gold_answers"], gold_texts,
                                           gold_ids)}
            text = strip_markers(r["answer"])[0]
            claims = [(claim, verifier.supports(claim, sources, r["question"], answer_language(r["language"])))
                      for claim in split_answer(text, r["language"])]
            items.append({"abstained": False, "cited": cited, "correct": correct, "claims": claims,
                          "top_dense": r.get("top_dense") or 0.0})
    return items


def _sentences(helper: Assistant, ids: list[str]) -> dict:
    out = {}
    for doc_id in {i.rsplit("-s", 1)[0] for i in ids}:
        for s in helper.catalog.sentences_of(doc_id):
            out[s.id] = s
    return out


def _hit(sentence, dispatches: dict) -> SentenceHit:
    return SentenceHit(sentence=sentence, dispatch=dispatches[sentence.doc_id], score=0.0)


def replay(items: list[dict], min_cos: float, min_ovl: float, min_novel: float, per_sentence: int,
           gate: float = 0.0) -> dict:
    """The verification policy's outcome with these thresholds (and, with ``gate``, a
    stricter retrieval threshold: questions whose top dense cosine is below it are declined)."""
    verifier = Verifier(None, None, VerificationSettings(min_cosine=min_cos, min_overlap=min_ovl, min_novel=min_novel,
                                                     max_per_sentence=per_sentence))
    shown = correct_shown = any_correct = unsupported = declined = gated = 0
    answerable = len(items)
    for item in items:
        if item["abstained"]:
            continue
        if item["top_dense"] < gate:
            gated += 1
            continue
        checked = [verifier.choose(text, scores, item["cited"]) for text, scores in item["claims"]]
        if not any(c.supported for c in checked):
            declined += 1
            continue
        unsupported += any(not c.supported for c in checked)
        chosen = list(dict.fromkeys(n for c in checked for n in c.sources))
        good = sum(n in item["correct"] for n in chosen)
        shown += len(chosen)
        correct_shown += good
        any_correct += good > 0
    return {"min_cosine": min_cos, "min_overlap": min_ovl, "min_novel": min_novel, "max_per_sentence": per_sentence,
            "precision": correct_shown / shown if shown else 0.0, "any_correct": any_correct / answerable,
            "unsupported": unsupported / answerable, "declined_by_verification": declined / answerable,
            "gate": gate, "declined_by_gate": gated / answerable,
            "declined_total": (declined + gated + sum(i["abstained"] for i in items)) / answerable}


def baseline(items: list[dict]) -> dict:
    shown = sum(len(i["cited"]) for i in items if not i["abstained"])
    good = sum(len(set(i["cited"]) & i["correct"]) for i in items if not i["abstained"])
    anyc = sum(bool(set(i["cited"]) & i["correct"]) for i in items if not i["abstained"])
    return {"precision": good / shown if shown else 0.0, "any_correct": anyc / len(items)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--target", type=float, default=0.80, help="Minimum citation precision.")
    parser.add_argument("--min-any-correct", type=float, default=0.60,
                        help="Minimum share of answerable questions with a correct citation (no buying precision "
                             "by citing nothing).")
    args = parser.parse_args()
    helper = Assistant(Settings())
    items = collect(helper, args.runs)
    print(f"{len(items)} answerable questions ({sum(i['abstained'] for i in items)} declined before the model)")
    print("model's own citations:", json.dumps(baseline(items)))
    v = helper.settings.verification
    print("verified with the current settings:",
          json.dumps(replay(items, v.min_cosine, v.min_overlap, v.min_novel, v.max_per_sentence)))
    grid = [replay(items, c, o, n, m) for c in COSINES for o in OVERLAPS for n in NOVELS for m in MAX_PER_SENTENCE]
    feasible = [g for g in grid if g["precision"] >= args.target and g["any_correct"] >= args.min_any_correct]
    frontier = {}
    for g in grid:  # best precision for each any-correct level
        key = round(g["any_correct"], 2)
        if key not in frontier or g["precision"] > frontier[key]["precision"]:
            frontier[key] = g
    print("frontier (any correct -> best precision):")
    for key in sorted(frontier, reverse=True)[:12]:
        g = frontier[key]
        print(f"  any_correct {g['any_correct']:.2f} precision {g['precision']:.3f} cos {g['min_cosine']} "
              f"overlap {g['min_overlap']} novel {g['min_novel']} per_sentence {g['max_per_sentence']} "
              f"declined_by_verification {g['declined_by_verification']:.2f}")
    if not feasible:
        top = max(g["any_correct"] for g in grid)
        near = [g for g in grid if g["any_correct"] >= top - 0.02]
        best = max(near, key=lambda g: (round(g["precision"], 6), round(g["any_correct"], 6),
                                        -g["declined_by_verification"], -g["min_cosine"]))
        print(f"no thresholds reach precision {args.target}; most precise within 0.02 of the best any-correct:")
    else:
        best = max(feasible, key=lambda g: (round(g["any_correct"], 6), -g["declined_by_verification"],
                                            -g["min_cosine"], -g["min_overlap"], -g["min_novel"]))
    print("chosen:", json.dumps(best))
    print("with a stricter retrieval threshold (declines answerable questions too):")
    for gate in GATES:
        g = replay(items, best["min_cosine"], best["min_overlap"], best["min_novel"], best["max_per_sentence"], gate)
        print("  gate", json.dumps(g))


if __name__ == "__main__":
    main()
