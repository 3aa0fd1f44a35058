"""Every backend takes the model settings object (no defaults of its own to drift)."""

from assistant.llms.ollama_backend import OllamaBackend
from assistant.llms.openai_backend import OpenAIBackend
from assistant.llms.worker import RUN_SETTINGS, WorkerConfig
from assistant.settings import LLMSettings

LLM = LLMSettings(context_window=2048, max_tokens=100, temperature=0.3, timeout_s=7.0, threads=3,
                  ollama_host="http://127.0.0.1:1", openai_base_url="http://127.0.0.1:1/v1", openai_api_key="k")


def test_ollama_backend_reads_the_settings():
    backend = OllamaBackend(LLM)  # builds without a server
    assert (backend.host, backend.model, backend.timeout_s) == (LLM.ollama_host, LLM.ollama_model, 7.0)
    assert backend._llm.request_timeout == 7.0 and backend._llm.temperature == 0.3
    assert backend._llm.additional_kwargs == {"num_predict": 100, "num_ctx": 2048}


def test_openai_backend_reads_the_settings():
    backend = OpenAIBackend(LLM)
    assert (backend.base_url, backend.model, backend.api_key) == (LLM.openai_base_url, LLM.openai_model, "k")
    llm = backend._llm
    assert (llm.max_tokens, llm.temperature, llm.timeout, llm.context_window) == (100, 0.3, 7.0, 2048)


def test_worker_config_carries_the_run_settings_only():
    config = WorkerConfig("model.gguf", LLM, label="bundled")
    again = WorkerConfig.from_json(config.to_json())
    assert (again.model_path, again.label, again.beat_s) == ("model.gguf", "bundled", config.beat_s)
    assert again.llm.model_dump(include=RUN_SETTINGS) == LLM.model_dump(include=RUN_SETTINGS)
    assert "openai_api_key" not in config.to_json()  # what the model process does not need stays here
