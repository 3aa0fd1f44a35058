"""Prompt building from the template files in the prompts directory."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from llama_index.core.prompts import PromptTemplate

from assistant.llms.base import Message
from assistant.model import SentenceHit

SUPPORTED = ("it", "en")


@dataclass(frozen=True)
class NumberedSource:
    """A sentence shown to the model as ``[n]``."""

    n: int
    hit: SentenceHit


@lru_cache(maxsize=8)
def _load(prompts_dir: str) -> tuple[str, str, dict]:
    root = Path(prompts_dir)
    missing = [name for name in ("system.txt", "question.txt", "languages.toml") if not (root / name).is_file()]
    if missing:
        raise FileNotFoundError(f"Prompt directory {root} lacks {', '.join(missing)} (ASSISTANT_PROMPTS_DIR)")
    words = tomllib.loads((root / "languages.toml").read_text(encoding="utf-8"))
    return (root / "system.txt").read_text(encoding="utf-8"), (root / "question.txt").read_text(encoding="utf-8"), words


def wording(prompts_dir: Path, language: str) -> dict[str, str]:
    """The per-language phrases (decline message, not-found token, ...)."""
    words = _load(str(prompts_dir))[2]
    return words.get(language) or words["en"]


def answer_language(language: str) -> str:
    """Answers are written in Italian or English: the question's language when
    it is one of them, else English."""
    return language if language in SUPPORTED else "en"


def number_sources(hits: list[SentenceHit]) -> list[NumberedSource]:
    """Number retrieved sentences [1..n] in ranking order."""
    return [NumberedSource(i + 1, hit) for i, hit in enumerate(hits)]


def format_source(source: NumberedSource) -> str:
    """``[n] (AGENCY, Place, date) sentence``, with context sentences around it."""
    d = source.hit.dispatch
    header = ", ".join(x for x in (d.agency or d.source, d.place, d.published_at and d.published_at.isoformat()) if x)
    before = " ".join(s.text for s in source.hit.context_before)
    after = " ".join(s.text for s in source.hit.context_after)
    text = source.hit.sentence.text
    line = f"[{source.n}] ({header}) {text}" if header else f"[{source.n}] {text}"
    if before or after:
        line += f"\n    context: {before} «{text}» {after}".rstrip()
    return line


def build_messages(prompts_dir: Path, question: str, language: str, sources: list[NumberedSource]) -> list[Message]:
    """System and user messages for one question."""
    system_t, question_t, _ = _load(str(prompts_dir))
    words = wording(prompts_dir, language)
    system = PromptTemplate(system_t).format(**words)
    user = PromptTemplate(question_t).format(
        sources="\n".join(format_source(s) for s in sources), question=question.strip(),
        language_name=words["language_name"])
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
