# Two commands do everything on a fresh machine (Python 3.11, Node 20, package registries):
#   make run    set up, migrate, seed the demo data and serve the app on http://localhost:3000
#   make test   set up and run the whole test suite
.PHONY: run test setup

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh $(ARGS)
