#!/usr/bin/env bash
# `make run`: migrate, seed the demo organisation into an empty database, then serve the app on one port.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${PORT:-3000}"
export APP_URL="${APP_URL:-http://localhost:$PORT}"

python -m quantum_voice.cli prepare
# The voice sidecar (python -m agent) starts here once it exists (see the voice-loop issue).

# Production mode: the built frontend and the backend (UI websocket + /api) share one port.
exec reflex run --env prod --single-port --frontend-port "$PORT" --backend-port "$PORT" --loglevel warning
