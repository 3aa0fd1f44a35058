"""The answering service: question (+filters) -> cited Answer, streamed or not.

Every surface (CLI, UI, HTTP API, evaluation) calls ``AnswerService``.
Abstention is decided outside the model as well as by it: no sources, or
sources whose best dense similarity is under the calibrated threshold for
the question's language, mean "not in the corpus"."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date

from assistant.answering.events import Citations, Delta, Event, Final, final_answer
from assistant.answering.cite import SCHEMAS, parse_reply, resolve, sentence_citation, to_citation
from assistant.answering.field_stream import AnswerFieldStream
from assistant.answering.judge import candidates_of, judge_sources
from assistant.answering.conflicts import Statement, find_conflict, mentions
from assistant.retrieval.dates import with_relative_dates
from assistant.llms.base import ChatBackend, LLMError
from assistant.domain import Answer, AnswerSentence, ConflictSide, Filters, SentenceHit
from assistant.answering.prompting import NumberedSource, build_messages, fit_context, number_sources, wording
from assistant.answering.relevance import recheck, relevance_of
from assistant.retrieval.retriever import HybridRetriever, top_dense
from assistant.settings import ConflictSettings, Settings
from assistant.text.language import question_language
from assistant.text.words import fold
from assistant.query.translate import QuestionTranslator, target_language
from assistant.answering.verify import VerifiedSentence, Verifier

log = logging.getLogger(__name__)

SOURCES_ONLY = 3  # source sentences shown when the model cannot answer


class ModelUnavailable(LLMError):
    """The model failed; ``fallback`` holds the most relevant source sentences,
    labelled as such, for surfaces that show them instead of an answer."""

    def __init__(self, message: str, fallback: Answer):
        super().__init__(message)
        self.fallback = fallback


@dataclass
class Found:
    """A question as searched for an answer: the language it is answered in,
    the filters with the period it names and the words that named it, the
    translation it was searched with as well, the hits given to the model,
    the ranked hits to the depth asked (the same hits when none was) and the
    seconds the search took."""

    question: str
    language: str
    filters: Filters
    date_phrase: str | None
    translation: str | None
    hits: list[SentenceHit]
    ranked: list[SentenceHit]
    seconds: float


class AnswerService:
    """Retrieve, prompt, generate, resolve citations."""

    def __init__(self, settings: Settings, retriever: HybridRetriever, llm_provider,
                 verifier: Verifier | None = None, translator: QuestionTranslator | None = None):
        self.settings = settings
        self.retriever = retriever
        self.verifier = verifier  # None: the model's citations are shown unchecked
        self.translator = translator  # None: questions are searched only as asked
        self._llm_provider = llm_provider  # callable returning the ChatBackend, loaded on first use

    @property
    def llm(self) -> ChatBackend:
        return self._llm_provider()

    def find(self, question: str, language: str, top_k: int | None = None, filters: Filters | None = None,
             model_turn: Callable[[], AbstractContextManager] = nullcontext) -> tuple[list[SentenceHit], str | None]:
        """The source sentences for a question, and the translation it was also
        searched with (None when the question's language is not a minority
        in the corpus, translation is off, or the model could not translate)."""
        translation = self._translation(question, language, model_turn)
        hits = self.retriever.retrieve(question, language, top_k=top_k, filters=filters, translation=translation)
        return hits, translation[0] if translation else None

    def dated(self, question: str, language: str, filters: Filters,
              reference_date: date | None = None) -> tuple[Filters, str | None]:
        """``filters`` with the period a relative date in the question names
        ("ieri", "last week"), counted from ``reference_date`` (default: the
        setting, else today), and the phrase it came from; unchanged when the
        filters have dates, relative dates are off or no dispatch is dated."""
        if not (self.settings.retrieval.relative_dates and self.retriever.catalog.has_dated_dispatches()):
            return filters, None
        reference = reference_date or self.settings.retrieval.reference_date or date.today()
        return with_relative_dates(question, language, filters, reference)

    def _translation(self, question: str, language: str,
                     model_turn: Callable[[], AbstractContextManager]) -> tuple[str, str] | None:
        if self.translator is None or not self.settings.retrieval.translate_questions:
            return None
        target = target_language(language, Counter(self.retriever.catalog.language_counts()),
                                 self.settings.retrieval.translate_below_share)
        if target is None:
            return None
        try:
            text = self.translator.translate(question, target, model_turn)
        except LLMError as exc:  # search as asked; the answer step reports the model's state
            log.warning("question not translated: %s", exc)
            return None
        return (text, target) if text else None

    def search(self, question: str, filters: Filters | None = None, top_k: int | None = None,
               reference_date: date | None = None, model_turn: Callable[[], AbstractContextManager] = nullcontext,
               depth: int | None = None) -> Found:
        """The question searched as an answer searches it: a relative date in it
        ("ieri", "last week") becomes the date filter, counted from
        ``reference_date`` (default: the setting, else today) unless ``filters``
        has dates; a minority-language question is searched in translation too.
        ``depth``: the ranked hits to that depth as well, from the same search."""
        question = question.strip()
        if not question:
            raise ValueError("The question is empty")
        started = time.perf_counter()
        language = question_language(question)
        filters, date_phrase = self.dated(question, language, filters or Filters(), reference_date)
        translation = self._translation(question, language, model_turn)
        if depth is None:
            hits = ranked = self.retriever.retrieve(question, language, top_k=top_k, filters=filters,
                                                    translation=translation)
        else:
            hits, ranked = self.retriever.retrieve_depths(question, language, [top_k, depth], filters=filters,
                                                          translation=translation)
        return Found(question, language, filters, date_phrase, translation[0] if translation else None, hits,
                     ranked, time.perf_counter() - started)

    def ask(self, question: str, filters: Filters | None = None, top_k: int | None = None,
            reference_date: date | None = None) -> Answer:
        """Answer a question (blocking)."""
        return final_answer(self.ask_events(question, filters, top_k, reference_date))

    def ask_events(self, question: str, filters: Filters | None = None, top_k: int | None = None,
                   reference_date: date | None = None,
                   model_turn: Callable[[], AbstractContextManager] = nullcontext) -> Iterator[Event]:
        """Answer a question as a stream of events: ``delta`` (answer text as
        it is generated), ``citations`` (``provisional`` ones as soon as the
        model names a source, then the verified ones) and ``final`` (the complete Answer, identical to ``ask``). Relative dates
        in the question ("ieri", "last week") count from ``reference_date``
        (default: the setting, else today) unless ``filters`` has dates. The
        model call runs inside ``model_turn()`` (a server's exclusive model slot)."""
        yield from self.answer_events(self.search(question, filters, top_k, reference_date, model_turn), model_turn)

    def answer_events(self, found: Found,
                      model_turn: Callable[[], AbstractContextManager] = nullcontext) -> Iterator[Event]:
        """The events of :meth:`ask_events` for a question already searched
        (:meth:`search`): the model is given ``found.hits``."""
        started = time.perf_counter() - found.seconds  # when the search began
        timings: dict[str, float] = {"retrieval": found.seconds}
        question, language, hits = found.question, found.language, found.hits
        words = wording(self.settings.prompts_dir, language)
        base = dict(question=question, language=language, filters=found.filters, date_phrase=found.date_phrase,
                    backend="", translated_question=found.translation,
                    retrieved=[_retrieved(h) for h in hits])

        reason = self.decline_before_model(hits, language)
        if reason:
            timings["total"] = time.perf_counter() - started
            yield Final(Answer(answer=words["decline"], abstained=True, abstain_reason=reason, timings=timings,
                               **base))
            return

        t = time.perf_counter()
        sources = number_sources(hits)
        follower = AnswerFieldStream()
        try:
            llm = self.llm
            base["backend"] = llm.description

            def user_tokens(candidate: list[NumberedSource]) -> int:
                return llm.count_tokens(self._messages(question, language, candidate)[1]["content"])

            sources = fit_context(sources, self.settings.retrieval.context_max_tokens, user_tokens)
            messages = self._messages(question, language, sources)
            context_tokens = llm.count_tokens(messages[1]["content"])
            timings["prompt"] = time.perf_counter() - t
            t = time.perf_counter()
            shown: list[int] = []
            with model_turn():
                for piece in llm.stream(messages, schema=self._schema(llm)):
                    if "first_token" not in timings:
                        timings["first_token"] = time.perf_counter() - started
                    delta = follower.feed(piece)
                    cited = follower.cited()
                    if cited != shown:  # sources as soon as the model names them, checked at the end
                        shown = cited
                        provisional, _ = resolve(cited, sources)
                        yield Citations(True, [c.model_dump(mode="json") for c in provisional])
                    if delta:
                        yield Delta(delta)
                timings["generation"] = time.perf_counter() - t
                t = time.perf_counter()  # still the model's turn: the judgement reuses its cache
                answer = self._finish(follower.raw, sources, words, base, context_tokens, messages, timings)
                answer = self._second_look(answer, sources, words, base, timings)
        except LLMError as exc:
            timings["total"] = time.perf_counter() - started
            fallback = Answer(answer=words["sources_only"], abstained=True, abstain_reason="model_unavailable",
                              citations=[to_citation(s.n, s) for s in sources[:SOURCES_ONLY]], timings=timings,
                              **base)
            raise ModelUnavailable(str(exc), fallback) from exc
        timings["citations"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - started
        answer.timings = timings
        if answer.citations:
            yield Citations(False, [c.model_dump(mode="json") for c in answer.citations])
        yield Final(answer)

    def _second_look(self, answer: Answer, sources: list[NumberedSource], words: dict, base: dict,
                     timings: dict) -> Answer:
        """``answer``, or the model's reply given the best-ranked source alone when the answer
        cites other sources only, each scored under ``second_look_below`` of the best one, and that
        reply is an answer (``verification.second_look``;
        checked like the first, conflicts looked for among all ``sources``). Runs in the model's turn."""
        best, cited = sources[:1], {c.sentence_id for c in answer.citations}
        if (not self.settings.verification.second_look or answer.abstained or not best
                or best[0].hit.sentence.id in cited):
            return answer
        scores = [s.hit.score for s in sources if s.hit.sentence.id in cited]
        below = self.settings.verification.second_look_below * best[0].hit.score
        if scores and best[0].hit.score > 0 and max(scores) >= below:
            return answer  # the cited source ranks close to the best: the model's choice stands
        t = time.perf_counter()
        messages = self._messages(base["question"], base["language"], best)
        follower = AnswerFieldStream()
        try:
            llm = self.llm
            for piece in llm.stream(messages, schema=self._schema(llm)):
                follower.feed(piece)
        except LLMError as exc:  # the first answer stands
            log.warning("no second look at the best-ranked source: %s", exc)
            return answer
        again = self._finish(follower.raw, best, words, base, self.llm.count_tokens(messages[1]["content"]),
                             messages, pool=sources)
        if again.abstained:
            return answer
        timings["second_look"] = time.perf_counter() - t
        return again

    def _messages(self, question: str, language: str, sources: list[NumberedSource]) -> list[dict]:
        """The chat messages asking the model ``question`` on ``sources``."""
        return build_messages(self.settings.prompts_dir, question, language, sources, self.settings.llm.citations,
                              self.settings.llm.answer_style)

    def _schema(self, llm: ChatBackend) -> dict | None:
        """The reply's JSON schema, when ``llm`` constrains its output to one."""
        return SCHEMAS[self.settings.llm.citations] if llm.supports_schema else None

    def decline_before_model(self, hits: list[SentenceHit], language: str) -> str | None:
        """Why no model is asked ("no_sources", "low_relevance": the best dense
        cosine under the language's threshold), or None when one is."""
        if not hits:
            return "no_sources"
        thresholds = self.settings.retrieval.min_top_cosine
        threshold = thresholds.get(language, thresholds.get("default", 0.0))
        if top_dense(hits) < threshold:
            return "low_relevance"
        return None

    def _judge(self, checked: list[VerifiedSentence], sources: list[NumberedSource], messages, raw: str,
               question: str) -> dict[int, float]:
        """The model's judgement of the candidate citations (empty when off, not
        available from the backend, or failed: the other signals then decide)."""
        settings = self.settings.verification
        if not settings.question_judge:
            return {}
        by_number = {s.n: s for s in sources}
        candidates = [by_number[n] for n in candidates_of(checked, settings.question_judge_max) if n in by_number]
        try:
            judged = judge_sources(self.llm, messages, raw, candidates, question, self.settings.prompts_dir)
        except LLMError as exc:
            log.warning("no judgement of the citations: %s", exc)
            return {}
        return judged or {}

    def _finish(self, raw: str, sources: list[NumberedSource], words: dict, base: dict,
                context_tokens: int, messages=None, timings=None,
                pool: list[NumberedSource] | None = None) -> Answer:
        """The checked answer of the model's ``raw`` reply on ``sources``; conflicts are looked
        for among ``pool`` (default: ``sources``)."""
        pool = pool or sources
        reply = parse_reply(raw)
        text = reply.answer.strip()
        if not text or _says_not_found(text, words["not_found"]):
            return self._declined(Answer(answer=words["decline"], abstained=True, abstain_reason="model_not_found",
                                         context_tokens=context_tokens, **base), pool, words)
        known = {s.n for s in sources}
        dropped = sum(1 for n in reply.numbers if n not in known)
        claims = [(c.text, [n for n in c.numbers if n in known]) for c in reply.claims]
        if self.verifier is None:
            checked = [VerifiedSentence(text=claim, sources=cited or _align(claim, sources))
                       for claim, cited in claims]
        else:
            checked = self.verifier.verify(claims, base["language"], sources, base["question"])
        checks = [{"text": s.text, "cited": s.cited, "passing": s.passing, "supported": list(s.sources)}
                  for s in checked]
        reason = None
        if not any(s.supported for s in checked):
            reason = "unverified" if self.verifier is not None else "no_citation"
        judged: dict[int, float] = {}
        if not reason and self.verifier is not None:
            t = time.perf_counter()
            judged = self._judge(checked, sources, messages, raw, base["question"]) if messages else {}
            if timings is not None and self.settings.verification.question_judge:
                timings["judgement"] = time.perf_counter() - t
            relevance = dict(zip((s.n for s in sources), relevance_of(
                base["question"], [s.hit.score for s in sources], [s.hit.sentence.text for s in sources],
                judged)))
            checked = recheck(checked, relevance, self.settings.verification.relevance_policy())
            for check, sentence in zip(checks, checked):
                check["shown"] = list(sentence.sources)
            if not any(s.supported for s in checked):
                reason = "irrelevant_citations"  # supported, but by sentences that do not answer the question
        if reason:
            return self._declined(Answer(answer=words["decline"], abstained=True, abstain_reason=reason, checks=checks,
                                         judged=judged, dropped_citations=dropped, context_tokens=context_tokens,
                                         **base), pool, words)
        answer = _assemble(checked, sources, dropped, context_tokens, base)
        answer.checks, answer.judged = checks, judged
        return with_conflict(answer, pool, words, self.settings.conflicts)

    def _declined(self, answer: Answer, sources: list[NumberedSource], words: dict) -> Answer:
        """A declined answer, with the conflict among the best-ranked sources when there is one
        (``conflicts.on_decline``): the user learns why no single value could be given."""
        if not self.settings.conflicts.on_decline:
            return answer
        return with_conflict(answer, sources, words, self.settings.conflicts)


def _assemble(checked: list[VerifiedSentence], sources: list[NumberedSource], dropped: int,
              context_tokens: int, base: dict) -> Answer:
    """The answer text with markers after each sentence; shown citations renumbered in order of first use."""
    by_n = {s.n: s for s in sources}
    shown: dict[int, int] = {}  # source number -> shown number
    parts, sentences = [], []
    for sentence in checked:
        for n in sentence.sources:
            shown.setdefault(n, len(shown) + 1)
        numbers = [shown[n] for n in sentence.sources]
        parts.append(_with_marks(sentence.text, numbers))
        sentences.append(AnswerSentence(text=sentence.text, citations=numbers, supported=sentence.supported,
                                        aligned=[shown[n] for n in sentence.added]))
    citations = [to_citation(m, by_n[n]) for n, m in shown.items()]
    rejected = sum(len(s.rejected) for s in checked)
    return Answer(answer=" ".join(parts), abstained=False, citations=citations, sentences=sentences,
                  unsupported=[s.text for s in sentences if not s.supported], dropped_citations=dropped,
                  rejected_citations=rejected, context_tokens=context_tokens, **base)


def with_conflict(answer: Answer, sources: list[NumberedSource], words: dict, settings: ConflictSettings) -> Answer:
    """``answer`` with the conflict among its sources, if any (assistant/answering/conflicts.py):
    each side cited (added to the citations when the model did not cite it),
    listed in ``conflicts`` newest first, and told in a closing sentence. Checked against the
    rest (the sources, their dispatches' earlier versions, and other agencies' copies of the cited
    sentences): the cited sentences, the other sources of the cited dispatches, the
    ``settings.anchors`` best-ranked sources, and any source stating a value the answer's
    own words state. A declined answer lists the sides after the decline (it stays declined)."""
    by_id = {s.hit.sentence.id: s.hit for s in sources}
    pool = [Statement(s.hit.sentence.id, s.hit.sentence, s.hit.dispatch) for s in sources]
    pool += [Statement(e.sentence.id, e.sentence, e.dispatch, earlier=True) for s in sources for e in s.hit.earlier]
    cited = [c.sentence_id for c in answer.citations]
    # another agency's copy of a cited sentence (the copies of uncited sources are not what the answer rests on)
    pool += [Statement(c.sentence.id, c.sentence, c.dispatch) for s in sources if s.hit.sentence.id in cited
             for c in s.hit.copies]
    cited_docs = {c.doc_id for c in answer.citations}
    # checked against the rest: the cited sentences, the other sources of the cited dispatches, the best sources
    best = max((s.hit.score for s in sources), default=0.0)
    order = list(dict.fromkeys(cited + [s.hit.sentence.id for s in sources if s.hit.dispatch.id in cited_docs]
                               + [s.hit.sentence.id for s in sources[:settings.anchors]
                                  if s.hit.score >= settings.anchor_min_relative * best]))
    statements = {s.key: s for s in pool}
    own_words = " ".join(s.text for s in answer.sentences)
    conflict = find_conflict(answer.question, [statements[k] for k in order if k in statements], pool, settings,
                             stated=own_words, translation=answer.translated_question)
    if conflict is None:
        return answer
    citations = list(answer.citations)
    number = {c.sentence_id: c.n for c in citations}
    for side in conflict.sides:
        for statement in side.statements:
            if statement.key not in number:
                hit = by_id.get(statement.key)
                score = 0.0 if hit is None else hit.dense if hit.dense is not None else hit.score
                number[statement.key] = len(citations) + 1
                citations.append(sentence_citation(number[statement.key], statement.sentence, statement.dispatch,
                                                   score))
    sides = [ConflictSide(value=side.value, citations=[number[s.key] for s in side.statements],
                          agency=_sender(side.statements[0].dispatch), published_at=side.newest)
             for side in conflict.sides]
    # about what the answer rests on: a cited dispatch, or the best-ranked source (the likeliest answer)
    about = set(cited) | ({sources[0].hit.sentence.id} if sources else set())
    involved = any(st.key in about or st.dispatch.id in cited_docs
                   for side in conflict.sides for st in side.statements)
    if answer.abstained:  # no answer to rest on: each side listed after the decline, newest first
        note, leads = _listed(words["conflict_declined"], sides, words), False
    else:
        note, leads = _conflict_note(conflict.kind, sides, answer.answer, words, involved)
    numbers = list(dict.fromkeys(n for side in sides for n in side.citations))
    retrieved = answer.retrieved + [{"sentence_id": s.key, "score": 0.0, "dense": None,
                                     "earlier_version" if s.earlier else "other_copy": True}
                                    for side in conflict.sides for s in side.statements if s.key not in by_id]
    told = AnswerSentence(text=note, citations=numbers)
    return answer.model_copy(update={
        "answer": f"{note} {answer.answer}" if leads else f"{answer.answer} {note}",
        "citations": citations, "conflicts": sides, "conflict_kind": conflict.kind, "conflict_note": note,
        "retrieved": retrieved,
        "sentences": [told, *answer.sentences] if leads else [*answer.sentences, told]})


def _retrieved(hit: SentenceHit) -> dict:
    """A source as the answer records it: its id, scores, the earlier versions collapsed into it
    and the other agencies' copies kept beside it."""
    out = {"sentence_id": hit.sentence.id, "score": hit.score, "dense": hit.dense}
    if hit.earlier:
        out["earlier"] = [e.sentence.id for e in hit.earlier]
    if hit.copies:
        out["copies"] = [c.sentence.id for c in hit.copies]
    return out


def _sender(dispatch) -> str | None:
    return dispatch.agency or dispatch.source


def _who(side: ConflictSide) -> str:
    return ", ".join(x for x in (side.agency, side.published_at and side.published_at.isoformat()) if x) or "?"


def _conflict_note(kind: str, sides: list[ConflictSide], text: str, words: dict,
                   involved: bool = True) -> tuple[str, bool]:
    """The sentence telling the conflict, and whether it leads the answer.

    Sources that disagree: every side with its agency, date and markers, after the
    answer. An update: the earlier values after the answer; when the answer's own text
    does not state the latest value, the note states it first, and when the text
    states only an earlier value, the note comes before it (what is read first is
    the latest); both only when the update ``involved`` what the answer cites or the
    best-ranked source (an update of another source about another fact is told, never
    given as the answer)."""
    if kind == "updated":
        earlier = " ".join(words["conflict_updated"].format(who=_who(side), value=f"{side.value}{_marks(side)}")
                           for side in sides[1:])
        if mentions(text, sides[0].value) or not involved:
            return earlier, False
        latest = words["conflict_latest"].format(who=_who(sides[0]), value=f"{sides[0].value}{_marks(sides[0])}")
        superseded = any(mentions(text, side.value) for side in sides[1:])
        return f"{latest} {earlier}", superseded
    return _listed(words["conflict_disagree"], sides, words), False


def _listed(template: str, sides: list[ConflictSide], words: dict) -> str:
    """``template`` with every side, its agency, date and markers, in order."""
    listed = "; ".join(words["conflict_side"].format(value=side.value, who=_who(side)) + _marks(side)
                       for side in sides)
    return template.format(sides=listed)


def _marks(side: ConflictSide) -> str:
    return " " + "".join(f"[{n}]" for n in side.citations)


def _with_marks(text: str, numbers: list[int]) -> str:
    if not numbers:
        return text
    marks = "".join(f"[{n}]" for n in numbers)
    body = text.rstrip()
    if body.endswith((".", "!", "?")):
        return f"{body[:-1]} {marks}{body[-1]}"
    return f"{body} {marks}"


def _fold(text: str) -> str:
    return " ".join(fold(text).split())


def _says_not_found(text: str, token: str) -> bool:
    folded = _fold(text)
    return token.lower() in folded or folded.replace("_", " ") in {"not found", "non trovato"}


def _align(answer: str, sources: list[NumberedSource]) -> list[int]:
    """Post-hoc (verification off): the best-ranked source that contains the whole answer."""
    folded = _fold(answer).rstrip(".")
    for source in sources:
        if folded and folded in _fold(source.hit.sentence.text):
            return [source.n]
    return []
