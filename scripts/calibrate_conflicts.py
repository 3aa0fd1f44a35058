"""Choose which sources conflict detection starts from, on a conflict-set run.

Replays the conflict step (``assistant.answering.service.with_conflict``, the code the
answering service runs) over an evaluation run of a conflict set
(``assistant/evaluate/conflict_set.py``), reading the sources back from the
run's index, for several numbers of best-ranked sources checked besides the
cited sentences ("anchors"), and prints the conflict flag rate and the false
conflict rate of each. With the run's own setting it reproduces the run.

    ASSISTANT_HOME=<index> python scripts/calibrate_conflicts.py RUN_DIR [--anchors 0 1 3 8]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.answering.service import with_conflict
from assistant.answering.cite import to_citation
from assistant.core import Assistant
from assistant.evaluate.metrics import conflict_flagged
from assistant.evaluate.replay import numbered_sources, verified_sentences
from assistant.domain import Answer
from assistant.answering.prompting import wording
from assistant.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--anchors", type=int, nargs="+", default=[0, 1, 2, 3, 5, 8])
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
    prepared = []
    for r in records:
        checked = verified_sentences(r)
        numbers = list(dict.fromkeys(n for s in checked for n in s.sources))
        if r.get("error") or not numbers:
            continue  # declined before the conflict step
        sources = numbered_sources(r, helper.catalog)
        by_n = {s.n: s for s in sources}
        answer = Answer(question=r["question"], answer=r["answer"], language=r.get("language") or "it",
                        abstained=False, citations=[to_citation(i + 1, by_n[n]) for i, n in enumerate(numbers)])
        prepared.append((r, sources, answer))
    words = {lang: wording(helper.settings.prompts_dir, lang) for lang in ("it", "en")}
    print(f"{len(conflicted)} conflicted and {len(plain)} unconflicted questions, {len(prepared)} answered; "
          f"the run: conflict_flag_rate {_mean(conflicted, 'conflict_flagged'):.3f}, "
          f"false_conflict_rate {_mean(plain, 'false_conflict'):.3f} (anchors {helper.settings.conflicts.anchors})")
    for anchors in args.anchors:
        rules = helper.settings.conflicts.model_copy(update={"anchors": anchors})
        flagged = false = 0
        for r, sources, answer in prepared:
            found = with_conflict(answer, sources, words.get(answer.language, words["en"]), rules)
            sides = [s.model_dump(mode="json") for s in found.conflicts]
            expected = questions.get(r["id"], {}).get("conflicting_answers") or []
            if expected:
                flagged += conflict_flagged(sides, r["gold_answers"], expected)
            else:
                false += bool(sides)
        print(f"anchors {anchors}: conflict_flag_rate {flagged / max(1, len(conflicted)):.3f}, "
              f"false_conflict_rate {false / max(1, len(plain)):.3f}")


def _mean(records: list[dict], key: str) -> float:
    return sum(r[key] for r in records) / len(records) if records else float("nan")


if __name__ == "__main__":
    main()
