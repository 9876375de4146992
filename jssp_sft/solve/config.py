"""How the solver samples and chooses answers (``SolveConfig``), parsed by ``jssp-sft solve`` from the command line."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .backends import BACKENDS
from .sampling import SamplingSettings, check_sampling


DECODING_MODES = ("free", "guaranteed")


def decoding_field(default: str, help: str):
    """A dataclass option choosing one of ``DECODING_MODES``."""
    return field(default=default, metadata={"help": help, "choices": list(DECODING_MODES)})


@dataclass
class SolveConfig:
    """How to sample and choose answers; every field can be overridden per call (``solver.solve(x, num_samples=4)``).

    ``max_new_tokens=None`` sizes the budget to each batch's largest instance (a canonical answer's length plus a
    margin), so a long instance is never cut by a budget sized for a short one.
    """

    num_samples: int = field(
        default=8,
        metadata={
            "help": "Answers sampled per instance, the best kept: 8 finishes in seconds on the tiny model with "
            "guaranteed decoding, as serve's default (the Starjob paper used 20)."
        },
    )
    temperature: float = field(
        default=SamplingSettings.temperature, metadata={"help": "Sampling temperature; 0 means greedy."}
    )
    top_p: float = field(default=SamplingSettings.top_p, metadata={"help": "Nucleus sampling mass."})
    top_k: int | None = field(default=SamplingSettings.top_k, metadata={"help": "Keep the k most likely tokens."})
    max_new_tokens: int | None = field(
        default=None, metadata={"help": "Longest answer in tokens; default: enough for the batch's largest instance."}
    )
    batch_size: int = field(
        default=8, metadata={"help": "Instances per generation batch (each with its num_samples answers)."}
    )
    decoding: str = decoding_field(
        "guaranteed",
        "guaranteed: each step chooses among the jobs that can go next, so every answer is feasible (needs the "
        "transformers backend); free: plain sampling, verified afterwards (what the model learned).",
    )
    repair: bool = field(
        default=False,
        metadata={"help": "Repair infeasible answers (jssp_sft.solvers.repair); counted apart from feasible."},
    )
    seed: int = field(default=0, metadata={"help": "Random seed of the sampling."})

    def __post_init__(self):
        if self.num_samples < 1 or self.batch_size < 1:
            raise ValueError("num_samples and batch_size must be >= 1")
        if self.decoding not in DECODING_MODES:
            raise ValueError(f"unknown decoding {self.decoding!r}; choose one of {', '.join(DECODING_MODES)}")
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        check_sampling(self.temperature, self.top_p, self.top_k)

    def sampling(self, max_new_tokens: int) -> SamplingSettings:
        return SamplingSettings(
            max_new_tokens=max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            do_sample=self.temperature > 0,
        )

    def replace(self, **overrides) -> SolveConfig:
        """A copy with ``overrides`` (``None`` values are ignored, except for ``top_k``/``max_new_tokens``)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(
                f"unknown solve option(s) {', '.join(unknown)}; the options are {', '.join(sorted(names))}"
            )
        return dataclasses.replace(self, **overrides)


@dataclass
class SolverModelArguments:
    """Which model a solver loads and how: the options ``jssp-sft solve``, ``evaluate`` and ``serve`` share.

    ``JSSPSolver.from_arguments`` hands them to ``JSSPSolver.from_pretrained`` (the one loading path,
    ``jssp_sft.modeling.loading``).
    """

    model: str | None = field(
        default=None, metadata={"help": "Training run directory (adapter or merged model), base model or Hub id."}
    )
    base_model: str | None = field(
        default=None, metadata={"help": "For an adapter: the base model to load it on (default: its config's)."}
    )
    revision: str | None = field(default=None, metadata={"help": "Hub revision of --model."})
    backend: str = field(
        default="transformers",
        metadata={
            "help": 'A generation backend: transformers (CPU/GPU) or vllm (pip install "jssp-sft[vllm]").',
            "choices": list(BACKENDS),
        },
    )
    dtype: str = field(
        default="auto", metadata={"help": "Model dtype; auto: the checkpoint's on GPU, float32 on CPU."}
    )
    device: str = field(default="auto", metadata={"help": "cuda, cpu, or auto (transformers backend)."})
    attn_implementation: str | None = field(default=None, metadata={"help": "e.g. sdpa, flash_attention_2."})
    load_in_4bit: bool = field(default=False, metadata={"help": "Load the model in 4 bit (bitsandbytes nf4)."})
    trust_remote_code: bool = field(default=False, metadata={"help": "Allow custom model code from the Hub."})
    template: str | None = field(
        default=None,
        metadata={"help": "Override the run's saved prompt template (prompt_completion/messages/alpaca)."},
    )
    system_prompt: str | None = field(default=None, metadata={"help": "Override the run's saved system prompt."})
    gpu_memory_utilization: float = field(default=0.9, metadata={"help": "vLLM: share of GPU memory to use."})
    tensor_parallel_size: int = field(default=1, metadata={"help": "vLLM: GPUs to split the model over."})

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown --backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
