"""Questions translated into the language of most of the corpus before retrieval.

BM25 matches words, so an English question over Italian dispatches finds
little beyond names; with the question also in Italian the lexical side
matches again and the dense side gets a second query. The prompt is the file
``prompts/translate.txt``; the model is the configured ChatBackend."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from assistant.answering.prompting import wording
from assistant.llms.base import ChatBackend
from assistant.query.replies import clean_reply
from assistant.retrieval.fusion import language_share
from assistant.settings import Settings

#: translations kept, newest last: a question retrieved and then answered (as the
#: evaluation runner does) costs one model call, not two
KEPT = 256


def target_language(language: str, corpus_languages: Counter, below_share: float) -> str | None:
    """The corpus's main language when the question's language is under
    ``below_share`` of the corpus (None: no translation needed, or an empty
    corpus); the share is ``retrieval.translate_below_share``."""
    if not sum(corpus_languages.values()) or language_share(language, corpus_languages) >= below_share:
        return None
    main, _ = corpus_languages.most_common(1)[0]
    return main if main != language else None


class QuestionTranslator:
    """Translate a question with the language model."""

    def __init__(self, settings: Settings, llm_provider: Callable[[], ChatBackend]):
        self._kept: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._lock = threading.Lock()
        self.prompts_dir = Path(settings.prompts_dir)
        self.template = (self.prompts_dir / "translate.txt").read_text(encoding="utf-8")
        self._llm_provider = llm_provider
        self.max_tokens = settings.llm.question_max_tokens

    def translate(self, question: str, target: str,
                  model_turn: Callable[[], AbstractContextManager] = nullcontext) -> str | None:
        """``question`` in the ``target`` language, or None when the model's reply
        is unusable (empty, or far longer than the question). The model call
        runs inside ``model_turn()`` (a server's exclusive model slot); a
        question translated lately is not sent again."""
        if not question.strip():
            return None
        key = (question, target)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        translated = self._translate(question, target, model_turn)
        with self._lock:
            self._kept[key] = translated
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return translated

    def _translate(self, question: str, target: str, model_turn: Callable[[], AbstractContextManager]) -> str | None:
        words = wording(self.prompts_dir, target)
        name = words["language_name"]
        examples = "\n\n".join(f"Question: {source}\n{name}: {translated}"
                                 for source, translated in words["translations"])
        prompt = self.template.format(language_name=name, examples=examples, question=question.strip())
        with model_turn():
            reply = self._llm_provider().chat([{"role": "user", "content": prompt}], max_tokens=self.max_tokens)
        line = clean_reply(reply, question)
        return line if line and line.casefold() != question.strip().casefold() else None
