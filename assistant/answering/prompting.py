"""Prompt building from the template files in the prompts directory."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from llama_index.core.prompts import PromptTemplate

from assistant.domain import SentenceHit
from assistant.llms.base import Message

# The system prompt for each way of citing (LLMSettings.citations).
SYSTEM_PROMPTS = {"per_answer": "system.txt", "per_sentence": "system_per_sentence.txt"}
STYLES_FILE = "styles.toml"  # the answer styles' rules (LLMSettings.answer_style)


@dataclass(frozen=True)
class NumberedSource:
    """A sentence shown to the model as ``[n]``."""

    n: int
    hit: SentenceHit


@lru_cache(maxsize=8)
def _load(prompts_dir: str, system_name: str = "system.txt") -> tuple[str, str, dict, dict]:
    root = Path(prompts_dir)
    needed = (system_name, "question.txt", "languages.toml", STYLES_FILE)
    missing = [name for name in needed if not (root / name).is_file()]
    if missing:
        raise FileNotFoundError(f"Prompt directory {root} lacks {', '.join(missing)} (ASSISTANT_PROMPTS_DIR)")
    system, question, words, styles = ((root / name).read_text(encoding="utf-8") for name in needed)
    return system, question, tomllib.loads(words), tomllib.loads(styles)


def wording(prompts_dir: Path, language: str) -> dict[str, str]:
    """The per-language phrases (decline message, not-found token, ...)."""
    words = _load(str(prompts_dir))[2]
    return words.get(language) or words["en"]


def number_sources(hits: list[SentenceHit]) -> list[NumberedSource]:
    """Number retrieved sentences [1..n] in ranking order."""
    return [NumberedSource(i + 1, hit) for i, hit in enumerate(hits)]


def _header(dispatch) -> str:
    parts = (dispatch.agency or dispatch.source, dispatch.place,
             dispatch.published_at and dispatch.published_at.isoformat())
    return ", ".join(x for x in parts if x)


def format_sources(sources: list[NumberedSource]) -> str:
    """The sources block of the prompt: one group per dispatch (in order of its
    best-ranked hit) under a single ``(AGENCY, Place, date)`` header; within it
    each hit in ranking order, as ``[n]``, with its context sentences around it
    as ``-`` lines. Every sentence is shown once, so hits of one dispatch do not
    repeat each other's context; the model reads the passage but can cite only
    numbered sentences."""
    groups: dict[str, list[NumberedSource]] = {}
    for source in sorted(sources, key=lambda s: s.n):
        groups.setdefault(source.hit.dispatch.id, []).append(source)
    blocks = []
    for members in groups.values():
        numbered = {s.hit.sentence.id for s in members}
        shown: set[str] = set()
        header = _header(members[0].hit.dispatch)
        lines = [f"({header})"] if header else []
        for s in members:
            for sentence in (*s.hit.context_before, s.hit.sentence, *s.hit.context_after):
                if sentence.id == s.hit.sentence.id:
                    lines.append(f"[{s.n}] {sentence.text}")
                elif sentence.id not in shown and sentence.id not in numbered:
                    lines.append(f"- {sentence.text}")
                shown.add(sentence.id)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def fit_context(sources: list[NumberedSource], max_tokens: int,
                count: Callable[[list[NumberedSource]], int]) -> list[NumberedSource]:
    """Leave out the context sentences of the lowest-scored hits, one hit at a
    time, until ``count(sources) <= max_tokens`` (0: no budget). Numbered hits
    are never removed, so citations keep their meaning."""
    if max_tokens <= 0 or count(sources) <= max_tokens:
        return sources
    fitted = list(sources)
    lowest_first = sorted(range(len(fitted)), key=lambda i: (fitted[i].hit.score, -i))
    for i in lowest_first:
        hit = fitted[i].hit
        if not (hit.context_before or hit.context_after):
            continue
        fitted[i] = NumberedSource(fitted[i].n, hit.model_copy(update={"context_before": [], "context_after": []}))
        if count(fitted) <= max_tokens:
            break
    return fitted


def style_words(prompts_dir: Path, language: str, style: str) -> dict[str, str]:
    """The wording of ``language`` with the answer style's rule and example answer
    (``style_rule``, ``example_answer``) filled in."""
    words = dict(wording(prompts_dir, language))
    styles = _load(str(prompts_dir))[3]
    if style not in styles or style not in words.get("example_answers", {}):
        raise ValueError(f"Unknown answer style {style!r}: {STYLES_FILE} and languages.toml of {prompts_dir} "
                         f"define {sorted(styles)}")
    words["example_answer"] = words["example_answers"][style]
    words["style_rule"] = styles[style]["rule"].format(language_name=words["language_name"])
    return words


def build_messages(prompts_dir: Path, question: str, language: str, sources: list[NumberedSource],
                   citations: str = "per_answer", style: str = "sentences") -> list[Message]:
    """System and user messages for one question; ``citations`` picks the
    system prompt of that way of citing (``SYSTEM_PROMPTS``), ``style`` the
    answer style's rule and example (``styles.toml``)."""
    system_t, question_t, _, _ = _load(str(prompts_dir), SYSTEM_PROMPTS[citations])
    words = style_words(prompts_dir, language, style)
    system = PromptTemplate(system_t).format(**words)
    user = PromptTemplate(question_t).format(
        sources=format_sources(sources), question=question.strip(),
        language_name=words["language_name"])
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
