"""Replaying the steps that run after generation on a recorded evaluation run.

An answer record keeps the sources given to the model (``retrieved``, with
their texts) and, per answer sentence, what the model cited and which sources
support it (``checks``). Citation choice, the question check and conflict
detection depend on nothing else, so they can be replayed exactly under other
settings without asking the model again (scripts/calibrate_relevance.py,
scripts/calibrate_conflicts.py)."""

from __future__ import annotations

from assistant.domain import SentenceHit
from assistant.answering.prompting import NumberedSource, number_sources
from assistant.answering.verify import VerifiedSentence


def verified_sentences(record: dict) -> list[VerifiedSentence]:
    """The answer sentences with the citation the verifier chose for each (one a
    sentence: the strongest supporting source the model cited, else the strongest)."""
    out = []
    for check in record.get("checks") or []:
        chosen = next((n for n in check["passing"] if n in check["cited"]), None)
        sources = [chosen] if chosen is not None else check["passing"][:1]
        out.append(VerifiedSentence(text=check["text"], sources=sources,
                                    added=[n for n in sources if n not in check["cited"]],
                                    cited=check["cited"], passing=check["passing"]))
    return out


def given_sources(record: dict) -> list[dict]:
    """The sources given to the model, in their order (earlier versions added by a conflict left out)."""
    return [x for x in record["retrieved"] if not x.get("earlier_version")]


def numbered_sources(record: dict, catalog) -> list[NumberedSource]:
    """The sources given to the model, read back from the index, numbered as they were."""
    given = given_sources(record)
    found = catalog.sentences([x["sentence_id"] for x in given])
    dispatches = catalog.dispatches({s.doc_id for s in found.values()})
    hits = [SentenceHit(sentence=found[x["sentence_id"]], dispatch=dispatches[found[x["sentence_id"]].doc_id],
                        score=x["score"], dense=x.get("dense")) for x in given if x["sentence_id"] in found]
    if len(hits) != len(given):
        raise ValueError(f"question {record['id']}: sources are no longer in this index")
    return number_sources(hits)
