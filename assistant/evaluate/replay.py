"""Replaying the steps that run after generation on a recorded evaluation run.

An answer record keeps the sources given to the model (``retrieved``, with
their texts) and, per answer sentence, what the model cited and which sources
support it (``checks``). Citation choice, the question check and conflict
detection depend on nothing else, so they can be replayed exactly under other
settings without asking the model again (scripts/calibrate_relevance.py,
scripts/calibrate_conflicts.py)."""

from __future__ import annotations

from assistant.domain import EarlierVersion, OtherCopy, SentenceHit
from assistant.answering.prompting import NumberedSource, number_sources
from assistant.answering.relevance import RelevancePolicy, recheck, relevance_of
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


def shown_sentences(record: dict, policy: RelevancePolicy) -> list[VerifiedSentence]:
    """The answer sentences with the citations ``policy`` (the question check) leaves shown;
    empty when the answer was declined before any citation was chosen."""
    if not record.get("checks"):
        return []
    scores = [x["score"] for x in given_sources(record)]
    texts = record["retrieved_texts"][:len(scores)]
    judged = {int(n): p for n, p in (record.get("judged") or {}).items()}
    relevance = dict(enumerate(relevance_of(record["question"], scores, texts, judged), start=1))
    return recheck(verified_sentences(record), relevance, policy)


def given_sources(record: dict) -> list[dict]:
    """The sources given to the model, in their order (earlier versions and other agencies' copies
    added by a conflict left out)."""
    return [x for x in record["retrieved"] if not (x.get("earlier_version") or x.get("other_copy"))]


def numbered_sources(record: dict, catalog) -> list[NumberedSource]:
    """The sources given to the model, read back from the index, numbered as they
    were, with the earlier versions collapsed into them (records written before
    these were kept per source attach the earlier versions a conflict cited to the first), and the
    other agencies' copies kept beside them."""
    given = given_sources(record)
    added = [x["sentence_id"] for x in record["retrieved"] if x.get("earlier_version")]
    earlier_ids = {x["sentence_id"]: list(x.get("earlier", [])) for x in given}
    if added and given and not any(earlier_ids.values()):
        earlier_ids[given[0]["sentence_id"]] = added
    copy_ids = {x["sentence_id"]: list(x.get("copies", [])) for x in given}
    wanted = [x["sentence_id"] for x in given] + [i for ids in (*earlier_ids.values(), *copy_ids.values())
                                                  for i in ids]
    found = catalog.sentences(wanted)
    dispatches = catalog.dispatches({s.doc_id for s in found.values()})

    def earlier(sentence_id: str) -> list[EarlierVersion]:
        return [EarlierVersion(sentence=found[i], dispatch=dispatches[found[i].doc_id])
                for i in earlier_ids[sentence_id] if i in found]

    def copies(sentence_id: str) -> list[OtherCopy]:
        return [OtherCopy(sentence=found[i], dispatch=dispatches[found[i].doc_id])
                for i in copy_ids[sentence_id] if i in found]

    hits = [SentenceHit(sentence=found[x["sentence_id"]], dispatch=dispatches[found[x["sentence_id"]].doc_id],
                        score=x["score"], dense=x.get("dense"), earlier=earlier(x["sentence_id"]),
                        copies=copies(x["sentence_id"]))
            for x in given if x["sentence_id"] in found]
    if len(hits) != len(given):
        raise ValueError(f"question {record['id']}: sources are no longer in this index")
    return number_sources(hits)


def own_text(record: dict, notes: list[str]) -> str:
    """The answer's text without its conflict note: the recorded note, else (records
    written before notes were kept) the text up to where a note template begins;
    ``notes``: the templates' opening words ("Un dispaccio precedente", ...)."""
    text = record.get("answer") or ""
    if record.get("conflict_note"):
        return " ".join(text.replace(record["conflict_note"], " ").split())
    starts = [i for i in (text.find(n) for n in notes if n) if i > 0]
    return text[:min(starts)].strip() if starts else text
