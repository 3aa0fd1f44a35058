"""OpenAI-compatible servers (vLLM, TGI, llama.cpp server) through
llama-index's ``OpenAILike``; schemas go as ``response_format``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from assistant.llms.base import ChatBackend, LLMError, Message


class OpenAIBackend(ChatBackend):
    """A model behind an OpenAI-compatible ``/v1`` endpoint."""

    def __init__(self, base_url: str, model: str, api_key: str, max_tokens: int = 384,
                 temperature: float = 0.0, timeout_s: float = 120.0):
        from llama_index.llms.openai_like import OpenAILike

        self.base_url, self.model = base_url, model
        self.description = f"openai-compatible {model} @ {base_url}"
        self._llm = OpenAILike(model=model, api_base=base_url, api_key=api_key, max_tokens=max_tokens,
                               temperature=temperature, timeout=timeout_s, max_retries=0,
                               is_chat_model=True, context_window=4096)

    def stream(self, messages: list[Message], schema: dict[str, Any] | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage

        kwargs: dict[str, Any] = {}
        if schema is not None:
            kwargs["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "answer", "schema": schema}}
        if max_tokens:
            kwargs["max_tokens"] = max_tokens
        try:
            for part in self._llm.stream_chat([ChatMessage(role=m["role"], content=m["content"])
                                               for m in messages], **kwargs):
                if part.delta:
                    yield part.delta
        except Exception as exc:
            raise LLMError(f"OpenAI-compatible server at {self.base_url} failed with model "
                           f"{self.model}: {exc}") from exc
