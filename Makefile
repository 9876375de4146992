# jssp-sft developer commands. Every target installs what it needs first, so each works on a fresh clone.
.PHONY: install help test test-slow train bench bench-grpo image image-cuda quality style clean

VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip
# Without a GPU, torch comes from PyTorch's CPU wheel index when it answers within TORCH_INDEX_TIMEOUT seconds (PyPI's
# torch is a multi-GB CUDA build); otherwise the pinned TORCH_CPU is installed from pip's own configured sources (on
# the development machines a CPU wheel on disk; elsewhere PyPI's build). `make install` says which it used.
# --no-compile: Python compiles a module when it is first imported instead of every module at install (torch's
# install: 13 s of CPU instead of 44 s, measured here).
TORCH_CPU ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_INDEX_TIMEOUT ?= 5
SHELL := /bin/bash
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
OUTPUT_DIR ?= outputs/tiny-sft
PYTEST_ARGS ?=
check_dirs := jssp_sft tests bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@echo "== [1/4] virtual environment $(VENV)"
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	@echo "== [2/4] pip"
	@$(PIP) install --quiet --upgrade pip
	@if command -v nvidia-smi >/dev/null 2>&1; then \
		echo "== [3/4] torch: a GPU is present, so torch comes with the package's dependencies (CUDA build)"; \
	elif $(PYTHON) -c "import torch" 2>/dev/null; then \
		echo "== [3/4] torch: already installed ($$($(PYTHON) -c 'import torch; print(torch.__version__)'))"; \
	elif $(PYTHON) -c "import sys, threading, urllib.request; ok = []; \
			t = threading.Thread(target=lambda: ok.append(urllib.request.urlopen('$(TORCH_INDEX)/torch/', timeout=$(TORCH_INDEX_TIMEOUT))), daemon=True); \
			t.start(); t.join($(TORCH_INDEX_TIMEOUT)); sys.exit(0 if ok else 1)" 2>/dev/null; then \
		echo "== [3/4] torch: $(TORCH_CPU), CPU build, from $(TORCH_INDEX) (about 200 MB)"; \
		$(PIP) install --no-compile --progress-bar on --index-url $(TORCH_INDEX) "$(TORCH_CPU)"; \
	else \
		echo "== [3/4] torch: $(TORCH_INDEX) did not answer within $(TORCH_INDEX_TIMEOUT) s; installing the pinned $(TORCH_CPU)" \
			"from pip's configured sources (a CPU wheel where one is provided, as on this project's machines)"; \
		$(PIP) install --no-compile --progress-bar on "$(TORCH_CPU)"; \
	fi
	@echo "== [4/4] jssp-sft and its dependencies (editable, with the dev extra; 2-4 minutes on 2 cores)"
	@set -o pipefail; $(PIP) install --no-compile -e ".[dev]" | { grep --line-buffered -E "^(Collecting|Installing|Successfully)" || true; }
	@$(PYTHON) -c "import jssp_sft, torch; print('== installed: jssp-sft', jssp_sft.__version__, '| torch', torch.__version__)"
	@touch $@

# The targets, with what each does.
help:
	@echo "make install     create $(VENV) and install jssp-sft with its dev extra (CPU torch without a GPU)"
	@echo "make test        the test suite on 2 workers (PYTEST_ARGS=... to pass options)"
	@echo "make test-slow   the tests marked slow"
	@echo "make train       the quickstart: generate data, build and train the tiny model on CPU, score it"
	@echo "make bench       speed, memory and quality targets, each as a ratio against a baseline (about an hour)"
	@echo "make bench-grpo  GRPO before/after on the make-train model (about 10 min on 2 cores)"
	@echo "make image       the serve container (CPU); make image-cuda: the CUDA one"
	@echo "make quality     ruff check and format check; make style: fix them"
	@echo "make clean       remove outputs/, caches and build files"

test: install
	$(PYTHON) -m pytest -n 2 --dist loadgroup --durations=15 $(PYTEST_ARGS)

test-slow: install
	$(PYTHON) -m pytest -m slow $(PYTEST_ARGS)

train: install
	$(VENV)/bin/jssp-sft quickstart --output_dir $(OUTPUT_DIR)

# Speed and memory targets, each printed as a ratio against a baseline measured in the same run, the `make train`
# model's quality beside its random control, round robin, best fixed order, rules and CP-SAT, and the training-lever
# ablation (about an hour on 2 idle cores, most of it the ablation's four training runs).
# Idle OpenMP threads sleep instead of spinning, so that a busy machine does not starve the measured process.
bench: export OMP_WAIT_POLICY ?= PASSIVE
bench: install
	$(PYTHON) bench/verify.py
	$(PYTHON) bench/gantt.py
	$(PYTHON) bench/data.py
	$(PYTHON) bench/train.py
	$(PYTHON) bench/generate.py
	$(PYTHON) bench/guaranteed.py
	$(PYTHON) bench/candidates.py
	$(PYTHON) bench/improve.py
	$(PYTHON) bench/quality.py
	$(PYTHON) bench/serve.py
	$(PYTHON) bench/ablation.py

# Container images of `jssp-sft serve` (Dockerfile, Dockerfile.cuda); CONTAINER=podman works too (add
# IMAGE_BUILD_ARGS=--format=docker to keep the HEALTHCHECK). The base image is a build argument.
CONTAINER ?= docker
IMAGE ?= jssp-sft
BASE_IMAGE ?= python:3.11-slim-bookworm
CUDA_BASE_IMAGE ?= nvidia/cuda:12.4.1-runtime-ubuntu22.04
IMAGE_BUILD_ARGS ?=

image:
	$(CONTAINER) build -f Dockerfile --build-arg BASE_IMAGE=$(BASE_IMAGE) $(IMAGE_BUILD_ARGS) -t $(IMAGE):cpu .

image-cuda:
	$(CONTAINER) build -f Dockerfile.cuda --build-arg BASE_IMAGE=$(CUDA_BASE_IMAGE) $(IMAGE_BUILD_ARGS) -t $(IMAGE):cuda .

# GRPO before/after on the `make train` model (about 10 min on 2 cores).
bench-grpo: install
	$(PYTHON) bench/grpo.py

quality: install
	$(VENV)/bin/ruff check $(check_dirs)
	$(VENV)/bin/ruff format --check $(check_dirs)

style: install
	$(VENV)/bin/ruff check --fix $(check_dirs)
	$(VENV)/bin/ruff format $(check_dirs)

clean:
	rm -rf outputs .pytest_cache .ruff_cache build dist *.egg-info
