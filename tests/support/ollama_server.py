"""A test server speaking the Ollama HTTP API (docs/api.md of ollama/ollama)
that serves real GGUF models through llama.cpp, for testing the Ollama
backend where no Ollama can be installed.

Implemented: ``GET|HEAD /``, ``/api/version``, ``/api/tags``, ``/api/ps``,
``POST /api/show``, ``POST /api/chat`` and ``POST /api/generate`` (NDJSON
streaming by default, one object per line, the final one ``done: true`` with
``done_reason`` and the timing/count fields; ``stream: false`` for one JSON
object), ``format`` (``"json"`` or a JSON schema, enforced with a llama.cpp
grammar), ``options`` (temperature, num_predict, stop, seed, top_k, top_p,
min_p, typical_p, repeat_penalty, presence/frequency_penalty, mirostat*;
num_ctx is accepted but the model is always loaded with a 4096-token window).
Chat messages go through the GGUF's own chat template
(``Llama.create_chat_completion``); ``/api/generate`` templates the prompt
(with ``system``) the same way unless ``raw`` is true.

Errors follow Ollama: ``{"error": "..."}`` bodies, 404 ``model "X" not found,
try pulling it first`` for an unknown model on chat/generate (``model 'X' not
found`` on show), 400 for a missing model name or a bad body. Model names are
matched like Ollama does: case-insensitively, ``:latest`` implied when no tag
is given, ``registry.ollama.ai/library/`` prefix optional.

``logprobs`` / ``top_logprobs`` (Ollama 0.12.11+) on ``/api/chat`` for one
predicted token without streaming (``num_predict: 1``, ``stream: false``:
how the backend judges citations): the greedy first token with its
log-probability and the ``top_logprobs`` most likely alternatives.

``POST /api/embed`` (Ollama 0.3.0+) for the embedding models given to
``create_app``: ``input`` a string or a list of strings, unit-length
``embeddings`` in input order, ``total_duration``/``load_duration``/
``prompt_eval_count`` (counted in words here); 404 ``model "X" not found, try pulling it first`` for
an unknown model, 400 for a missing model or an input that is not text. Like
Ollama, an empty list gives no embeddings and an empty string is refused.

Not implemented (not needed by the backend): pull/push/create/copy/delete,
the older ``/api/embeddings``, images, tools, thinking, suffix (insert), logprobs over longer
or streamed replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

VERSION = "0.6.8"
N_CTX = 4096
N_THREADS = 2
# Ollama's defaults (api.DefaultOptions) where they differ from llama-cpp-python's
DEFAULT_OPTIONS = {"temperature": 0.8, "top_k": 40, "top_p": 0.9, "min_p": 0.0, "typical_p": 1.0,
                   "repeat_penalty": 1.1, "presence_penalty": 0.0, "frequency_penalty": 0.0,
                   "num_predict": -1, "seed": -1}
# Ollama option name -> llama-cpp-python keyword and type
OPTION_MAP: dict[str, tuple[str, type]] = {
    "temperature": ("temperature", float), "top_k": ("top_k", int), "top_p": ("top_p", float),
    "min_p": ("min_p", float), "typical_p": ("typical_p", float), "repeat_penalty": ("repeat_penalty", float),
    "presence_penalty": ("presence_penalty", float), "frequency_penalty": ("frequency_penalty", float),
    "mirostat": ("mirostat_mode", int), "mirostat_tau": ("mirostat_tau", float),
    "mirostat_eta": ("mirostat_eta", float),
}
# llama.cpp LLAMA_FTYPE -> Ollama quantization_level
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
              11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
              17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}
NDJSON = "application/x-ndjson"


# --------------------------------------------------------------------------- GGUF header

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_gguf_header(path: Path) -> tuple[dict[str, Any], int]:
    """(metadata, parameter count) from a GGUF file without loading it.
    Arrays longer than 5 items come back as [] (as in ``ollama show``)."""
    with path.open("rb") as fh:
        def read(fmt: str):
            return struct.unpack(fmt, fh.read(struct.calcsize(fmt)))[0]

        def read_str() -> str:
            return fh.read(read("<Q")).decode("utf-8", errors="replace")

        def read_value(kind: int):
            if kind == 8:
                return read_str()
            if kind == 9:
                item_kind, count = read("<I"), read("<Q")
                if count > 5:  # skip big arrays (vocabularies, merges)
                    if item_kind == 8:
                        for _ in range(count):
                            fh.seek(read("<Q"), 1)
                    else:
                        fh.seek(struct.calcsize(_SCALARS[item_kind]) * count, 1)
                    return []
                return [read_value(item_kind) for _ in range(count)]
            return read(_SCALARS[kind])

        if fh.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        read("<I")  # version
        n_tensors, n_kv = read("<Q"), read("<Q")
        meta = {}
        for _ in range(n_kv):
            key = read_str()
            meta[key] = read_value(read("<I"))
        params = 0
        for _ in range(n_tensors):
            fh.seek(read("<Q"), 1)  # name
            dims = [read("<Q") for _ in range(read("<I"))]
            read("<I"), read("<Q")  # type, offset
            count = 1
            for d in dims:
                count *= d
            params += count
    return meta, params


def human_number(n: int) -> str:
    """Ollama's format.HumanNumber (parameter_size, e.g. '1.5B')."""
    for unit, size in (("B", 1_000_000_000), ("M", 1_000_000), ("K", 1_000)):
        if n >= size:
            value = n / size
            return f"{int(value)}{unit}" if value == int(value) else f"{value:.1f}{unit}"
    return str(n)


