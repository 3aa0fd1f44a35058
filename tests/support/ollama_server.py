"""A server speaking the Ollama HTTP API (``/api/version``, ``/api/tags``,
``/api/show``, ``/api/chat`` with NDJSON streaming and ``format`` schemas)
that serves real GGUF models through llama.cpp, for testing the Ollama backend
where no Ollama can be installed."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


def create_app(models: dict[str, Path], hang_seconds: float = 0.0) -> FastAPI:
    """The app; ``models`` maps Ollama model names to GGUF files."""
    app = FastAPI()
    loaded: dict = {}
    lock = threading.Lock()

    def engine(name: str):
        from llama_cpp import Llama

        if name not in loaded:
            loaded[name] = Llama(model_path=str(models[name]), n_ctx=4096, n_threads=2, verbose=False)
        return loaded[name]

    def not_found(name: str) -> JSONResponse:
        return JSONResponse({"error": f'model "{name}" not found, try pulling it first'}, status_code=404)

    @app.get("/")
    def root():
        return "Ollama is running"

    @app.get("/api/version")
    def version():
        return {"version": "0.12.0"}

    @app.get("/api/tags")
    def tags():
        now = datetime.now(timezone.utc).isoformat()
        return {"models": [{"name": n, "model": n, "modified_at": now, "size": p.stat().st_size,
                            "digest": "0" * 64, "details": {"format": "gguf", "family": "qwen2",
                                                            "parameter_size": "1.5B",
                                                            "quantization_level": "Q4_K_M"}}
                           for n, p in models.items()]}

    @app.post("/api/show")
    async def show(request: Request):
        body = await request.json()
        name = body.get("model") or body.get("name")
        if name not in models:
            return not_found(name)
        return {"modelfile": "", "parameters": "", "template": "", "details": {"format": "gguf"},
                "model_info": {}, "capabilities": ["completion"]}

    @app.post("/api/chat")
    async def chat(request: Request):
        body = await request.json()
        name = body.get("model")
        if name not in models:
            return not_found(name)
        options = body.get("options") or {}
        kwargs = {"temperature": options.get("temperature", 0.8), "max_tokens": options.get("num_predict", 256)}
        fmt = body.get("format")
        if fmt:
            from llama_cpp import LlamaGrammar
            from llama_cpp.llama_grammar import JSON_GBNF

            kwargs["grammar"] = (LlamaGrammar.from_string(JSON_GBNF, verbose=False) if fmt == "json"
                                 else LlamaGrammar.from_json_schema(json.dumps(fmt), verbose=False))
        messages = [{"role": m["role"], "content": m["content"]} for m in body.get("messages", [])]
        stream = body.get("stream", True)

        def pieces():
            if hang_seconds:
                time.sleep(hang_seconds)
            with lock:
                for part in engine(name).create_chat_completion(messages=messages, stream=True, **kwargs):
                    delta = part["choices"][0]["delta"].get("content")
                    if delta:
                        yield delta

        def line(content: str, done: bool, started: float, count: int) -> dict:
            out = {"model": name, "created_at": datetime.now(timezone.utc).isoformat(),
                   "message": {"role": "assistant", "content": content}, "done": done}
            if done:
                took = int((time.time() - started) * 1e9)
                out.update(done_reason="stop", total_duration=took, load_duration=0, prompt_eval_count=0,
                           prompt_eval_duration=0, eval_count=count, eval_duration=took)
            return out

        if not stream:
            started = time.time()
            parts = list(pieces())
            return line("".join(parts), True, started, len(parts))

        def ndjson():
            started, count = time.time(), 0
            for piece in pieces():
                count += 1
                yield json.dumps(line(piece, False, started, count)) + "\n"
            yield json.dumps(line("", True, started, count)) + "\n"

        return StreamingResponse(ndjson(), media_type="application/x-ndjson")

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_server(app: FastAPI) -> tuple[str, callable]:
    """Run ``app`` on a free loopback port in a thread: (base url, stop)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop
