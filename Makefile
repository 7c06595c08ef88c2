# Two commands do everything on a fresh machine (Python 3.11, Node 20, package registries):
#   make run    set up, migrate, seed the demo data and serve the app on http://localhost:3000
#   make test   set up and run the whole test suite
# and, while working: make test-fast (units and SQLite integration tests, no speech models, PostgreSQL or browser)
.PHONY: run test test-fast setup

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh $(ARGS)

test-fast: setup
	@scripts/test.sh -m "not voice and not postgres and not browser" $(ARGS)

# Backups (docs/operations.md): make backup [OUTPUT=path.tar.gz]; make restore FILE=path.tar.gz [YES=1]
.PHONY: backup restore
backup:
	@test -x .venv/bin/python || { echo "backup: no .venv here yet: run make setup first" >&2; exit 1; }
	@bash -c "source scripts/env.sh && python -m quantum_voice.core.backup create $(if $(OUTPUT),--output '$(OUTPUT)')"

restore:
	@test -n "$(FILE)" || { echo "usage: make restore FILE=path/to/qv-backup-....tar.gz [YES=1]" >&2; exit 1; }
	@test -x .venv/bin/python || { echo "restore: no .venv here yet: run make setup first" >&2; exit 1; }
	@bash -c "source scripts/env.sh && python -m quantum_voice.core.backup restore '$(FILE)' $(if $(filter 1 yes true,$(YES)),--yes)"
