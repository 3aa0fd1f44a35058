"""Does a cited sentence answer the question, not only echo the answer?

The verifier (verify.py) checks a citation against the answer sentence; a
small model often cites a sentence that supports its own wrong answer. This
checks each citation against the *question*, with signals the retriever
already has: how the sentence ranks among the sources given to the model,
its fused score relative to the best source's, and whether it holds the kind
of value the question asks for (a date for "quando"/"when", a number for
"quanti"/"how many"), and, where the backend returns log-probabilities,
the answering model's own yes/no judgement of the sentence against the
question (``judge.py``; without it the other signals decide). A citation
that fails is replaced by the most relevant source that supports the
sentence and passes, or dropped; an answer left with none is declined
(``abstain_reason="irrelevant_citations"``). Thresholds are chosen on the
dev sets by ``scripts/calibrate_relevance.py``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.retrieval.answer_types import asked_type, holds_type
from assistant.answering.verify import VerifiedSentence


@dataclass(frozen=True)
class Relevance:
    """A source's relevance to the question: its rank (1 = best), its fused score
    over the best one's, whether it holds the asked kind (None: no kind asked),
    and the model's P(yes) that it answers the question (None: not judged)."""

    rank: int
    relative: float
    holds_kind: bool | None
    judged: float | None = None


def relevance_of(question: str, scores: Sequence[float], texts: Sequence[str],
                 judged: dict[int, float] | None = None) -> list[Relevance]:
    """The relevance of each source (scores and texts in the order given to the
    model; ``judged`` by source number, from 1)."""
    kind = asked_type(question)
    top = max(scores, default=0.0)
    judged = judged or {}
    return [Relevance(rank=i + 1, relative=(score / top) if top > 0 else 0.0,
                      holds_kind=None if kind is None else holds_type(text, kind), judged=judged.get(i + 1))
            for i, (score, text) in enumerate(zip(scores, texts))]


@dataclass(frozen=True)
class RelevancePolicy:
    """When a citation answers the question: ranked within ``max_rank``, scored at
    least ``min_relative`` of the best source, holding the asked kind when
    ``require_kind``, judged by the model at least ``min_judged`` likely to answer it
    (when judged); ``repoint``: replace a failing citation by the best passing support;
    ``prefer_rank``: of the supporting sources that pass, cite the one the retriever
    ranked best, whichever the model or verification chose. The defaults check nothing
    (every citation passes): the baseline of scripts/calibrate_relevance.py; the product's
    policy comes from the verification settings (``VerificationSettings.relevance_policy``)."""

    max_rank: int = 1 << 30
    min_relative: float = 0.0
    require_kind: bool = False
    min_judged: float = 0.0
    repoint: bool = True
    prefer_rank: bool = False

    def passes(self, r: Relevance) -> bool:
        return (r.rank <= self.max_rank and r.relative >= self.min_relative
                and not (self.require_kind and r.holds_kind is False)
                and not (r.judged is not None and r.judged < self.min_judged))


def recheck(checked: list[VerifiedSentence], relevance: dict[int, Relevance],
            policy: RelevancePolicy) -> list[VerifiedSentence]:
    """The verified answer sentences with citations that fail the question check
    replaced (by the strongest supporting source that passes) or dropped; the
    dropped ones are added to ``rejected``."""
    out = []
    for sentence in checked:
        if policy.prefer_rank and sentence.sources:
            choices = [n for n in dict.fromkeys(sentence.sources + sentence.passing)
                       if n in relevance and policy.passes(relevance[n])]
            best = min(choices, key=lambda n: relevance[n].rank, default=None)
            kept = [best] if best is not None else []
            out.append(replace(sentence, sources=kept, added=[n for n in kept if n not in sentence.cited],
                               rejected=sentence.rejected + [n for n in sentence.sources if n not in kept]))
            continue
        kept = [n for n in sentence.sources if n in relevance and policy.passes(relevance[n])]
        failed = [n for n in sentence.sources if n not in kept]
        added = [n for n in sentence.added if n in kept]
        if not kept and failed and policy.repoint:
            better = next((n for n in sentence.passing if n in relevance and policy.passes(relevance[n])), None)
            if better is not None:
                kept, added = [better], [better] if better not in sentence.cited else []
        out.append(replace(sentence, sources=kept, added=added,
                           rejected=sentence.rejected + [n for n in failed if n not in kept]))
    return out
