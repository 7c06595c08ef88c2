#!/usr/bin/env bash
# Everything `make run` and `make test` need that comes from PyPI and npm. Idempotent and quick when done.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "Quantum Voice needs Python 3.11 (found $("$PYTHON" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi

stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages (requirements.txt)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi

# Front-end tools from npm (tools/package.json): bun — Reflex downloads its own from the internet unless a
# bun >= 1.4.4 is on PATH — and livekit-client, whose browser build the call page loads in LiveKit mode.
npm_stamp=tools/node_modules/.package.sha256
npm_want=$(cat tools/package.json tools/package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -x tools/node_modules/.bin/bun ] || [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
  echo "setup: installing front-end tools from npm into tools/"
  # swagger-ui-dist pulls in @scarf/scarf, whose install script reports to its vendor: off (also in package.json)
  SCARF_ANALYTICS=false npm install --prefix tools --no-audit --no-fund --loglevel=error
  echo "$npm_want" > "$npm_stamp"
fi
mkdir -p assets/vendor
cmp -s tools/node_modules/livekit-client/dist/livekit-client.umd.js assets/vendor/livekit-client.umd.js ||
  cp tools/node_modules/livekit-client/dist/livekit-client.umd.js assets/vendor/livekit-client.umd.js
# Swagger UI for /api/docs, served from this machine (never a CDN: the docs work offline)
mkdir -p assets/vendor/swagger-ui
for file in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png; do
  cmp -s "tools/node_modules/swagger-ui-dist/$file" "assets/vendor/swagger-ui/$file" ||
    cp "tools/node_modules/swagger-ui-dist/$file" "assets/vendor/swagger-ui/$file"
done
# ReDoc for /api/redoc, likewise: its standalone bundle holds everything it needs
mkdir -p assets/vendor/redoc
cmp -s tools/node_modules/redoc/bundles/redoc.standalone.js assets/vendor/redoc/redoc.standalone.js ||
  cp tools/node_modules/redoc/bundles/redoc.standalone.js assets/vendor/redoc/redoc.standalone.js
