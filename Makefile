# Two commands on a fresh machine (Python >= 3.10): `make lab` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Installed: the course (all that `make lab` needs), then the test tools (linter, type checker, browser driver).
STAMP     := $(VENV)/.pglab-installed
DEV_STAMP := $(VENV)/.pglab-dev-installed
HUB_STAMP := $(VENV)/.pglab-hub-installed

.PHONY: setup dev-setup hub-setup hub lab test test-fast full-course bubblewrap lint typecheck pytest clean-db release mutation

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

# The class's JupyterHub (`pglab hub`): JupyterHub from PyPI, configurable-http-proxy from npm into the venv.
$(HUB_STAMP): $(STAMP)
	@command -v npm >/dev/null || { echo "the hub needs node and npm: apt-get install nodejs npm (or https://nodejs.org)"; exit 2; }
	$(BIN)/python -m pip install --quiet -e '.[hub]'
	npm install --silent --no-audit --no-fund --prefix $(VENV) configurable-http-proxy@4
	@touch $(HUB_STAMP)

$(DEV_STAMP): $(HUB_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(DEV_STAMP)

setup: $(STAMP)

hub-setup: $(HUB_STAMP)

hub: hub-setup  ## run the course's JupyterHub on this machine (as root; HUB_ARGS="--port 8000")
	$(BIN)/pglab hub $(HUB_ARGS)

dev-setup: $(DEV_STAMP)

lab: setup bubblewrap  ## set everything up and open the course in JupyterLab
	$(BIN)/pglab lab $(LAB_ARGS)

test: full-course dev-setup bubblewrap lint typecheck pytest  ## set everything up and run the whole test suite

test-fast: full-course dev-setup  ## the unit layer alone: the rules on small fixtures, in seconds
	$(BIN)/python -m pytest tests/unit -q

full-course:  # a learner bundle has no tests/ or grader/: say so instead of failing in ruff
	@test -d tests && test -d grader || { echo "make test needs the full course: tests/ and grader/ are not in a learner bundle"; exit 2; }

bubblewrap:  # `pglab grade` runs kernels in a bubblewrap sandbox: install it where we can, else say how
	@command -v $${PGLAB_BWRAP:-bwrap} >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bubblewrap; }; \
	else echo "pglab grade needs bubblewrap: run \`sudo apt-get install bubblewrap\` (or your system's package of it)"; fi

lint: dev-setup
	$(BIN)/ruff check pglab tests grader benchmarks hub scripts

typecheck: dev-setup
	$(BIN)/mypy

pytest: dev-setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Not part of `make test`: about half an hour. MUTATION_ARGS="--only core/beginner --only 7.3 --timeout 60"
mutation: full-course dev-setup bubblewrap  ## mutation testing (cosmic-ray): how many wrong answers the checks catch
	$(BIN)/python benchmarks/mutation.py $(MUTATION_ARGS)

clean-db:  ## stop the embedded server and delete its data (notebooks are kept)
	-$(BIN)/pglab db stop
	rm -rf .pglab

release: setup  ## regenerate notebooks/challenges/ from solutions/ with nbgrader (commit the result)
	cd grader && for a in $$(ls ../solutions); do \
	  PATH="$(abspath $(BIN)):$$PATH" nbgrader generate_assignment $$a --force --log-level=WARN || exit 1; done
