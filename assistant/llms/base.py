"""What every language-model backend offers the answering service."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, TypedDict


class Message(TypedDict):
    """A chat message: role is 'system', 'user' or 'assistant'."""

    role: str
    content: str


def token_table(pairs) -> dict[str, float]:
    """{token text stripped: log-probability} from (text, logprob) pairs, likeliest
    first; of two tokens with the same stripped text (" yes", "yes") the likelier is kept."""
    out: dict[str, float] = {}
    for text, logprob in sorted(pairs, key=lambda pair: -pair[1]):
        key = text.strip()
        if key and key not in out:
            out[key] = float(logprob)
    return out


class LLMError(RuntimeError):
    """The model cannot answer (down, missing, too slow); the message names
    the backend, host and model and says what to do."""


class ChatBackend(ABC):
    """A chat model that can be asked for free text or for JSON matching a schema."""

    #: shown to users, e.g. "ollama qwen2.5:7b-instruct @ http://127.0.0.1:11434"
    description: str = ""
    #: whether ``schema=`` constrains the output (grammar / format)
    supports_schema: bool = True

    @abstractmethod
    def stream(self, messages: list[Message], schema: dict[str, Any] | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        """Yield the reply piece by piece; raise LLMError on failure."""

    def chat(self, messages: list[Message], schema: dict[str, Any] | None = None,
             max_tokens: int | None = None) -> str:
        """The whole reply."""
        return "".join(self.stream(messages, schema=schema, max_tokens=max_tokens))

    def next_token_logprobs(self, messages: list[Message], top: int = 20) -> dict[str, float] | None:
        """Natural-log probabilities of the ``top`` most likely first tokens of
        the reply (token text -> log-probability), or None where the backend
        does not return them; raise LLMError on failure."""
        return None

    def check(self) -> tuple[bool, str]:
        """(usable, message) without generating anything."""
        return True, self.description

    def health(self) -> dict[str, Any]:
        """The model's state for /healthz and `assistant status` (a supervised
        process reports up / starting / restarting, crashes and the last reason)."""
        return {"isolation": "none", "state": "up"}

    def close(self) -> None:
        """Release the model (stop its process, if it has one)."""

    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for ``text`` (estimate where unknown)."""
        return max(1, len(text) // 4)
