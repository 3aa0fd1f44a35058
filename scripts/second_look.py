"""Measure a second look at the best-ranked source, on recorded answer runs.

The sentence ranked first is the likeliest to answer (on rel-it-150 its shown
citations are 0.82 correct, those ranked 2-8: 0.27). For every answer whose shown
citations (the configured question check, replayed) leave out the best-ranked
source, the model is asked again with that source alone, through the answering
service. Two ways of using the second reply are scored over the whole run:

* ``if-answered``: the second reply replaces the first when it is an answer;
* ``always``: the second reply replaces the first, a decline included.

and, for "if-answered", gates on when to ask again: only when the best shown citation's fused
score is below 0.6 / 0.7 / 0.8 of the best-ranked source's, or only when the best-ranked source
holds at least as many of the question's content words (and its translation's, when recorded) as
the best of the shown citations.

Prints, per run and way: citation precision over shown citations, the share of
answerable questions with a correct citation, the share declined, mean F1 and the
time added per question (p50 over all questions, and over those asked again).

    ASSISTANT_HOME=<index> python scripts/second_look.py RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from assistant.answering.service import Found
from assistant.core import Assistant
from assistant.domain import Filters
from assistant.evaluate.metrics import citation_correct, token_f1
from assistant.evaluate.replay import given_sources, numbered_sources, shown_sentences
from assistant.settings import Settings
from assistant.text.words import stopwords, tokens


def first_reply(record: dict, policy) -> tuple[list[int], float]:
    """The shown source numbers of the recorded answer under ``policy``, and its F1."""
    checked = shown_sentences(record, policy)
    numbers = list(dict.fromkeys(n for s in checked for n in s.sources))
    f1 = token_f1(" ".join(s.text for s in checked), record["gold_answers"]) if numbers else 0.0
    return numbers, f1


def correct_of(record: dict, numbers: list[int]) -> list[bool]:
    texts, given = record["retrieved_texts"], given_sources(record)
    gold_ids = set(record.get("gold_sentence_ids") or [])
    return [citation_correct(texts[n - 1], given[n - 1]["sentence_id"], record["gold_answers"], [], gold_ids)
            for n in numbers]


def second_reply(helper: Assistant, record: dict) -> tuple[list[int], float, float]:
    """The model asked again with the best-ranked source alone: shown numbers (1 or none), F1, seconds."""
    best = numbered_sources(record, helper.catalog)[0].hit
    found = Found(question=record["question"], language=record.get("language") or "it", filters=Filters(),
                  date_phrase=None, translation=None, hits=[best], ranked=[best], seconds=0.0)
    answer = helper.answer(found)
    seconds = answer.timings.get("total", 0.0)
    if answer.abstained or not answer.citations:
        return [], 0.0, seconds
    text = " ".join(s.text for s in answer.sentences)
    return [1], token_f1(text, record["gold_answers"]), seconds


def score(rows: list[tuple[dict, list[int], float]], total: int) -> dict:
    shown = correct = any_correct = declined = 0
    f1 = 0.0
    for record, numbers, f in rows:
        hits = correct_of(record, numbers)
        shown += len(hits)
        correct += sum(hits)
        any_correct += any(hits)
        declined += not numbers
        f1 += f
    return {"precision": round(correct / shown, 3) if shown else None, "any_correct": round(any_correct / total, 3),
            "declined": round(declined / total, 3), "f1": round(f1 / total, 3)}


GATES = {"cited < 0.6 of best": lambda rel, words: rel < 0.6, "cited < 0.7 of best": lambda rel, words: rel < 0.7,
         "cited < 0.8 of best": lambda rel, words: rel < 0.8,
         "best holds the question's words": lambda rel, words: words >= 0}


def gate_features(record: dict, numbers: list[int]) -> tuple[float, int]:
    """The best shown citation's fused score relative to the best-ranked source's, and how many more
    of the question's content words the best-ranked source holds than the best shown citation."""
    given, texts = given_sources(record), record["retrieved_texts"]
    relative = max(given[n - 1]["score"] for n in numbers) / given[0]["score"] if given[0]["score"] else 1.0
    question = _content(f"{record['question']} {record.get('translated_question') or ''}")
    words = len(question & _content(texts[0])) - max(len(question & _content(texts[n - 1])) for n in numbers)
    return relative, words


def _content(text: str) -> set[str]:
    stop = stopwords()
    return {t for t in tokens(text) if t not in stop and len(t) > 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--dump", type=Path, help="write each second reply (run, id, shown numbers, F1) here")
    args = parser.parse_args()
    dump = args.dump.open("w", encoding="utf-8") if args.dump else None
    helper = Assistant(Settings())
    policy = helper.settings.verification.relevance_policy()
    for run in args.runs:
        records = [json.loads(line) for line in (run / "results.jsonl").open(encoding="utf-8") if line.strip()]
        records = [r for r in records if r.get("answerable", True) and not r.get("error")]
        ways: dict[str, list] = {"first reply": [], "if-answered": [], "always": [], **{g: [] for g in GATES}}
        added: list[float] = []
        asked = 0
        for r in records:
            numbers, f1 = first_reply(r, policy)
            ways["first reply"].append((r, numbers, f1))
            if numbers and 1 not in numbers:
                asked += 1
                again, f1_again, seconds = second_reply(helper, r)
                added.append(seconds)
                if dump:
                    dump.write(json.dumps({"run": run.name, "id": r["id"], "first": numbers, "again": again,
                                           "f1_again": f1_again, "seconds": seconds}) + "\n")
                ways["if-answered"].append((r, again, f1_again) if again else (r, numbers, f1))
                ways["always"].append((r, again, f1_again))
                features = gate_features(r, numbers)
                for name, gate in GATES.items():
                    ways[name].append((r, again, f1_again) if again and gate(*features) else (r, numbers, f1))
            else:
                added.append(0.0)
                for way in ways.values():
                    if way is not ways["first reply"]:
                        way.append((r, numbers, f1))
        print(f"{run.name}: {len(records)} answerable questions, {asked} asked again; time added p50 "
              f"{statistics.median(added):.2f} s over all, "
              f"{statistics.median([s for s in added if s] or [0.0]):.2f} s over those asked again")
        for way, rows in ways.items():
            print(f"  {way:32} {json.dumps(score(rows, len(records)))}")


if __name__ == "__main__":
    main()
