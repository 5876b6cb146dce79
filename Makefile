# switchbench: the two commands are `make bench` and `make test`.
# Both create .venv on first use (Python 3.11+, from PyPI) and build go/ and c/.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PROFILE ?= default
# Extra arguments for `switchbench run`, e.g. make bench ARGS="--only 'go.*'"
ARGS   ?=
# The run `make bench` ends by comparing against (REFERENCE= to skip)
REFERENCE ?= results/reference

.PHONY: bench bench-self test build lint clean

$(BIN)/switchbench: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "switchbench needs Python 3.11 or newer: set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

build: $(BIN)/switchbench
	$(BIN)/switchbench build

bench: build
	$(BIN)/switchbench run --profile $(PROFILE) $(if $(REFERENCE),--compare $(REFERENCE)) $(ARGS)

# The suite benchmarked (not a test): quick, then default twice, back to back, then
# the suite and go test -bench in interleaved rounds; see results/selfbench-*/self.md.
bench-self: build
	$(BIN)/switchbench selfbench

lint: $(BIN)/switchbench
	$(BIN)/ruff check bench tests
	$(BIN)/ruff format --check bench tests
	cd go && test -z "$$(gofmt -l .)" || { gofmt -l .; echo "go/: run gofmt -w ."; exit 1; }
	cd go && go vet ./...

# pytest runs the C checks (c/check_handoffs) and the end-to-end runs.
test: build lint
	cd go && go test ./...
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) c/build go/bin
