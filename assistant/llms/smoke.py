"""The setup's last check: does the bundled model answer on this machine?

``python -m assistant.llms.smoke`` checks that the installed llama.cpp build
has no AMX and no instruction set this CPU lacks, then has the model
process the server uses (``assistant.llms.worker``, a child process)
generate a few tokens under a JSON-schema grammar. A crash, an illegal
instruction or a hang ends it with one line naming the cause and what to
do, and exit status 1; ``scripts/setup.sh`` (and so ``scripts/run.sh``)
stops there instead of serving an app whose model dies on the first question.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from pathlib import Path

from assistant.llms.cpu import build_problems, cpu_flags, installed_system_info, parse_system_info

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
MESSAGES = [{"role": "system", "content": "Reply in JSON."},
            {"role": "user", "content": "Qual è la capitale d'Italia?"}]
REBUILD = ("rebuild llama-cpp-python for this CPU with `LLAMA_CPP_REBUILD=1 bash scripts/setup.sh` "
           "(docs/architecture.md: 'The model runtime and your CPU')")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def check(model_path: Path, timeout_s: float, python: str | None = None) -> tuple[bool, str]:
    """(ok, one line): the build suits the CPU and the model generates under a grammar."""
    from assistant.llms.supervised import ModelProcess, exit_reason
    from assistant.llms.worker import WorkerConfig
    from assistant.settings import LLMSettings

    info = installed_system_info()
    problems = build_problems(parse_system_info(info), cpu_flags())
    if problems:
        return False, f"the installed llama-cpp-python build does not suit this CPU ({cpu_name()}): " \
                      f"{'; '.join(problems)}; {REBUILD}"
    llm = LLMSettings(context_window=512, max_tokens=16, timeout_s=timeout_s, start_timeout_s=timeout_s,
                      stall_s=timeout_s)
    process = ModelProcess(WorkerConfig(str(model_path), llm), name="smoke", python=python)
    started = time.monotonic()
    try:
        try:
            process.start()
        except Exception as exc:
            return False, f"the bundled model did not load: {exc}; {REBUILD}"
        request_id, replies = process.request("stream", messages=MESSAGES, schema=SCHEMA, max_tokens=16)
        text = ""
        deadline = started + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, (f"the bundled model hung: no answer within {timeout_s:.0f} s on this CPU "
                               f"({cpu_name()}); {REBUILD}")
            try:
                message = replies.get(timeout=min(left, 1.0))
            except Exception:
                continue
            if message["type"] == "delta":
                text += message["text"]
            elif message["type"] == "done":
                break
            elif message["type"] == "error":
                return False, f"the bundled model failed: {message['message']}"
            elif message["type"] == "died":
                return False, (f"the bundled model died on its first tokens: {message['reason'] or exit_reason(None)} "
                               f"(CPU: {cpu_name()}); {REBUILD}")
        try:
            json.loads(text)
        except ValueError:
            if not text.strip():
                return False, "the bundled model generated nothing under a JSON-schema grammar"
        features = [k for k, v in parse_system_info(info).items() if v == "1"]
        return True, (f"the bundled model answers on this CPU ({cpu_name()}): {len(text)} characters of JSON "
                      f"in {time.monotonic() - started:.1f} s; build: {' '.join(features)}; no AMX")
    finally:
        process.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="GGUF file (default: the bundled model, assembled if needed)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds for loading and generating")
    parser.add_argument("--python", help="interpreter that runs the model process (default: this one)")
    args = parser.parse_args(argv)
    logging.getLogger("assistant.llms.supervised").setLevel(logging.CRITICAL)  # the one line below says it
    if args.model is None:
        from assistant.llms.bundled import bundled_model_path
        from assistant.settings import Settings

        args.model = bundled_model_path(Settings().llm.models_dir)
    ok, line = check(args.model, args.timeout, args.python)
    print(("model check: " if ok else "setup failed: ") + line, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
