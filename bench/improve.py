"""What a label costs: self-labeling (best of N with guaranteed decoding, every sample verified) against CP-SAT, on the
same random instances, per size, in one run (interleaved per instance, so machine load hits both alike).

For each size, each instance is labelled twice: by the model (``jssp_sft.training.self_labeling``'s sampling and
labeling steps: ``num_samples`` guaranteed samples, the best verified one kept) and by CP-SAT (``time_limit`` s, one
worker). Printed per size: seconds per label of each and their ratio (CP-SAT / self-label: above 1 when a self-label
is cheaper), the self-labels' mean gap to CP-SAT's makespan, the random policy's at the same N, and CP-SAT's share
of proven optima. The model is ``--model`` (default: the ``make train`` output), else an untrained tiny model.

    python bench/improve.py [--model outputs/tiny-sft] [--sizes 6x6,8x8,10x10] [--num_instances 4] [--num_samples 8]
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from jssp_sft.core.scoring import gap
from jssp_sft.solve import JSSPSolver
from jssp_sft.solvers.controls import random_control
from jssp_sft.solvers.cpsat import solve_cpsat
from jssp_sft.training import self_labeling as sl


@dataclass
class BenchArguments:
    model: str = field(default="outputs/tiny-sft", metadata={"help": "Model labelling (default: make train's)."})
    sizes: str = field(default="6x6,8x8,10x10", metadata={"help": "Comma-separated sizes, one row each."})
    num_instances: int = field(default=4, metadata={"help": "Instances per size."})
    num_samples: int = field(default=8, metadata={"help": "N of the self-labels (and of the random control)."})
    time_limit: float = field(default=10.0, metadata={"help": "CP-SAT seconds per instance."})
    max_duration: int = field(default=99, metadata={"help": "Longest duration (make train's data: 99)."})
    seed: int = field(default=7, metadata={"help": "Seed of the instances."})


def model_dir(args: BenchArguments) -> str:
    if (Path(args.model) / "config.json").is_file():
        return args.model
    from jssp_sft.modeling.tiny import TinyModelArguments, build_tiny

    directory = Path(tempfile.mkdtemp()) / "tiny"
    logging.warning(
        "%s not found: an untrained tiny model labels instead (quality figures then mean little)", args.model
    )
    build_tiny(TinyModelArguments(output_dir=str(directory)))
    return str(directory)


def main(args: BenchArguments) -> int:
    solver = JSSPSolver.from_pretrained(model_dir(args), device="cpu", batch_size=1)
    print(
        f"bench/improve.py: {args.num_instances} instances per size, N={args.num_samples}, CP-SAT {args.time_limit}s"
    )
    print(
        f"{'size':>6} {'self-label s':>12} {'CP-SAT s':>9} {'ratio':>6} {'self gap':>9} {'random@N gap':>12} "
        f"{'CP-SAT optimal':>14}"
    )
    for size in args.sizes.split(","):
        problems = sl.generated_problems(args.num_instances, size, args.seed, args.max_duration)
        self_seconds = cpsat_seconds = 0.0
        self_gaps, random_gaps, optimal = [], [], 0
        with tempfile.TemporaryDirectory() as tmp:
            for problem in problems:  # interleaved: one self-label, then one CP-SAT label, per instance
                started = time.perf_counter()
                lines = sl.sample_round(
                    solver,
                    [problem],
                    Path(tmp) / f"{problem.id}.jsonl",
                    num_samples=args.num_samples,
                    temperature=1.0,
                    decoding="guaranteed",
                    seed=args.seed,
                )
                records, _ = sl.label_round([problem], lines, 1, "bench", "guaranteed", 1.0)
                self_seconds += time.perf_counter() - started
                started = time.perf_counter()
                cpsat = solve_cpsat(problem.instance, time_limit=args.time_limit, num_workers=1, seed=args.seed)
                cpsat_seconds += time.perf_counter() - started
                optimal += cpsat.status == "OPTIMAL"
                self_gaps.append(gap(records[0]["makespan"], cpsat.makespan))
                control = random_control(problem.instance, args.num_samples, args.seed)
                random_gaps.append(gap(control.makespan, cpsat.makespan))
        n = len(problems)
        print(
            f"{size:>6} {self_seconds / n:>12.2f} {cpsat_seconds / n:>9.2f} {cpsat_seconds / self_seconds:>6.2f} "
            f"{100 * sum(self_gaps) / n:>8.1f}% {100 * sum(random_gaps) / n:>11.1f}% {optimal:>10}/{n}"
        )
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    (bench_args,) = HfArgumentParser(BenchArguments).parse_args_into_dataclasses()
    sys.exit(main(bench_args))
