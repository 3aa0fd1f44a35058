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

from assistant.core import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402

__all__ = ["Assistant", "Settings"]
