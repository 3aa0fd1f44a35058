#!/usr/bin/env bash
# Set up and run the whole test suite (slow and LLM tests included).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ASSISTANT_TEST_ARTIFACTS=${ASSISTANT_TEST_ARTIFACTS:-tests/artifacts}
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
