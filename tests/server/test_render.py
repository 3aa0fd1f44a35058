"""HTML for the UI escapes every piece of dispatch and model text."""

from __future__ import annotations

from datetime import date

from assistant.domain import Answer, Dispatch, Sentence
from assistant.server.render import answer_markdown, citation_choice, citations_html, dispatch_html
from assistant.server.ui import parse_filters

import pytest

BODY = 'Primo <img src=x onerror="alert(1)">. Secondo <script>alert(2)</script> fine.'


def _dispatch() -> tuple[Dispatch, list[Sentence]]:
    d = Dispatch(id="d1", title="<b>T</b>", agency="ANSA", place="Roma", published_at=date(2026, 2, 3), body=BODY,
                 url="javascript:alert(3)")
    first = BODY.index(".") + 1
    return d, [Sentence(id="d1-s000", doc_id="d1", index=0, text=BODY[:first], char_start=0, char_end=first),
               Sentence(id="d1-s001", doc_id="d1", index=1, text=BODY[first + 1:], char_start=first + 1,
                        char_end=len(BODY))]


def test_dispatch_is_escaped_and_the_cited_sentence_marked():
    d, sentences = _dispatch()
    html = dispatch_html(d, sentences, highlight="d1-s001")
    assert "<img" not in html and "<script" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    marked = html.split('data-sentence-id="d1-s001">')[1].split("</mark>")[0]
    assert marked == "Secondo &lt;script&gt;alert(2)&lt;/script&gt; fine."
    assert "javascript:" not in html  # only http(s) links
    assert "<mark" not in dispatch_html(d, sentences)


def test_citations_and_answer_are_escaped():
    c = {"n": 1, "sentence_id": "d1-s000", "doc_id": "d1", "text": "<img src=x onerror=alert(1)>", "agency": "A<b>",
         "place": None, "published_at": "2026-02-03", "title": "<i>t</i>"}
    html = citations_html([c], "Fonti")
    assert "<img" not in html and "<i>" not in html and "A&lt;b&gt;" in html and "2026-02-03" in html
    assert citation_choice(c).startswith("[1] A<b> · 2026-02-03")  # radio labels are text, not HTML
    answer = Answer(question="q", answer="Sì <script>x</script> [1].", language="it", abstained=False,
                    unsupported=["Frase <img src=x>"])
    md = answer_markdown(answer, "non verificata dalle fonti")
    assert "<script>" not in md and "<img" not in md
    assert "⚠️ _non verificata dalle fonti:_ Frase &lt;img src=x&gt;" in md


def test_ui_filters_parse_dates_or_explain():
    f = parse_filters("2026-01-01", "", ["ANSA"], ["it"])
    assert f.since == date(2026, 1, 1) and f.until is None and f.sources == ["ANSA"] and f.languages == ["it"]
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_filters("1 gennaio", "", [], [])


def test_conflicting_values_are_listed_escaped_newest_first():
    from assistant.domain import ConflictSide

    answer = Answer(question="q", answer="120 [1]. Le fonti non concordano.", language="it", abstained=False,
                    conflicts=[ConflictSide(value="<b>135</b>", citations=[2], agency="Reuters",
                                            published_at=date(2023, 2, 8)),
                               ConflictSide(value="120", citations=[1], agency="ANSA", published_at=date(2023, 2, 7))],
                    conflict_kind="disagree")
    text = answer_markdown(answer, "non verificata", "Fonti in disaccordo")
    assert "<b>" not in text and "&lt;b&gt;135&lt;/b&gt;" in text
    block = text.split("Fonti in disaccordo")[1]
    assert block.index("Reuters · 2023-02-08 [2]") < block.index("ANSA · 2023-02-07 [1]")
    assert "Fonti in disaccordo" not in answer_markdown(answer.model_copy(update={"conflicts": []}), "x", "Fonti in disaccordo")
