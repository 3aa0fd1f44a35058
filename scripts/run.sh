#!/usr/bin/env bash
# Set up, ingest corpus/ and serve the chat UI (embedded defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/assistant ingest corpus/
.venv/bin/assistant ask "Quando verranno dispiegate le forze occidentali in Ucraina?"
