"""HTML and Markdown for the chat UI. Every piece of dispatch or model text is
escaped here, so a dispatch holding ``<script>`` shows as plain text."""

from __future__ import annotations

from html import escape
from typing import Any

from assistant.domain import Answer, Dispatch, Sentence


def where(c: dict[str, Any] | Any) -> str:
    """'AGENCY · Place · 2026-02-03' for a citation or dispatch (dict or model)."""
    get = c.get if isinstance(c, dict) else lambda k: getattr(c, k, None)
    return " · ".join(str(x) for x in (get("agency"), get("place"), get("published_at")) if x)


def answer_markdown(answer: Answer, unsupported_label: str, conflicts_heading: str = "") -> str:
    """The chat message for an answer: escaped text with its [n] markers, then
    any answer sentence no source supports, visibly flagged, then the values
    the sources disagree on, newest first."""
    lines = [escape(answer.answer)]
    for sentence in answer.unsupported or []:
        lines.append(f"⚠️ _{escape(unsupported_label)}:_ {escape(sentence)}")
    if answer.conflicts:
        sides = [f"- **{escape(side.value)}** — {escape(where(side))} "
                 + "".join(f"[{n}]" for n in side.citations) for side in answer.conflicts]
        lines.append(f"⚖️ _{escape(conflicts_heading or 'Sources that disagree')}:_\n" + "\n".join(sides))
    return "\n\n".join(lines)


def rewrite_markdown(standalone: str, label: str) -> str:
    return f"↪ _{escape(label)}:_ {escape(standalone)}"


def citations_html(citations: list[dict[str, Any]], heading: str) -> str:
    """The cited sentences with agency, place, date and title."""
    if not citations:
        return ""
    items = []
    for c in citations:
        title = f'<div class="cit-title">{escape(c["title"])}</div>' if c.get("title") else ""
        items.append(
            f'<li class="citation" value="{int(c["n"])}" data-sentence-id="{escape(c["sentence_id"])}">'
            f'<span class="cit-text">{escape(c["text"])}</span>'
            f'<div class="cit-meta">{escape(where(c))}</div>{title}</li>')
    return f'<div class="citations"><h4>{escape(heading)}</h4><ol>{"".join(items)}</ol></div>'


def citation_choice(c: dict[str, Any]) -> str:
    """The label of a citation in the 'show dispatch' selector."""
    text = c["text"] if len(c["text"]) <= 70 else c["text"][:69] + "…"
    return f'[{c["n"]}] {where(c)} — {text}'


def dispatch_html(dispatch: Dispatch, sentences: list[Sentence], highlight: str | None = None) -> str:
    """A whole dispatch, escaped, with the sentence ``highlight`` (an id) marked."""
    body = dispatch.body
    marked = next((s for s in sentences if s.id == highlight), None)
    if marked is not None:
        text = (f'{escape(body[:marked.char_start])}<mark class="cited" id="cited-sentence" '
                f'data-sentence-id="{escape(marked.id)}">{escape(body[marked.char_start:marked.char_end])}'
                f'</mark>{escape(body[marked.char_end:])}')
    else:
        text = escape(body)
    title = escape(dispatch.title or "(untitled)")
    meta = " · ".join(escape(x) for x in (where(dispatch), dispatch.language, dispatch.source or "", dispatch.id) if x)
    link = ""
    if dispatch.url and dispatch.url.lower().startswith(("http://", "https://")):
        link = f' · <a href="{escape(dispatch.url)}" target="_blank" rel="noopener noreferrer">source</a>'
    return (f'<article class="dispatch" data-doc-id="{escape(dispatch.id)}"><h3>{title}</h3>'
            f'<div class="dispatch-meta">{meta}{link}</div><div class="dispatch-body">{text}</div></article>')


CSS = """
.dispatch-body{white-space:pre-wrap;line-height:1.5}
.dispatch mark.cited{background:#ffe58a;padding:1px 0}
.dispatch-meta,.cit-meta{color:#666;font-size:.9em}
.citations ol{padding-left:1.4em}.citations li{margin:.35em 0}.cit-title{font-style:italic;font-size:.9em}
"""
