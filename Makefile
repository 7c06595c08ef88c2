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
