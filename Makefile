# Named tasks. `make test` and `make demo` install what they need first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.install-stamp
ARGS ?=

.PHONY: install test test-fast lint format demo train-lnet train-anet fit-svms train-age train-age-anet train-attractiveness \
        evaluate-attributes evaluate-localization bench bench-install bench-detection synthetic clean

install: $(STAMP)

# Re-installs only when pyproject.toml changes; torch/torchvision come from local wheels when present.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: install
	$(PY) -m pytest $(ARGS)

test-fast: install
	$(PY) -m pytest -m "not slow" $(ARGS)

lint: install
	$(VENV)/bin/ruff check lnet_anet tests benchmarks

format: install
	$(VENV)/bin/ruff format lnet_anet tests benchmarks

demo: install
	$(PY) -m lnet_anet.cli.demo $(ARGS)

train-lnet: install
	$(PY) -m lnet_anet.cli.train_lnet $(ARGS)

train-anet: install
	$(PY) -m lnet_anet.cli.train_anet $(ARGS)

# ANet's SVMs refitted on LNet's crops of the training faces, ANet unchanged (conf/fit_svms.yaml;
# first: python -m lnet_anet.cli.lnet_boxes <image folder> --out runs/celeba-hq128-lnet-boxes.csv).
fit-svms: install
	$(PY) -m lnet_anet.cli.fit_svms $(ARGS)

train-age: install
	$(PY) -m lnet_anet.cli.train_age $(ARGS)

train-age-anet: install
	$(PY) -m lnet_anet.cli.train_anet_dldl $(ARGS)

train-attractiveness: install
	$(PY) -m lnet_anet.cli.train_age --config-name train_attractiveness $(ARGS)

evaluate-attributes: install
	$(PY) -m lnet_anet.cli.evaluate_attributes $(ARGS)

evaluate-localization: install
	$(PY) -m lnet_anet.cli.evaluate_localization $(ARGS)

bench: install
	$(PY) benchmarks/bench_default.py $(ARGS)

# Peers for the detection benchmark: the `bench` extra, then facenet-pytorch (MTCNN, weights in
# the wheel) with --no-deps so pip never touches the pinned torch/torchvision.
bench-install: install
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m pip install -q --no-deps facenet-pytorch==2.6.0

# lnet_anet vs MTCNN / dlib HOG / Haar on the WIDER val part (see the script's docstring).
bench-detection: bench-install
	PYTHONPATH=. $(PY) benchmarks/bench_detection.py --face-free $(ARGS)

synthetic: install
	$(PY) -m lnet_anet.data.synthetic runs/synthetic-data/demo --n-images 400

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
