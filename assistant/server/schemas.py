"""Request bodies of the HTTP API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.domain import Filters


class HistoryMessage(BaseModel):
    """An earlier turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=8000)


class AskRequest(BaseModel):
    """``POST /api/ask`` and ``/api/ask/stream``."""

    question: str = Field(..., description="The question, in Italian or English.",
                          examples=["Quando verranno dispiegate le forze occidentali in Ucraina?"])
    filters: Filters | None = None
    top_k: int | None = Field(None, ge=1, le=50, description="Source sentences given to the model.")
    history: list[HistoryMessage] = Field([], max_length=40,
                                          description="Earlier turns; the question is rewritten to stand alone.")


class ChatMessage(BaseModel):
    """An OpenAI chat message (text content, or a list of text parts)."""

    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type", "text") == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """``POST /v1/chat/completions`` (OpenAI-compatible; extra fields ignored)."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=80)
    stream: bool = False
    filters: Filters | None = Field(None, description="Extension: restrict the dispatches searched.")
    top_k: int | None = Field(None, ge=1, le=50, description="Extension: source sentences given to the model.")
