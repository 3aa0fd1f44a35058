"""Does a cited sentence answer the question? Asked of the answering model.

After the model has answered, each candidate citation is put to it in a
follow-up turn of the same conversation ("does source [n], on its own,
state the answer to the question?"), and the probability of "yes" against
"no" is read from the first token's log-probabilities. The conversation's
prefix (instructions, sources, question, the model's reply) is already in
the model's cache, so each judgement costs only its own few dozen tokens.
Backends that return no log-probabilities give no judgement (None): the
question check then rests on the retriever's signals alone
(``relevance.py``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from assistant.llms.base import ChatBackend, Message
from assistant.answering.prompting import NumberedSource

YES = {"yes", "sì", "si", "sí"}
NO = {"no"}


@lru_cache(maxsize=4)
def _template(prompts_dir: Path) -> str:
    return (prompts_dir / "judge.txt").read_text(encoding="utf-8").strip()


def yes_probability(top: dict[str, float]) -> float | None:
    """P(yes) / (P(yes) + P(no)) over the first-token log-probabilities, None
    when neither word is among them."""
    yes = sum(math.exp(lp) for token, lp in top.items() if token.lower() in YES)
    no = sum(math.exp(lp) for token, lp in top.items() if token.lower() in NO)
    return yes / (yes + no) if yes + no > 0 else None


def judge_sources(llm: ChatBackend, messages: list[Message], reply: str, candidates: Sequence[NumberedSource],
                  question: str, prompts_dir: Path) -> dict[int, float] | None:
    """{source number: P(yes)} for each candidate, asked as a follow-up of the
    answer's conversation; None when the backend returns no log-probabilities."""
    template = _template(prompts_dir)
    judged: dict[int, float] = {}
    for source in candidates:
        follow_up = [*messages, {"role": "assistant", "content": reply},
                     {"role": "user", "content": template.format(n=source.n, sentence=source.hit.sentence.text,
                                                                 question=question)}]
        top = llm.next_token_logprobs(follow_up)
        if top is None:
            return None
        p = yes_probability(top)
        if p is not None:
            judged[source.n] = p
    return judged


def candidates_of(checked, limit: int) -> list[int]:
    """The source numbers worth judging, most likely shown first: each answer
    sentence's supporting citations, then its strongest other support."""
    order: list[int] = []
    for sentence in checked:
        order.extend(sentence.sources)
    for sentence in checked:
        order.extend(n for n in sentence.passing[:2] if n not in sentence.sources)
    return list(dict.fromkeys(order))[:limit]
