"""Ollama backend through llama-index's ``Ollama`` LLM (official ``ollama``
client underneath); JSON schemas go to Ollama's ``format``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from assistant.llms.base import ChatBackend, LLMError, Message, token_table
from assistant.settings import LLMSettings


class OllamaBackend(ChatBackend):
    """A model served by Ollama at ``llm.ollama_host``."""

    def __init__(self, llm: LLMSettings):
        """``llm``: ollama_host, ollama_model, context_window, max_tokens, temperature and timeout_s apply."""
        from llama_index.llms.ollama import Ollama

        host, model, context_window = llm.ollama_host, llm.ollama_model, llm.context_window
        self.host, self.model, self.timeout_s, self.context_window = host, model, llm.timeout_s, context_window
        self.description = f"ollama {model} @ {host}"
        # context_window given so that building the LLM needs no server
        self._llm = Ollama(model=model, base_url=host, request_timeout=llm.timeout_s, context_window=context_window,
                           temperature=llm.temperature, additional_kwargs={"num_predict": llm.max_tokens,
                                                                            "num_ctx": context_window})

    def check(self) -> tuple[bool, str]:
        """Is the server up and does it have the model?"""
        return probe_ollama(self.host, self.model, timeout=min(5.0, self.timeout_s))

    def stream(self, messages: list[Message], schema: dict[str, Any] | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage

        chat = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
        kwargs: dict[str, Any] = {}
        if schema is not None:
            kwargs["format"] = schema
        llm = self._llm
        if max_tokens:  # Ollama.stream_chat ignores options=; it always sends its own model kwargs
            llm = self._llm.model_copy(update={"additional_kwargs": {**self._llm.additional_kwargs,
                                                                      "num_predict": max_tokens}})
        try:
            for part in llm.stream_chat(chat, **kwargs):
                if part.delta:
                    yield part.delta
        except Exception as exc:
            raise self._explain(exc) from exc

    def next_token_logprobs(self, messages: list[Message], top: int = 20) -> dict[str, float] | None:
        """The first token's top log-probabilities (Ollama 0.12.11 and later);
        None from servers that do not return them."""
        import ollama

        try:
            reply = ollama.Client(host=self.host, timeout=self.timeout_s).chat(
                model=self.model, messages=messages, stream=False, logprobs=True, top_logprobs=min(top, 20),
                options={"num_predict": 1, "temperature": 0.0, "num_ctx": self.context_window})
        except Exception as exc:
            raise self._explain(exc) from exc
        if not reply.logprobs:
            return None
        first = reply.logprobs[0]
        return token_table((t.token, t.logprob) for t in first.top_logprobs or [first])

    def _explain(self, exc: Exception) -> LLMError:
        import ollama

        if isinstance(exc, (httpx.ConnectError, ConnectionError)):
            return LLMError(f"Ollama is not running at {self.host} (connection refused). Start it with "
                            f"`ollama serve`, or set ASSISTANT_LLM__BACKEND=llamacpp for the bundled model.")
        if isinstance(exc, httpx.TimeoutException):
            return LLMError(f"Ollama at {self.host} did not answer with model {self.model} within "
                            f"{self.timeout_s:.0f} s (ASSISTANT_LLM__TIMEOUT_S).")
        if isinstance(exc, ollama.ResponseError) and exc.status_code == 404:
            return LLMError(f"Ollama at {self.host} does not have model {self.model}: run "
                            f"`ollama pull {self.model}` or set ASSISTANT_LLM__OLLAMA_MODEL.")
        return LLMError(f"Ollama at {self.host} failed with model {self.model}: {exc}")


def probe_ollama(host: str, model: str, timeout: float) -> tuple[bool, str]:
    """(True, msg) when Ollama answers at ``host`` and lists ``model``."""
    import ollama

    try:
        listed = ollama.Client(host=host, timeout=timeout).list()
    except Exception as exc:  # connection refused, timeout, bad host
        return False, f"Ollama not reachable at {host} ({type(exc).__name__})"
    names = {m.model for m in listed.models}
    wanted = {model, f"{model}:latest"} if ":" not in model else {model}
    if names & wanted:
        return True, f"Ollama at {host} has {model}"
    return False, f"Ollama at {host} does not have {model} (has: {', '.join(sorted(names)) or 'none'})"