def _now() -> str:
    """Go's time.Now().UTC() as JSON (RFC 3339, 'Z')."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class _Model:
    """One served model: header facts at once, the llama.cpp engine lazily."""

    def __init__(self, name: str, path: Path):
        self.name, self.path = name, Path(path)
        stat = self.path.stat()
        self.size = stat.st_size
        self.modified_at = datetime.fromtimestamp(stat.st_mtime, timezone.utc).astimezone().isoformat()
        self.digest = hashlib.sha256(f"{self.path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
        self.meta, params = read_gguf_header(self.path)
        family = str(self.meta.get("general.architecture", ""))
        self.details = {"parent_model": "", "format": "gguf", "family": family,
                        "families": [family] if family else None,
                        "parameter_size": str(self.meta.get("general.size_label") or human_number(params)),
                        "quantization_level": FILE_TYPES.get(self.meta.get("general.file_type"), "unknown")}
        self.template = str(self.meta.get("tokenizer.chat_template", ""))
        self.llm = None
        self.formatter = None

    def load(self) -> float:
        """Load the engine once (caller holds the lock); seconds spent loading."""
        if self.llm is not None:
            return 0.0
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        started = time.perf_counter()
        self.llm = Llama(model_path=str(self.path), n_ctx=N_CTX, n_threads=N_THREADS, verbose=False)
        if self.template:
            special = lambda tok: (self.llm.detokenize([tok], special=True).decode("utf-8", "replace")  # noqa: E731
                                   if tok >= 0 else "")
            self.formatter = Jinja2ChatFormatter(template=self.template, eos_token=special(self.llm.token_eos()),
                                                 bos_token=special(self.llm.token_bos()))
        return time.perf_counter() - started

    def count_tokens(self, text: str, special: bool) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special) if text else []

    def render(self, messages: list[dict]) -> str:
        """The prompt the chat template makes of ``messages`` (for counts and context)."""
        if self.formatter is None:
            return "".join(m.get("content") or "" for m in messages)
        return self.formatter(messages=messages).prompt


# --------------------------------------------------------------------------- app


def create_app(models: dict[str, Path], hang_seconds: float = 0,
               embedders: dict[str, Callable[[list[str]], Any]] | None = None) -> FastAPI:
    """An app speaking the Ollama API; ``models`` maps Ollama model names
    (``"qwen2.5-coder:1.5b"``) to GGUF files, ``embedders`` maps embedding
    model names to a function from texts to a matrix of vectors. ``hang_seconds > 0`` makes
    chat and generate wait that long before answering (no headers either),
    as a model that is slow to load would. ``app.state.received`` keeps the
    bodies of chat/generate requests, for tests to inspect."""
    app = FastAPI(title="ollama (test double)", docs_url=None, redoc_url=None, openapi_url=None)
    served = {_canonical(name): _Model(name, path) for name, path in models.items()}
    lock = threading.Lock()  # one generation (and one load) at a time
    app.state.received = []

    @app.exception_handler(StarletteHTTPException)
    async def gin_style(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 405:
            return PlainTextResponse("405 method not allowed", status_code=405)
        if exc.status_code == 404:
            return PlainTextResponse("404 page not found", status_code=404)
        return _error(exc.status_code, str(exc.detail))

    def lookup(name: str) -> _Model | None:
        return served.get(_canonical(name))

    @app.api_route("/", methods=["GET", "HEAD"])
    def root():
        return PlainTextResponse("Ollama is running")

    @app.api_route("/api/version", methods=["GET", "HEAD"])
    def version():
        return {"version": VERSION}

    @app.api_route("/api/tags", methods=["GET", "HEAD"])
    def tags():
        listed = [{"name": m.name, "model": m.name, "modified_at": m.modified_at, "size": m.size,
                   "digest": m.digest, "details": m.details} for m in served.values()]
        listed.sort(key=lambda item: item["modified_at"], reverse=True)
        return {"models": listed}

    @app.get("/api/ps")
    def ps():
        return {"models": [{"name": m.name, "model": m.name, "size": m.size, "digest": m.digest,
                            "details": m.details, "size_vram": 0,
                            "expires_at": (datetime.now(timezone.utc) + timedelta(minutes=5)).astimezone().isoformat()}
                           for m in served.values() if m.llm is not None]}

    @app.post("/api/show")
    async def show(request: Request):
        body, problem = await _body(request)
        if problem:
            return problem
        name = body.get("model") or body.get("name")
        if not name:
            return _error(400, "model is required")
        m = lookup(name)
        if m is None:
            return _error(404, f"model '{name}' not found")
        info = {k: v for k, v in m.meta.items() if k not in ("general.name", "tokenizer.chat_template")}
        modelfile = (f'# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, '
                     f'replace FROM with:\n# FROM {m.name}\n\nFROM {m.path}\nTEMPLATE """{m.template}"""\n')
        return {"license": "", "modelfile": modelfile, "parameters": "", "template": m.template,
                "details": m.details, "model_info": info, "capabilities": ["completion"],
                "modified_at": m.modified_at}

    embedding = {_canonical(name): (name, fn) for name, fn in (embedders or {}).items()}
    app.state.embed_requests = 0

    @app.post("/api/embed")
    async def embed(request: Request):
        body, problem = await _body(request)
        if problem:
            return problem
        name = body.get("model")
        if not name:
            return _error(400, "model is required")
        if _canonical(name) not in embedding:
            return _error(404, f'model "{name}" not found, try pulling it first')
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return _error(400, "invalid input type")
        if any(not t for t in texts):
            return _error(400, "input length is zero")
        app.state.embed_requests += 1
        started = time.perf_counter_ns()
        label, fn = embedding[_canonical(name)]
        if texts:
            # one embedding at a time, in a worker thread (the engine uses every core)
            matrix = await asyncio.to_thread(_locked, lock, fn, texts)
            vectors = [[float(x) for x in row / max(float(np.linalg.norm(row)), 1e-12)] for row in matrix]
        else:
            vectors = []
        return {"model": label, "embeddings": vectors, "total_duration": time.perf_counter_ns() - started,
                "load_duration": 0, "prompt_eval_count": sum(len(t.split()) for t in texts)}

    @app.post("/api/chat")
    async def chat(request: Request):
        return await _complete(request, chat=True)

    @app.post("/api/generate")
    async def generate(request: Request):
        return await _complete(request, chat=False)

    async def _complete(request: Request, chat: bool) -> Response:
        started = time.perf_counter()
        body, problem = await _body(request)
        if problem:
            return problem
        app.state.received.append({"endpoint": "chat" if chat else "generate", **body})
        name = body.get("model") or ""
        if not name:
            return _error(400, "model is required")
        m = lookup(name)
        if m is None:
            return _error(404, f'model "{name}" not found, try pulling it first')
        if body.get("tools"):
            return _error(400, f"{name} does not support tools")
        if body.get("think"):
            return _error(400, f'"{name}" does not support thinking')
        if body.get("suffix"):
            return _error(400, f"{name} does not support insert")
        try:
            params = _sampling(body.get("options") or {})
            grammar = _grammar(body.get("format"))
        except ValueError as exc:
            return _error(400, str(exc))

        if chat:
            messages = []
            for msg in body.get("messages") or []:
                if not isinstance(msg, dict) or not msg.get("role"):
                    return _error(400, "messages must have a role")
                messages.append({"role": msg["role"], "content": msg.get("content") or ""})
            prompt = None
            empty = not messages
        else:
            prompt = body.get("prompt") or ""
            if body.get("raw") and (body.get("system") or body.get("template") or body.get("context")):
                return _error(400, "raw mode does not support template, system, or context")
            messages = None if body.get("raw") else (
                ([{"role": "system", "content": body["system"]}] if body.get("system") else [])
                + [{"role": "user", "content": prompt}])
            empty = not prompt

        if hang_seconds > 0:  # a model that takes long to load: nothing is sent meanwhile
            deadline = time.monotonic() + hang_seconds
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    return Response(status_code=499)
                await asyncio.sleep(0.05)
            if await request.is_disconnected():
                return Response(status_code=499)

        key = "message" if chat else "response"

        if body.get("logprobs"):
            if not chat or (body.get("options") or {}).get("num_predict") != 1 or body.get("stream", True):
                return _error(400, "this server returns logprobs on /api/chat for num_predict 1 without streaming")
            top = max(0, min(20, int(body.get("top_logprobs") or 0)))
            token, logprob, alternatives = await asyncio.to_thread(_first_token_logprobs, m, lock, messages, top)
            out = {"model": name, "created_at": _now(), "message": {"role": "assistant", "content": token},
                   "done": True, "done_reason": "length",
                   "logprobs": [{"token": token, "logprob": logprob, "bytes": list(token.encode()),
                                 "top_logprobs": alternatives}]}
            return JSONResponse(out, media_type="application/json; charset=utf-8")

        def frame(content: str, done: bool, **extra) -> dict:
            out: dict[str, Any] = {"model": name, "created_at": _now()}
            out[key] = {"role": "assistant", "content": content} if chat else content
            out["done"] = done
            out.update(extra)
            return out

        if empty:  # Ollama loads (or, with keep_alive 0, unloads) the model and answers at once
            unload = body.get("keep_alive") in (0, "0", "0s", "0m")
            await asyncio.to_thread(_load_locked, m, lock)
            return JSONResponse(frame("", True, done_reason="unload" if unload else "load"))

        events = _produce(m, lock, messages, prompt, params, grammar)

        def final(stats: dict, text: str, streamed: bool) -> dict:
            extra = {"done_reason": stats["done_reason"],
                     "total_duration": int((time.perf_counter() - started) * 1e9),
                     "load_duration": stats["load_duration"],
                     "prompt_eval_count": stats["prompt_eval_count"],
                     "prompt_eval_duration": stats["prompt_eval_duration"],
                     "eval_count": stats["eval_count"], "eval_duration": stats["eval_duration"]}
            if not chat and messages is not None:
                extra["context"] = stats["context"]
            return frame("" if streamed else text, True, **extra)

        if body.get("stream", True) is False:
            parts: list[str] = []
            async with contextlib.aclosing(events):
                async for kind, value in events:
                    if kind == "error":
                        return _error(500, value)
                    if kind == "piece":
                        parts.append(value)
                    else:
                        return JSONResponse(final(value, "".join(parts), streamed=False),
                                            media_type="application/json; charset=utf-8")
            return _error(500, "generation ended without a result")

        # streaming: like gin, headers go out with the first object
        first = await anext(events, ("error", "generation ended without a result"))
        if first[0] == "error":
            await events.aclose()
            return _error(500, first[1])

        async def ndjson() -> AsyncIterator[bytes]:
            try:
                kind, value = first
                while True:
                    if kind == "piece":
                        yield (json.dumps(frame(value, False)) + "\n").encode()
                    elif kind == "done":
                        yield (json.dumps(final(value, "", streamed=True)) + "\n").encode()
                        return
                    else:  # an error after content was sent goes in the stream
                        yield (json.dumps({"error": value}) + "\n").encode()
                        return
                    try:
                        kind, value = await anext(events)
                    except StopAsyncIteration:
                        return
            finally:
                await events.aclose()

        return StreamingResponse(ndjson(), media_type=NDJSON)

    return app


def _canonical(name: str) -> str:
    name = name.strip().lower()
    for prefix in ("registry.ollama.ai/library/", "registry.ollama.ai/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


async def _body(request: Request) -> tuple[dict, Response | None]:
    raw = await request.body()
    if not raw.strip():
        return {}, _error(400, "missing request body")
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, _error(400, f"invalid character in request body: {exc.msg}")
    if not isinstance(body, dict):
        return {}, _error(400, "json: cannot unmarshal request body into a request object")
    return body, None


def _locked(lock: threading.Lock, fn: Callable, *args):
    with lock:
        return fn(*args)


def _sampling(options: dict) -> dict:
    """llama-cpp-python keywords for Ollama ``options`` (Ollama's defaults)."""
    merged = {**DEFAULT_OPTIONS, **options}
    params: dict[str, Any] = {}
    try:
        for key, (target, kind) in OPTION_MAP.items():
            if key in merged:
                params[target] = kind(merged[key])
        num_predict = int(merged["num_predict"])
        params["max_tokens"] = num_predict if num_predict > 0 else None  # -1 and -2: until the context fills
        seed = int(merged["seed"])
        if seed >= 0:
            params["seed"] = seed
        stop = merged.get("stop")
        if stop:
            params["stop"] = [stop] if isinstance(stop, str) else [str(s) for s in stop]
        if "num_ctx" in merged:
            int(merged["num_ctx"])  # accepted; the model keeps its 4096-token window
    except (TypeError, ValueError) as exc:
        raise ValueError(f"invalid options: {exc}") from None
    return params


def _grammar(fmt: Any):
    """A llama.cpp grammar for Ollama's ``format`` ("json" or a JSON schema)."""
    if fmt in (None, ""):
        return None
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import JSON_GBNF

    if fmt == "json":
        return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
    if isinstance(fmt, dict):
        try:
            return LlamaGrammar.from_json_schema(json.dumps(fmt), verbose=False)
        except Exception as exc:  # noqa: BLE001 - a schema the converter cannot handle
            raise ValueError(f"invalid JSON schema in format: {exc}") from None
    raise ValueError('invalid format: expected "json" or a valid JSON schema')


def _load_locked(m: _Model, lock: threading.Lock) -> float:
    with lock:
        return m.load()


def _first_token_logprobs(m: _Model, lock: threading.Lock, messages: list[dict],
                          top: int) -> tuple[str, float, list[dict]]:
    """The greedy first reply token of the templated chat, its log-probability and the
    ``top`` likeliest tokens ({token, logprob, bytes})."""
    import numpy as np

    with lock:
        m.load()
        m.llm.reset()
        m.llm.eval(m.count_tokens(m.render(messages), special=True))
        logits = np.ctypeslib.as_array(m.llm._ctx.get_logits(), shape=(m.llm.n_vocab(),)).astype(np.float64)
        text = lambda i: m.llm.detokenize([int(i)], special=True).decode("utf-8", "replace")  # noqa: E731
    logprobs = logits - logits.max()
    logprobs -= np.log(np.exp(logprobs).sum())
    order = np.argsort(-logprobs)
    alternatives = [{"token": text(i), "logprob": float(logprobs[i]), "bytes": list(text(i).encode())}
                    for i in order[:top]]
    return text(order[0]), float(logprobs[order[0]]), alternatives


def _produce(m: _Model, lock: threading.Lock, messages: list[dict] | None, prompt: str | None,
             params: dict, grammar) -> AsyncIterator[tuple[str, Any]]:
    """Generate in a worker thread (holding the lock); yields ("piece", text)...
    then ("done", stats) or ("error", message). Closing the iterator (client
    gone) stops generation at the next token."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    cancel = threading.Event()
    end = object()

    def put(item) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        try:
            with lock:
                load_s = m.load()
                # evaluate the whole prompt every time: with llama-cpp-python's prompt cache the
                # repeat penalty would not see the cached prompt tokens (Ollama's sampler does),
                # and the same request could get a different answer at temperature 0
                m.llm.reset()
                t0 = time.perf_counter()
                if messages is not None:
                    rendered = m.render(messages)
                    stream = m.llm.create_chat_completion(messages=messages, stream=True, grammar=grammar, **params)
                else:
                    rendered = prompt or ""
                    stream = m.llm.create_completion(prompt=rendered, stream=True, grammar=grammar, **params)
                text, finish, t_first = [], "stop", None
                with contextlib.closing(stream):
                    for chunk in stream:
                        choice = chunk["choices"][0]
                        piece = choice["delta"].get("content") if messages is not None else choice.get("text")
                        if piece:
                            t_first = t_first or time.perf_counter()
                            text.append(piece)
                            put(("piece", piece))
                        if choice.get("finish_reason"):
                            finish = choice["finish_reason"]
                        if cancel.is_set():
                            return
                t_end = time.perf_counter()
                t_first = t_first or t_end
                answer = "".join(text)
                prompt_tokens = m.count_tokens(rendered, special=True)
                answer_tokens = m.count_tokens(answer, special=False)
                stats = {"done_reason": "length" if finish == "length" else "stop",
                         "load_duration": int(load_s * 1e9), "prompt_eval_count": len(prompt_tokens),
                         "prompt_eval_duration": int((t_first - t0) * 1e9), "eval_count": len(answer_tokens),
                         "eval_duration": int((t_end - t_first) * 1e9),
                         "context": prompt_tokens + answer_tokens}
            put(("done", stats))
        except Exception as exc:  # noqa: BLE001 - reported to the client as Ollama does
            put(("error", str(exc) or type(exc).__name__))
        finally:
            put(end)

    async def events() -> AsyncIterator[tuple[str, Any]]:
        thread = threading.Thread(target=work, name=f"ollama-gen-{m.name}", daemon=True)
        thread.start()
        try:
            while True:
                item = await queue.get()
                if item is end:
                    return
                yield item
        finally:
            cancel.set()

    return events()


# --------------------------------------------------------------------------- running


def free_port() -> int:
    """A loopback port nobody listens on (bound, read, closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_server(app: FastAPI, timeout: float = 30.0) -> tuple[str, Callable[[], None]]:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port in a background
    thread; returns (base url, stop) once ``GET /`` answers."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"ollama-test-server-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + "/", timeout=1.0).text == "Ollama is running":
                break
        except httpx.HTTPError:
            pass
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the Ollama test server did not start on {url}")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return url, stop
