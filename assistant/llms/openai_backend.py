"""OpenAI-compatible servers (vLLM, TGI, llama.cpp's llama-server,
llama-cpp-python's server) through llama-index's ``OpenAILike``.

Schemas go as ``response_format``: first in OpenAI's ``json_schema`` form;
a server that refuses it (400/422, or an error naming
``response_format``) is asked with ``{"type": "json_object",
"schema": ...}`` (llama-cpp-python's form), then without a format (the
prompt still asks for JSON). The form that worked is remembered."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from assistant.llms.base import ChatBackend, LLMError, Message, token_table
from assistant.settings import LLMSettings

log = logging.getLogger(__name__)

SCHEMA_FORMS = ("json_schema", "json_object", "none")


def response_format(form: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The ``response_format`` request field for one of SCHEMA_FORMS."""
    if form == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
    if form == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


class OpenAIBackend(ChatBackend):
    """A model behind an OpenAI-compatible ``/v1`` endpoint."""

    def __init__(self, llm: LLMSettings):
        """``llm``: openai_base_url, openai_model, openai_api_key, max_tokens, temperature,
        timeout_s and context_window apply."""
        from llama_index.llms.openai_like import OpenAILike

        self.base_url, self.model, self.api_key = llm.openai_base_url, llm.openai_model, llm.openai_api_key
        self.timeout_s = llm.timeout_s
        self.description = f"openai-compatible {self.model} @ {self.base_url}"
        self.schema_form = SCHEMA_FORMS[0]
        self._llm = OpenAILike(model=self.model, api_base=self.base_url, api_key=self.api_key,
                               max_tokens=llm.max_tokens, temperature=llm.temperature, timeout=llm.timeout_s,
                               max_retries=0, is_chat_model=True, context_window=llm.context_window)

    def stream(self, messages: list[Message], schema: dict[str, Any] | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        forms = SCHEMA_FORMS[SCHEMA_FORMS.index(self.schema_form):] if schema is not None else ("none",)
        deadline = time.monotonic() + self.timeout_s
        for n, form in enumerate(forms):
            try:
                yield from self._stream_once(messages, schema, form, max_tokens, deadline)
                return
            except _FormatRefused as exc:
                if n + 1 == len(forms):
                    raise LLMError(f"{self._failure()}: {exc.cause}") from exc.cause
                log.info("%s refused response_format %s (%s); trying %s",
                         self.base_url, form, exc.cause, forms[n + 1])
                self.schema_form = forms[n + 1]

    def _stream_once(self, messages: list[Message], schema: dict[str, Any] | None, form: str,
                     max_tokens: int | None, deadline: float) -> Iterator[str]:
        import openai
        from llama_index.core.llms import ChatMessage

        kwargs: dict[str, Any] = {}
        fmt = response_format(form, schema) if schema is not None else None
        if fmt is not None:
            kwargs["response_format"] = fmt
        if max_tokens:
            kwargs["max_tokens"] = max_tokens
        started = False
        try:
            for part in self._llm.stream_chat([ChatMessage(role=m["role"], content=m["content"])
                                               for m in messages], **kwargs):
                if time.monotonic() > deadline:
                    raise LLMError(f"{self.description} did not finish within {self.timeout_s:.0f} s "
                                   "(ASSISTANT_LLM__TIMEOUT_S)")
                if part.delta:
                    started = True
                    yield part.delta
        except LLMError:
            raise
        except openai.APIStatusError as exc:
            # llama-cpp-python's server answers a refused format with 500 naming the field
            if not started and fmt is not None and (exc.status_code in (400, 422) or "response_format" in str(exc)):
                raise _FormatRefused(exc) from exc
            raise LLMError(f"{self._failure()}: HTTP {exc.status_code} {_short(exc)}") from exc
        except openai.APITimeoutError as exc:
            raise LLMError(f"{self.description} did not answer within {self.timeout_s:.0f} s "
                           "(ASSISTANT_LLM__TIMEOUT_S)") from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"Cannot reach the OpenAI-compatible server at {self.base_url} "
                           f"(ASSISTANT_LLM__OPENAI_BASE_URL): {exc.__cause__ or exc}") from exc
        except Exception as exc:
            raise LLMError(f"{self._failure()}: {type(exc).__name__}: {exc}") from exc

    def next_token_logprobs(self, messages: list[Message], top: int = 20) -> dict[str, float] | None:
        """The first token's ``top_logprobs``; None when the server refuses or omits them."""
        import openai

        client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout_s, max_retries=0)
        try:
            reply = client.chat.completions.create(model=self.model, messages=messages, max_tokens=1,
                                                   temperature=0.0, logprobs=True, top_logprobs=top)
        except openai.APIStatusError:  # e.g. a llama.cpp server started without logits for every token
            return None
        except openai.APIError as exc:
            raise LLMError(f"{self._failure()}: {type(exc).__name__}: {exc}") from exc
        content = reply.choices[0].logprobs.content if reply.choices and reply.choices[0].logprobs else None
        if not content:
            return None
        return token_table((t.token, t.logprob) for t in content[0].top_logprobs or [])

    def _failure(self) -> str:
        return f"OpenAI-compatible server at {self.base_url} failed with model {self.model}"


class _FormatRefused(Exception):
    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


def _short(exc: Exception, limit: int = 300) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."
