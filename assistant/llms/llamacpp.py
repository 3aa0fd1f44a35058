"""In-process llama.cpp backend (the bundled model by default), loaded
through llama-index's ``LlamaCPP``; JSON schemas become llama.cpp grammars."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.llms.base import ChatBackend, LLMError, Message, token_table
from assistant.settings import LLMSettings


def chatml(messages) -> str:
    """Qwen's ChatML prompt format for llama-index chat messages."""
    parts = [f"<|im_start|>{m.role.value if hasattr(m.role, 'value') else m.role}\n{m.content}<|im_end|>\n"
             for m in messages]
    return "".join(parts) + "<|im_start|>assistant\n"


@lru_cache(maxsize=16)
def _grammar(schema_json: str):
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_json_schema(schema_json, verbose=False)


class LlamaCppBackend(ChatBackend):
    """A GGUF model run by llama.cpp in this process (one call at a time)."""

    def __init__(self, model_path: Path, llm: LLMSettings, label: str | None = None):
        """``llm``: context_window, max_tokens, temperature, threads and timeout_s apply."""
        from llama_index.llms.llama_cpp import LlamaCPP

        self.timeout_s = llm.timeout_s
        self.max_tokens = llm.max_tokens
        self.temperature = llm.temperature
        self.description = f"llama.cpp {label or model_path.name}"
        try:
            self._llm = LlamaCPP(
                model_path=str(model_path), context_window=llm.context_window, max_new_tokens=llm.max_tokens,
                temperature=llm.temperature, messages_to_prompt=chatml, verbose=False,
                model_kwargs={"n_threads": llm.threads or _cores(), "n_batch": 512, "verbose": False},
            )
        except Exception as exc:  # llama.cpp raises ValueError/RuntimeError on bad files
            raise LLMError(f"Cannot load model {model_path}: {exc}") from exc
        self._lock = threading.Lock()

    @property
    def engine(self):
        """The underlying ``llama_cpp.Llama``."""
        return self._llm._model

    def count_tokens(self, text: str) -> int:
        return len(self.engine.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def next_token_logprobs(self, messages: list[Message], top: int = 20) -> dict[str, float] | None:
        """One forward pass over the prompt, reusing the cached prefix (a follow-up
        turn of the last answer costs only its new tokens)."""
        import numpy as np
        from llama_cpp import Llama
        from llama_index.core.llms import ChatMessage

        prompt = chatml([ChatMessage(role=m["role"], content=m["content"]) for m in messages])
        engine = self.engine
        with self._lock:
            tokens = _continuing(engine, prompt)
            if len(tokens) >= engine.n_ctx():
                raise LLMError(f"{self.description}: the prompt has {len(tokens)} tokens, more than the "
                               f"context window of {engine.n_ctx()}")
            cached = Llama.longest_token_prefix(engine.input_ids[:engine.n_tokens].tolist(), tokens)
            engine.n_tokens = min(cached, len(tokens) - 1)  # at least one token evaluated: fresh logits
            engine.eval(tokens[engine.n_tokens:])
            logits = np.ctypeslib.as_array(engine._ctx.get_logits(), shape=(engine.n_vocab(),)).copy()

        def text(i: int) -> str:
            return engine.detokenize([i], special=True).decode("utf-8", errors="ignore")

        return top_logprobs(logits, top, text)

    def stream(self, messages: list[Message], schema: dict[str, Any] | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        from llama_cpp import StoppingCriteriaList
        from llama_index.core.llms import ChatMessage

        prompt = chatml([ChatMessage(role=m["role"], content=m["content"]) for m in messages])
        kwargs: dict[str, Any] = {}
        if schema is not None:
            kwargs["grammar"] = _grammar(json.dumps(schema, sort_keys=True))
        deadline = time.monotonic() + self.timeout_s
        timed_out = []

        def past_deadline(_ids, _logits) -> bool:
            if time.monotonic() > deadline:
                timed_out.append(True)
                return True
            return False

        with self._lock:
            try:
                for part in self.engine(prompt=prompt, max_tokens=max_tokens or self.max_tokens,
                                        temperature=self.temperature, stream=True, stop=["<|im_end|>"],
                                        stopping_criteria=StoppingCriteriaList([past_deadline]), **kwargs):
                    text = part["choices"][0]["text"]
                    if text:
                        yield text
            except ValueError as exc:  # prompt longer than the context window
                raise LLMError(f"{self.description}: {exc}") from exc
        if timed_out:
            raise LLMError(f"{self.description} did not finish within {self.timeout_s:.0f} s "
                           "(ASSISTANT_LLM__TIMEOUT_S)")


def _continuing(engine, prompt: str) -> list[int]:
    """The prompt's tokens, keeping the cached tokens as they are where the prompt
    continues their text: a generated reply is rarely tokenized the way the
    tokenizer would split its text, so re-tokenizing would miss the cache from
    the reply's first token on."""
    data = prompt.encode("utf-8")
    cached = engine.input_ids[:engine.n_tokens].tolist()
    if cached:
        seen = engine.detokenize(cached, special=True)
        if len(data) > len(seen) and data.startswith(seen):
            return cached + engine.tokenize(data[len(seen):], add_bos=False, special=True)
    return engine.tokenize(data, special=True)


def top_logprobs(logits, top: int, token_text) -> dict[str, float]:
    """The ``top`` tokens of a logits row as {text: log-probability} (see ``token_table``)."""
    import numpy as np

    row = np.asarray(logits, dtype=np.float64)
    shifted = row - row.max()
    logprobs = shifted - np.log(np.exp(shifted).sum())
    return token_table((token_text(int(i)), logprobs[i]) for i in np.argsort(-logprobs)[:top])


def _cores() -> int:
    import os

    return max(1, len(os.sched_getaffinity(0)))
