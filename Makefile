# Quickstart: `make demo` converts the bundled examples; `make test` runs the suite.
# Both create or refresh .venv at the repo root (reinstalling only when pyproject.toml changes).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tf2torch-installed
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: demo test support fuzz clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile

support: $(STAMP)
	{ printf '# Supported Keras layers and ops\n\nGenerated from the converter registry by `make support`; do not edit by hand.\n\n'; \
	  $(PY) -m tf2torch support; } > docs/support.md

clean:
	rm -rf $(VENV) demo_out .pytest_cache
