"""Choose which sources conflict detection starts from, on a conflict-set run.

Replays the conflict step (``assistant.answering.service.with_conflict``, the code the
answering service runs) over an evaluation run of a conflict set
(``assistant/evaluate/conflict_set.py``), reading the sources back from the
run's index, for several numbers of best-ranked sources checked besides the
cited sentences ("anchors"), and prints the conflict flag rate and the false
conflict rate of each (and, on a set of updated dispatches, the share of answers giving the
newer value first and of answers whose own text gives only the superseded one). With the
run's own setting it reproduces the run.

    ASSISTANT_HOME=<index> python scripts/calibrate_conflicts.py RUN_DIR [--anchors 0 1 3 8] [--look-up-copies]

``--look-up-copies``: for a run recorded before other agencies' copies were kept beside
the sources (``retrieval.other_copies``), look them up again in the index (among the
sources' own dispatches and the near copies of their sentences).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from assistant.answering.service import with_conflict
from assistant.answering.cite import to_citation
from assistant.core import Assistant
from assistant.evaluate.questions import parse_question
from assistant.evaluate.replay import numbered_sources, own_text, verified_sentences
from assistant.evaluate.runner import answer_metrics
from assistant.domain import Answer, AnswerSentence
from assistant.answering.prompting import wording
from assistant.settings import Settings


# declines decided before the model saw the sources: no conflict step
BEFORE_MODEL = {"no_sources", "low_relevance", "model_unavailable"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--anchors", type=int, nargs="+", default=[0, 1, 2, 3, 5, 8])
    parser.add_argument("--look-up-copies", action="store_true",
                        help="look up the other agencies' copies of the sources again (runs recorded without them)")
    args = parser.parse_args()
    helper = Assistant(Settings())
    records = [json.loads(line) for line in (args.run / "results.jsonl").open(encoding="utf-8") if line.strip()]
    manifest = json.loads((args.run / "run.json").read_text(encoding="utf-8"))
    questions = {}
    with Path(manifest["questions"]).open(encoding="utf-8") as handle:
        for line in handle:
            q = json.loads(line)
            questions[q["id"]] = q
    conflicted = [r for r in records if r.get("conflict_flagged") is not None]
    plain = [r for r in records if r.get("false_conflict") is not None]
    words = {lang: wording(helper.settings.prompts_dir, lang) for lang in ("it", "en")}
    openings = [w[key].split("{")[0] for w in words.values()
                for key in ("conflict_updated", "conflict_latest", "conflict_disagree", "conflict_declined")]
    on_decline = helper.settings.conflicts.on_decline
    prepared = []
    for r in records:
        checked = verified_sentences(r)
        numbers = list(dict.fromkeys(n for s in checked for n in s.sources))
        declined = not numbers or bool(r.get("abstained"))
        replayed = not declined or (on_decline and r.get("abstain_reason") not in BEFORE_MODEL)
        if r.get("error") or not replayed:
            continue  # declined before the conflict step
        sources = numbered_sources(r, helper.catalog)
        if args.look_up_copies:
            hits = helper.retriever.with_copies([s.hit for s in sources])
            sources = [replace(s, hit=h) for s, h in zip(sources, hits)]
        by_n = {s.n: s for s in sources}
        answer = Answer(question=r["question"], answer=own_text(r, openings), language=r.get("language") or "it",
                        translated_question=r.get("translated_question"),
                        abstained=declined, abstain_reason=r.get("abstain_reason") if declined else None,
                        citations=[] if declined else [to_citation(i + 1, by_n[n]) for i, n in enumerate(numbers)],
                        sentences=[] if declined else [AnswerSentence(text=c.text) for c in checked])
        prepared.append((r, sources, answer, parse_question(questions[r["id"]], r["id"])))
    updated = [r for r in conflicted if questions.get(r["id"], {}).get("conflict_mode") == "updated"]
    print(f"{len(conflicted)} conflicted and {len(plain)} unconflicted questions, {len(prepared)} replayed "
          f"(declined ones too: conflicts.on_decline {on_decline}); "
          f"the run: conflict_flag_rate {_mean(conflicted, 'conflict_flagged'):.3f}, "
          f"false_conflict_rate {_mean(plain, 'false_conflict'):.3f} (anchors {helper.settings.conflicts.anchors})")
    for anchors in args.anchors:
        rules = helper.settings.conflicts.model_copy(update={"anchors": anchors})
        totals = dict.fromkeys(("conflict_flagged", "false_conflict", "latest_first", "superseded_answer"), 0.0)
        for _, sources, answer, question in prepared:
            found = with_conflict(answer, sources, words.get(answer.language, words["en"]), rules)
            scores = answer_metrics(found, question, set())
            for key in totals:
                totals[key] += scores.get(key) or 0.0
        line = (f"anchors {anchors}: conflict_flag_rate {totals['conflict_flagged'] / max(1, len(conflicted)):.3f}, "
                f"false_conflict_rate {totals['false_conflict'] / max(1, len(plain)):.3f}")
        if updated:
            line += (f", latest_first_rate {totals['latest_first'] / len(updated):.3f}, "
                     f"superseded_answer_rate {totals['superseded_answer'] / len(updated):.3f}")
        print(line)


def _mean(records: list[dict], key: str) -> float:
    return sum(r[key] for r in records) / len(records) if records else float("nan")


if __name__ == "__main__":
    main()
