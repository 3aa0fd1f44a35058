"""The domain types that cross every boundary: dispatches, sentences, chunks,
retrieval hits, citations and answers. No llama-index or Chroma objects leave
the services; these do."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field


def sentence_id(doc_id: str, index: int) -> str:
    """The stable id of a dispatch's ``index``-th sentence: ``<doc_id>-s<index>``."""
    return f"{doc_id}-s{index:03d}"


def split_sentence_id(sentence_id_: str) -> tuple[str, int]:
    """(dispatch id, sentence index) of a sentence id."""
    doc, _, number = sentence_id_.rpartition("-s")
    return doc, int(number)


def doc_of(sentence_id_: str) -> str:
    """The dispatch id of a sentence id."""
    return sentence_id_.rpartition("-s")[0]


def chunk_doc(chunk_id: str) -> str:
    """The dispatch id of a chunk id (``<doc_id>-c<k>``)."""
    return chunk_id.rpartition("-c")[0]


class Sentence(BaseModel):
    """One sentence of a dispatch body, with character offsets into the body."""

    id: str
    doc_id: str
    index: int
    text: str
    char_start: int
    char_end: int


class Chunk(BaseModel):
    """Whole consecutive sentences grouped for context."""

    id: str
    doc_id: str
    sentence_ids: list[str]
    text: str


class Dispatch(BaseModel):
    """A parsed dispatch: dateline fields, body and where it came from."""

    id: str
    title: str | None = None
    agency: str | None = None
    place: str | None = None
    published_at: date | None = None
    language: str = "und"
    source: str | None = None
    url: str | None = None
    body: str
    origin: str = Field("", description="File (and line) the dispatch was read from.")
    content_hash: str = ""


class ParsedDispatch(BaseModel):
    """A dispatch with its sentences and chunks, ready to index."""

    dispatch: Dispatch
    sentences: list[Sentence]
    chunks: list[Chunk]


class DispatchSentence(BaseModel):
    """A sentence with the dispatch it belongs to."""

    sentence: Sentence
    dispatch: Dispatch


class EarlierVersion(DispatchSentence):
    """A sentence of an older version of a re-issued dispatch that the newer version changed."""


class OtherCopy(DispatchSentence):
    """A sentence of another sender's near copy of a hit's dispatch, standing in the hit's place and reading
    differently (one story sent by two agencies, one figure changed)."""


class SentenceHit(BaseModel):
    """A retrieved sentence with its scores and the dispatch it belongs to."""

    sentence: Sentence
    dispatch: Dispatch
    score: float
    dense: float | None = None
    lexical: float | None = None
    context_before: list[Sentence] = []
    context_after: list[Sentence] = []
    earlier: list[EarlierVersion] = Field(
        default_factory=list, description="What older versions of this dispatch said in this sentence's place, "
        "where they said it differently (the older versions themselves are collapsed into this one).")
    copies: list[OtherCopy] = Field(
        default_factory=list, description="What near copies of this dispatch sent by other agencies say in this "
        "sentence's place, where they say it differently and were not retrieved themselves: checked for "
        "conflicts, not given to the model.")


class Filters(BaseModel):
    """Restrictions on what retrieval may return."""

    since: date | None = None
    until: date | None = None
    sources: list[str] = []
    languages: list[str] = []
    exclude_doc_ids: list[str] = Field(default_factory=list,
                                       description="Dispatches left out of retrieval (e.g. to test abstention).")

    def is_empty(self) -> bool:
        return not (self.since or self.until or self.sources or self.languages or self.exclude_doc_ids)


class Citation(BaseModel):
    """A source sentence an answer rests on, numbered in order of first use."""

    n: int
    sentence_id: str
    doc_id: str
    text: str
    agency: str | None = None
    place: str | None = None
    published_at: date | None = None
    title: str | None = None
    char_start: int
    char_end: int
    score: float


class AnswerSentence(BaseModel):
    """One sentence of an answer and the shown citations (numbers) that support it."""

    text: str
    citations: list[int] = []
    supported: bool = True
    aligned: list[int] = Field(default_factory=list, description="Citations added after generation.")


class ConflictSide(BaseModel):
    """One value the sources give for what the question asks, and the shown citations that give it."""

    value: str
    citations: list[int]
    agency: str | None = None
    published_at: date | None = None


class Answer(BaseModel):
    """What the answering service returns to every surface."""

    question: str
    standalone_question: str | None = Field(
        None, description="The follow-up question rewritten to stand alone (used for retrieval)."
    )
    translated_question: str | None = Field(
        None, description="The question in the corpus's main language, searched as well (see translate_questions)."
    )
    answer: str
    language: str
    abstained: bool
    abstain_reason: str | None = None
    citations: list[Citation] = []
    backend: str = ""
    filters: Filters = Filters()
    date_phrase: str | None = Field(None, description="The words of the question the date filter was read from.")
    retrieved: list[dict[str, Any]] = Field(
        default_factory=list, description="Sentence ids and scores given to the model."
    )
    sentences: list[AnswerSentence] = []
    unsupported: list[str] = Field(default_factory=list, description="Answer sentences no source supports.")
    dropped_citations: int = Field(0, description="Cited numbers that were not among the sources given.")
    rejected_citations: int = Field(0, description="Citations removed because the source does not support the sentence.")
    conflicts: list[ConflictSide] = Field(
        default_factory=list, description="When the sources give different values for what is asked: each value "
        "with the citations that give it, newest first (see conflict_kind).")
    conflict_kind: Literal["disagree", "updated"] | None = Field(
        None, description="'disagree': different dispatches give different values; 'updated': a later version of "
        "a dispatch changed the value (the answer rests on the latest, the earlier is cited too).")
    conflict_note: str | None = Field(
        None, description="The sentence of ``answer`` that tells the conflict (after the model's text, or before "
        "it when that text states only a superseded value).")
    context_tokens: int = 0
    timings: dict[str, float] = {}
    checks: list[dict[str, Any]] = Field(
        default_factory=list, description="Per answer sentence, the source numbers (as in ``retrieved``, from 1) "
        "the model cited, those that support it (strongest first), those verification kept ('supported') and "
        "those the question check kept ('shown'): how citations were chosen.")

    judged: dict[int, float] = Field(
        default_factory=dict, description="The model's probability that a source (by number) answers the question, "
        "for the candidate citations it was asked about (empty where the backend gives no log-probabilities).")

    def public(self) -> dict[str, Any]:
        """The JSON shape of ``assistant ask --json`` and ``POST /api/ask``."""
        return self.model_dump(mode="json", exclude={"retrieved", "checks", "judged"})
