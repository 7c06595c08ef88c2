#!/usr/bin/env bash
# `make test`: the whole suite — unit, API and database tests on SQLite and PostgreSQL, Redis, SMTP and
# the browser test in headless Chromium. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
"$ROOT/scripts/install-system-deps.sh"
exec python -m pytest "$@"
