"""The sources block of the prompt: one header per dispatch, every sentence
shown once in document order, only hits numbered."""

from __future__ import annotations

from datetime import date

from assistant.answering.prompting import NumberedSource, fit_context, format_sources, number_sources
from assistant.domain import Dispatch, Sentence, SentenceHit


def _sentences(doc: str, n: int) -> list[Sentence]:
    return [Sentence(id=f"{doc}-s{i:03d}", doc_id=doc, index=i, text=f"{doc} frase {i}.",
                     char_start=i * 20, char_end=i * 20 + 12) for i in range(n)]


def _hit(dispatch: Dispatch, sentences: list[Sentence], i: int, neighbours: int = 1) -> SentenceHit:
    return SentenceHit(sentence=sentences[i], dispatch=dispatch, score=1.0,
                       context_before=sentences[max(0, i - neighbours):i],
                       context_after=sentences[i + 1:i + 1 + neighbours])


def test_overlapping_contexts_show_each_sentence_once():
    a = Dispatch(id="a", agency="ANSA", place="Roma", published_at=date(2026, 3, 2), body="x")
    b = Dispatch(id="b", agency="Reuters", place="London", body="y")
    sa, sb = _sentences("a", 12), _sentences("b", 4)
    # ranking: a/5, b/0, a/4, a/9 -> numbers 1..4 in that order
    sources = number_sources([_hit(a, sa, 5), _hit(b, sb, 0), _hit(a, sa, 4), _hit(a, sa, 9)])
    assert [s.hit.sentence.id for s in sources] == ["a-s005", "b-s000", "a-s004", "a-s009"]
    text = format_sources(sources)
    blocks = text.split("\n\n")
    assert blocks[0].splitlines() == [
        "(ANSA, Roma, 2026-03-02)",
        "[1] a frase 5.", "- a frase 6.",      # a/4 is a hit itself, so not repeated as context
        "- a frase 3.", "[3] a frase 4.",
        "- a frase 8.", "[4] a frase 9.", "- a frase 10.",
    ]
    assert blocks[1].splitlines() == ["(Reuters, London)", "[2] b frase 0.", "- b frase 1."]
    for s in sa + sb:  # no sentence twice
        assert text.count(s.text) <= 1


def test_sources_without_context_or_header():
    d = Dispatch(id="d", body="z")
    sentences = _sentences("d", 3)
    sources = [NumberedSource(1, SentenceHit(sentence=sentences[2], dispatch=d, score=1.0)),
               NumberedSource(2, SentenceHit(sentence=sentences[0], dispatch=d, score=0.5))]
    assert format_sources(sources).splitlines() == ["[1] d frase 2.", "[2] d frase 0."]


def test_fit_context_drops_context_of_lowest_ranked_hits_first():
    a = Dispatch(id="a", body="x")
    sa = _sentences("a", 30)
    hits = [_hit(a, sa, 2), _hit(a, sa, 10), _hit(a, sa, 20)]
    for hit, score in zip(hits, (0.5, 0.9, 0.7)):
        hit.score = score
    sources = number_sources(hits)
    lines = lambda srcs: len(format_sources(srcs).splitlines())  # noqa: E731  (a stand-in token count)
    assert lines(sources) == 9  # 3 x (hit + 2 neighbours)
    fitted = fit_context(sources, 7, lines)
    assert [bool(s.hit.context_before) for s in fitted] == [False, True, True]  # the 0.5 hit lost its context
    assert [bool(s.hit.context_before) for s in fit_context(sources, 5, lines)] == [False, True, False]
    assert [s.n for s in fitted] == [1, 2, 3] and [s.hit.sentence.id for s in fitted] == [s.hit.sentence.id for s in sources]
    # never below the hits themselves, and no budget means no change
    assert all(not s.hit.context_after for s in fit_context(sources, 1, lines))
    assert fit_context(sources, 0, lines) is sources


def test_answer_styles_fill_rule_and_example_and_leave_no_placeholder():
    import json
    import re
    from pathlib import Path

    import pytest

    from assistant.answering.cite import SCHEMAS
    from assistant.answering.prompting import build_messages, style_words

    prompts = Path(__file__).resolve().parents[2] / "prompts"
    sources = number_sources([_hit(Dispatch(id="a", body="x"), _sentences("a", 3), 1)])
    seen = set()
    for citing in SCHEMAS:
        for style in ("sentences", "concise"):
            for language in ("it", "en"):
                system = build_messages(prompts, "Chi?", language, sources, citing, style)[0]["content"]
                words = style_words(prompts, language, style)
                assert words["style_rule"].split(";")[0] in system
                # the example reply is valid JSON of the citing's shape, with this style's answer
                reply = json.loads(system.rsplit("Reply: ", 1)[1].strip())
                assert set(reply) == set(SCHEMAS[citing]["required"])
                assert words["example_answer"] in system
                assert not re.search(r"\{\{|\}\}|\{[a-z_]+\}", system), "unfilled or doubled braces"
                seen.add(system)
    assert len(seen) == 8  # every citing x style x language prompt differs
    concise = style_words(prompts, "en", "concise")["example_answer"]
    assert len(concise.split()) < len(style_words(prompts, "en", "sentences")["example_answer"].split())
    with pytest.raises(ValueError, match="Unknown answer style"):
        build_messages(prompts, "Chi?", "it", sources, "per_answer", "verbose")
