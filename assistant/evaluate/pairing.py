"""Whether a cross-lingual question's gold answers answer it.

squad_en_it pairs each English SQuAD question with the Italian question of the
same id, and takes its gold answers (and answer span) from the Italian one.
About one pair in ten is off: the Italian side is another question on the same
paragraph ("How many sacks did Derek Wolfe register?" with the Italian gold
"Brandon Marshall"), so the gold answer is not what the English question asks.
A pair is kept when the two sides' answers agree (a shared number, or a
shared word or word stem: "Vistula" / "Vistola") or when the Italian question
is a translation of the English one (cosine of the two questions under the
embedder at least ``TRANSLATED_COSINE``). The threshold was read off the whole
English dev set, not tuned on any question: below 0.80 nearly every pair is off,
from 0.86 up none was in samples checked by hand."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from assistant.evaluate.metrics import normalize_answer

TRANSLATED_COSINE = 0.86
_STEM = 4  # leading letters two words must share to count as one word in two languages


def answers_agree(english: Sequence[str], italian: Sequence[str]) -> bool:
    """True when some English answer and some Italian answer share a number or,
    where neither holds a digit, a word or its first four letters."""
    for en in english:
        for it in italian:
            en_digits, it_digits = set(re.findall(r"\d+", en)), set(re.findall(r"\d+", it))
            if en_digits or it_digits:
                if en_digits & it_digits:
                    return True
                continue
            en_words, it_words = normalize_answer(en).split(), normalize_answer(it).split()
            if any((a == b and len(a) >= 2) or (len(a) >= _STEM and a[:_STEM] == b[:_STEM])
                   for a in en_words for b in it_words):
                return True
    return False


def well_paired(records: Sequence[dict], embedder) -> list[bool]:
    """For each record, False when it is a cross-lingual question (it has
    ``answers_en`` and ``question_it``) whose gold answers answer another
    question; True for every other record."""
    from assistant.index.embedders import embed_query

    out = []
    for record in records:
        if "answers_en" not in record or "question_it" not in record:
            out.append(True)
        elif answers_agree(record["answers_en"], record.get("answers") or [record.get("answer", "")]):
            out.append(True)
        else:
            english, italian = (embed_query(embedder, record[k]) for k in ("question", "question_it"))
            cosine = float(np.dot(english, italian))
            out.append(cosine >= TRANSLATED_COSINE)
    return out


def configured_embedder():
    """The embedder the settings name (to compare paired questions outside a running assistant)."""
    from assistant.index.embedders import build_embedder
    from assistant.settings import Settings

    return build_embedder(Settings().embedder)
