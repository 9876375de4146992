"""``jssp-sft solve``: best-of-N answers of a model on benchmarks or Starjob records, one JSON line per instance.

    jssp-sft solve --model outputs/tiny-sft --benchmark ft06,la01 --num_samples 20 --output results.jsonl
    jssp-sft solve --model user/model --benchmark ta --output ta.jsonl          # a group
    jssp-sft solve --model user/model --benchmark dmu:20x15 --output dmu.jsonl  # a group's size
    jssp-sft solve --model outputs/run --dataset data/starjob.json --dataset_split test --output test.jsonl

Re-running with the same ``--output`` continues where it stopped. A thin layer over ``jssp_sft.solve.solver``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..solve.backends import BACKENDS
from ..solve.solver import DATASET_SPLITS, JSSPSolver, Problem, SolveConfig, benchmark_problems, dataset_problems


logger = logging.getLogger(__name__)


@dataclass
class SolveArguments:
    """What to solve, with which model, and where to write the answers (sampling settings: ``SolveConfig``)."""

    model: str | None = field(
        default=None, metadata={"help": "Base model, training run directory (adapter or merged), or Hub id."}
    )
    output: str | None = field(default=None, metadata={"help": "Results file (JSON lines), continued if it exists."})
    benchmark: str | None = field(
        default=None,
        metadata={"help": "Benchmark instances: names and/or groups, comma-separated (ft06,la01 / ta / dmu:20x15)."},
    )
    dataset: str | None = field(
        default=None, metadata={"help": "Starjob records instead: a .json/.jsonl/.parquet file, directory or Hub id."}
    )
    dataset_split: str = field(
        default="all",
        metadata={"help": "all records, or the train/test split load_starjob makes (a training run's held-out 2%%).",
                  "choices": list(DATASET_SPLITS)},
    )  # fmt: skip
    limit: int | None = field(default=None, metadata={"help": "Solve only the first N instances."})
    base_model: str | None = field(
        default=None, metadata={"help": "For an adapter: the base model to load it on (default: its config's)."}
    )
    revision: str | None = field(default=None, metadata={"help": "Hub revision of --model."})
    backend: str = field(
        default="transformers",
        metadata={"help": "transformers (CPU/GPU) or vllm (pip install \"jssp-sft[vllm]\").",
                  "choices": list(BACKENDS)},
    )  # fmt: skip
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
    overwrite: bool = field(default=False, metadata={"help": "Start --output again instead of continuing it."})
    save_sample_texts: bool = field(
        default=False, metadata={"help": "Keep every sample's text in the results (large); the best one is kept."}
    )

    def check(self) -> None:
        if not self.model:
            raise ValueError("--model is required (a base model, a training run's directory, or a Hub id)")
        if not self.output:
            raise ValueError("--output is required (a .jsonl file; an existing one is continued)")
        if (self.benchmark is None) == (self.dataset is None):
            raise ValueError("give exactly one of --benchmark (e.g. ft06,la01 or ta or dmu:20x15) and --dataset")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1, got {self.limit}")


def load_problems(args: SolveArguments) -> list[Problem]:
    """The problems ``args`` name, in order, cut to ``--limit``."""
    if args.benchmark is not None:
        problems = benchmark_problems(args.benchmark)
    else:
        problems = dataset_problems(args.dataset, args.dataset_split)
    return problems[: args.limit] if args.limit else problems


def load_solver(args: SolveArguments, config: SolveConfig) -> JSSPSolver:
    """The solver ``args`` describe, with ``config`` as its sampling settings."""
    vllm_kwargs = {
        "gpu_memory_utilization": args.gpu_memory_utilization,
        "tensor_parallel_size": args.tensor_parallel_size,
    }
    return JSSPSolver.from_pretrained(
        args.model, backend=args.backend, base_model=args.base_model, revision=args.revision, dtype=args.dtype,
        device=args.device, attn_implementation=args.attn_implementation, load_in_4bit=args.load_in_4bit,
        trust_remote_code=args.trust_remote_code, template=args.template, system_prompt=args.system_prompt, config=config,
        backend_kwargs=vllm_kwargs if args.backend == "vllm" else None,
    )  # fmt: skip


def run_solve(args: SolveArguments, config: SolveConfig) -> list[dict]:
    """Load the problems and the model, and solve into ``args.output``; returns every line of the file."""
    from ..solve.solver import solve_to_jsonl

    args.check()
    problems = load_problems(args)
    logger.info("%d instances to solve with %s", len(problems), args.model)
    solver = load_solver(args, config)
    return solve_to_jsonl(
        solver, problems, args.output, overwrite=args.overwrite, include_sample_texts=args.save_sample_texts
    )


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((SolveArguments, SolveConfig), prog=prog)


def main(args: SolveArguments, config: SolveConfig) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    lines = run_solve(args, config)
    answered = [line for line in lines if line["best_makespan"] is not None]
    gaps = [line["gap"] for line in answered if line["gap"] is not None]
    mean_gap = f", mean gap {100 * sum(gaps) / len(gaps):.2f}%" if gaps else ""
    print(f"{args.output}: {len(lines)} instances, {len(answered)} with a feasible answer{mean_gap}")
    return 0
