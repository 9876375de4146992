"""Generation backends for the solver: transformers ``generate`` (CPU/GPU) and vLLM (optional).

A backend turns prompt texts into N sampled answers per prompt, as ``jssp_sft.solve.sampling.GenerationOutput``. The
solver (``jssp_sft.solve.solver``) builds the prompts, times each batch and verifies every answer; a backend only samples.
Both backends tokenize prompts with the run's own tokenizer (``jssp_sft.solve.sampling.encode_prompts``'s rules), so a
prompt is the same token sequence whichever backend runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..sampling import GenerationOutput, SamplingSettings


BACKENDS = ("transformers", "vllm")


@runtime_checkable
class Backend(Protocol):
    """Samples ``num_samples`` answers per prompt; ``tokenizer`` is the model's (used for token budgets)."""

    name: str
    tokenizer: object

    def generate(
        self, prompts: Sequence[str], num_samples: int, settings: SamplingSettings, seed: int | None = None
    ) -> GenerationOutput: ...


def check_backend(name: str) -> str:
    """``name`` if it is a known backend, else a ``ValueError`` listing them."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return name
