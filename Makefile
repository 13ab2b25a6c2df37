# Quickstart: `make demo` converts the bundled examples; `make test` runs the suite.
# Both create or refresh .venv at the repo root (reinstalling only when pyproject.toml changes).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.tf2torch-installed
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: demo test support zoo bench fuzz clean

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

# every keras.applications constructor, converted and verified: a table, exit 1 on any failure
zoo: $(STAMP)
	$(PY) benchmarks/zoo_convert.py

# the side-by-side benchmark against the ONNX route; writes docs/benchmarks.md.
# onnx2torch with --no-deps: its torchvision dependency drags in a CUDA build of torch
BENCH_STAMP := $(VENV)/.tf2torch-bench
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m pip install -q --no-deps onnx2torch
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) benchmarks/zoo.py

# the long fuzz run (the suite runs a short one): 10,000 mutated model files, then 1,000 hostile
# names through small models; exit 1 on any traceback, hang, executed payload or bad output
FUZZ_CASES ?= 10000
FUZZ_NAMES ?= 1000
fuzz: $(STAMP)
	$(PY) benchmarks/fuzz_files.py --cases $(FUZZ_CASES) --jobs 2
	$(PY) benchmarks/fuzz_names.py --names $(FUZZ_NAMES)

support: $(STAMP)
	{ printf '# Supported Keras layers and ops\n\nGenerated from the converter registry by `make support`; do not edit by hand.\n\n'; \
	  $(PY) -m tf2torch support; } > docs/support.md

clean:
	rm -rf $(VENV) demo_out .pytest_cache
