"""Generation backends for the solver: transformers ``generate`` (CPU/GPU) and vLLM (optional), by name.

A backend turns prompt texts into N sampled answers per prompt, as ``jssp_sft.solve.sampling.GenerationOutput``. The
solver (``jssp_sft.solve.solver``) builds the prompts, times each batch and verifies every answer; a backend only
samples. Both backends tokenize prompts with the run's own tokenizer (``jssp_sft.solve.sampling.encode_prompts``'s
rules), so a prompt is the same token sequence whichever backend runs it.

A new backend is one module here with a ``load(spec: ModelSpec, **options) -> Backend`` function, plus one line in
``BACKENDS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..sampling import GenerationOutput, SamplingSettings


# backend name -> module (in this package) whose `load(spec, **options)` builds it
BACKENDS = {
    "transformers": "transformers_backend",
    "vllm": "vllm_backend",
}


@runtime_checkable
class Backend(Protocol):
    """Samples ``num_samples`` answers per prompt; ``tokenizer`` is the model's (used for token budgets)."""

    name: str
    tokenizer: object

    def generate(
        self,
        prompts: Sequence[str],
        num_samples: int,
        settings: SamplingSettings,
        seed: int | None = None,
        show_progress: bool = False,
    ) -> GenerationOutput: ...


@dataclass(frozen=True)
class ModelSpec:
    """The model a backend loads, as ``jssp_sft.modeling.loading`` resolved it.

    ``name_or_path`` is a model, or a LoRA adapter on ``base_model`` (``None`` for a full model); ``tokenizer`` is
    already loaded from ``tokenizer_name_or_path``. ``dtype="auto"`` is the checkpoint's on a GPU, float32 on the CPU.
    """

    name_or_path: str
    tokenizer: object
    tokenizer_name_or_path: str
    base_model: str | None = None
    revision: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    attn_implementation: str | None = None
    load_in_4bit: bool = False
    trust_remote_code: bool = False
    seed: int = 0


def check_backend(name: str) -> str:
    """``name`` if it is a known backend, else a ``ValueError`` listing them."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return name


def load_backend(name: str, spec: ModelSpec, **options) -> Backend:
    """The backend ``name`` serving ``spec``; ``options`` are that backend's own (e.g. vLLM's engine arguments)."""
    module = importlib.import_module(f"{__name__}.{BACKENDS[check_backend(name)]}")
    return module.load(spec, **options)
