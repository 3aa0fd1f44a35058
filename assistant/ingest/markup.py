"""HTML pages and markup inside dispatch text -> the plain text a reader sees
(stdlib ``html.parser``; scripts and styles dropped, block tags become line
breaks, entities decoded)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# a doctype, an <html> or <br> tag, or a closing tag of a common element
_TAG = re.compile(
    r"<!doctype\b|<html\b|<br\s*/?>|</(?:html|head|body|title|p|div|span|a|b|i|em|strong|u|ul|ol|li|table|tr|td|th|"
    r"h[1-6]|section|article|header|footer|blockquote|script|style|font|center)\s*>", re.I)
_SKIP = {"script", "style", "noscript", "template"}
_BLOCK = {"p", "div", "br", "li", "tr", "title", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header",
          "footer", "blockquote", "ul", "ol", "table", "hr"}


def has_markup(text: str) -> bool:
    """True when the text carries HTML tags (not just a stray '<')."""
    return _TAG.search(text) is not None


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page or fragment, one block per line."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))
