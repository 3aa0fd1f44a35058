"""Question answering over news dispatches with citations to source sentences."""

import os as _os

# Offline by default: no hub downloads, no analytics, no telemetry.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "OPENBLAS_NUM_THREADS": "1",
}.items():
    _os.environ.setdefault(_key, _value)

__all__ = ["Assistant", "Settings"]


def __getattr__(name: str):
    """``assistant.Assistant`` and ``assistant.Settings``, imported on first use, so that a
    process needing one module (the model worker) does not load the whole stack."""
    if name == "Assistant":
        from assistant.core import Assistant

        return Assistant
    if name == "Settings":
        from assistant.settings import Settings

        return Settings
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
