# jssp-sft developer commands. Every target installs what it needs first, so each works on a fresh clone.
.PHONY: install test test-slow train bench bench-grpo image image-cuda quality style clean

VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip
# The CPU wheel of torch lies on this machine's disk; an unpinned torch would pull a multi-GB CUDA build.
TORCH_CPU ?= torch==2.13.0
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
OUTPUT_DIR ?= outputs/tiny-sft
PYTEST_ARGS ?=
check_dirs := jssp_sft tests bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	if ! command -v nvidia-smi >/dev/null 2>&1 && ! $(PYTHON) -c "import torch" 2>/dev/null; then \
		$(PIP) install --quiet "$(TORCH_CPU)"; \
	fi
	$(PIP) install --quiet -e ".[dev]"
	touch $@

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
