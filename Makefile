# Two commands on a fresh machine: `make demo` runs the station on simulated devices, `make test` runs the suite.
# Both build .venv first; `make venv` is quick when nothing changed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: venv
	$(BIN)/gate demo

test: venv
	$(BIN)/python -m pytest

bench: venv
	$(BIN)/python bench/log_rate.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
