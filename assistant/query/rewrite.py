"""Follow-up questions rewritten into standalone questions before retrieval.

"e cosa ha detto Lavrov?" after a question about Rutte becomes a question that
names its subject, so retrieval finds the right sentences. The prompt is the
file ``prompts/rewrite.txt``; the model is the configured ChatBackend."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from assistant.llms.base import ChatBackend, Message
from assistant.query.replies import clean_reply
from assistant.settings import Settings

#: turns of the conversation shown to the model, and characters kept of each
MAX_TURNS = 6
MAX_TURN_CHARS = 600
_MARKERS = re.compile(r"\s*\[\d+\]")


class QuestionRewriter:
    """Rewrite a follow-up question using the conversation so far."""

    def __init__(self, settings: Settings, llm_provider: Callable[[], ChatBackend]):
        self.template = (Path(settings.prompts_dir) / "rewrite.txt").read_text(encoding="utf-8")
        self._llm_provider = llm_provider
        self.max_tokens = settings.llm.question_max_tokens

    def rewrite(self, question: str, history: Sequence[Message] | None,
                model_turn: Callable[[], AbstractContextManager] = nullcontext) -> str | None:
        """The standalone question, or None when there is no history to resolve
        against (or the model's reply is unusable). The model call runs inside
        ``model_turn()`` (a server's exclusive model slot)."""
        turns = [m for m in (history or []) if m.get("role") in ("user", "assistant") and str(m.get("content", "")).strip()]
        if not turns or not question.strip():
            return None
        prompt = self.template.format(history=format_history(turns[-MAX_TURNS:]), question=question.strip())
        with model_turn():
            reply = self._llm_provider().chat([{"role": "user", "content": prompt}], max_tokens=self.max_tokens)
        rewritten = clean_reply(reply, question)
        if rewritten is None or missing_names(question, rewritten):
            # a small model sometimes drops the follow-up's subject: search with both questions instead
            previous = next((m["content"] for m in reversed(turns) if m["role"] == "user"), "")
            return f"{question.strip()} ({_MARKERS.sub('', previous).strip()})" if previous else None
        return rewritten


def format_history(turns: Sequence[Message]) -> str:
    """The conversation as 'User: ...' / 'Assistant: ...' lines."""
    lines = []
    for m in turns:
        text = _MARKERS.sub("", " ".join(str(m["content"]).split()))[:MAX_TURN_CHARS]
        lines.append(f"{'User' if m['role'] == 'user' else 'Assistant'}: {text}")
    return "\n".join(lines)


def missing_names(question: str, rewritten: str) -> list[str]:
    """Capitalised words (names) of the follow-up, after its first word, that the rewrite lost."""
    words = re.findall(r"\w+", question)[1:]
    low = rewritten.lower()
    return [w for w in words if w[0].isupper() and w.lower() not in low]
