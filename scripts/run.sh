#!/usr/bin/env bash
# `make run`: migrate, seed the demo organisation into an empty database, then serve the app on one port.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${PORT:-3000}"
export APP_URL="${APP_URL:-http://localhost:$PORT}"

python -m quantum_voice.cli prepare

# The voice sidecar runs beside the app on the same database (START_VOICE_SIDECAR=0 leaves it out) and stops
# with it.
sidecar=""
if [ "${START_VOICE_SIDECAR:-1}" != "0" ]; then
  python -m agent &
  sidecar=$!
  trap '[ -n "$sidecar" ] && kill "$sidecar" 2>/dev/null; wait' EXIT INT TERM
fi

# Production mode: the built frontend and the backend (UI websocket + /api) share one port.
reflex run --env prod --single-port --frontend-port "$PORT" --backend-port "$PORT" --loglevel warning
