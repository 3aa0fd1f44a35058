#!/usr/bin/env bash
# Set up, ingest corpus/ and serve the chat UI and the HTTP API (embedded defaults).
# Host and port: ASSISTANT_SERVER__HOST / ASSISTANT_SERVER__PORT (default 127.0.0.1:7860).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/assistant ingest corpus/
exec .venv/bin/assistant serve "$@"
