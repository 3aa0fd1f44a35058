"""Choose and build the language-model backend from settings (the only
place that knows which backends exist)."""

from __future__ import annotations

import logging

from assistant.llms.base import ChatBackend, LLMError
from assistant.settings import Settings

log = logging.getLogger(__name__)


def resolve_backend(settings: Settings) -> tuple[str, str]:
    """(backend name, reason). ``auto`` picks Ollama when it answers at the
    configured host and has the model, else the bundled model."""
    llm = settings.llm
    if llm.backend != "auto":
        return llm.backend, f"backend set to {llm.backend}"
    from assistant.llms.ollama_backend import probe_ollama

    ok, message = probe_ollama(llm.ollama_host, llm.ollama_model, timeout=llm.probe_timeout_s)
    if ok:
        return "ollama", message
    return "llamacpp", f"{message}; using the bundled model"


def build_llm(settings: Settings) -> ChatBackend:
    """The configured backend, ready to answer (loads local models)."""
    backend, reason = resolve_backend(settings)
    log.info("LLM backend: %s (%s)", backend, reason)
    llm = settings.llm
    if backend == "ollama":
        from assistant.llms.ollama_backend import OllamaBackend

        return OllamaBackend(llm)
    if backend == "openai":
        from assistant.llms.openai_backend import OpenAIBackend

        return OpenAIBackend(llm)
    if backend == "llamacpp":
        from assistant.llms.bundled import bundled_model_path, verify_model_file

        path = llm.model_path or bundled_model_path(llm.models_dir)
        verify_model_file(path)
        label = None if llm.model_path else "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (bundled)"
        if llm.isolation == "process":
            from assistant.llms.supervised import SupervisedLlamaCpp
            from assistant.llms.worker import WorkerConfig

            return SupervisedLlamaCpp(WorkerConfig(str(path), llm, label=label))
        from assistant.llms.llamacpp import LlamaCppBackend

        return LlamaCppBackend(path, llm, label=label)
    raise LLMError(f"Unknown LLM backend {backend!r}")
