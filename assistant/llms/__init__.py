"""Language-model backends, chosen by settings in ``factory.build_llm``."""

from assistant.llms.base import ChatBackend, LLMError, Message
from assistant.llms.factory import build_llm

__all__ = ["ChatBackend", "LLMError", "Message", "build_llm"]
