# Sourced by the other scripts: the project's tool paths and Reflex settings, all inside the repo.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/tools/node_modules/.bin:$ROOT/.venv/bin:$PATH"
export REFLEX_DIR="$ROOT/.reflex-home"
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
export PYTHONUNBUFFERED=1
