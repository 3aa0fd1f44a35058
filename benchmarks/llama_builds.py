"""llama.cpp builds compared on this machine: prompt processing and
generation tokens/s of the bundled model, then the answer benchmark
(first token and total p50) with each build, all in one run.

Each build is a folder holding an installed ``llama_cpp`` package (``pip
install --no-deps --target DIR WHEEL``), put first on PYTHONPATH::

    python benchmarks/llama_builds.py --build portable=/tmp/variants/portable \\
        --build native-no-amx=/tmp/variants/nativenoamx --build cpu-features=/tmp/variants/explicit \\
        --out benchmarks/results/llama-builds.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs inside each build's environment: the bundled model on a RAG-sized prompt.
RAW = r"""
import json, statistics, sys, time
import llama_cpp
from assistant.llms.bundled import bundled_model_path
from assistant.settings import Settings
path = str(bundled_model_path(Settings().llm.models_dir, progress=False))
llm = llama_cpp.Llama(model_path=path, n_ctx=4096, n_threads=2, n_batch=512, verbose=False)
text = open(sys.argv[1], encoding="utf-8").read()
tokens = llm.tokenize(text.encode(), add_bos=False)[:1000]
prompt = llm.detokenize(tokens).decode("utf-8", "ignore")
pp, tg = [], []
for i in range(3):
    llm.reset()
    t = time.perf_counter(); llm(prompt + f" ({i})", max_tokens=1, temperature=0); first = time.perf_counter() - t
    pp.append(len(tokens) / first)
    llm.reset()
    t = time.perf_counter(); out = llm(prompt + f" ({i})", max_tokens=65, temperature=0, stop=[]); whole = time.perf_counter() - t
    n = out["usage"]["completion_tokens"]
    tg.append((n - 1) / max(1e-6, whole - first))
print(json.dumps({"prompt_tokens": len(tokens), "pp_tok_s": statistics.median(pp), "tg_tok_s": statistics.median(tg),
                  "system_info": llama_cpp.llama_print_system_info().decode()}))
"""


def run_build(name: str, folder: Path, out_dir: Path, prompt_file: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{folder}{os.pathsep}{ROOT}"}
    raw = subprocess.run([sys.executable, "-c", RAW, str(prompt_file)], env=env, capture_output=True, text=True,
                         check=True)
    figures = json.loads(raw.stdout.strip().splitlines()[-1])
    answer_out = out_dir / f"answer-{name}.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "answer.py"), "--out", str(answer_out)], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    answer = json.loads(answer_out.read_text())
    figures["first_token_p50_s"] = answer["stages_s"]["first_token"]["p50"]
    figures["total_p50_s"] = answer["stages_s"]["total"]["p50"]
    figures["answered"] = answer["answered_by_model"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="append", required=True, help="name=folder with an installed llama_cpp")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "llama-builds.json")
    args = parser.parse_args()
    builds = dict(item.split("=", 1) for item in args.build)
    prompt_file = ROOT / "corpus" / sorted(p.name for p in (ROOT / "corpus").glob("*.txt"))[0]
    long_text = args.out.parent / "llama-builds-prompt.txt"
    body = prompt_file.read_text(encoding="utf-8")
    long_text.write_text((body + "\n") * 12, encoding="utf-8")
    results = {}
    try:
        for name, folder in builds.items():
            print(f"== {name}", flush=True)
            results[name] = run_build(name, Path(folder), args.out.parent, long_text)
            r = results[name]
            print(f"   prompt {r['pp_tok_s']:.1f} tok/s, generation {r['tg_tok_s']:.1f} tok/s, "
                  f"first token p50 {r['first_token_p50_s']:.2f} s, total p50 {r['total_p50_s']:.2f} s", flush=True)
    finally:
        long_text.unlink(missing_ok=True)
    report = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "cpu": subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo"],
                                                capture_output=True, text=True).stdout.strip()},
              "command": " ".join(["python", "benchmarks/llama_builds.py", *sys.argv[1:]]), "builds": results}
    args.out.write_text(json.dumps(report, indent=2))
    first = next(iter(results))
    print(f"{'build':>16} {'pp tok/s':>9} {'tg tok/s':>9} {'1st tok p50':>11} {'total p50':>10}  (ratio to {first})")
    for name, r in results.items():
        base = results[first]
        print(f"{name:>16} {r['pp_tok_s']:9.1f} {r['tg_tok_s']:9.1f} {r['first_token_p50_s']:11.2f} "
              f"{r['total_p50_s']:10.2f}  pp x{r['pp_tok_s'] / base['pp_tok_s']:.2f}, "
              f"total x{r['total_p50_s'] / base['total_p50_s']:.2f}")


if __name__ == "__main__":
    main()
