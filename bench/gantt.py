"""Gantt chart speed: one draw call per machine (``jssp_sft.evaluation.plots.gantt_chart``) against one call per
operation (the chart before issue 16, rebuilt here), on feasible random schedules, in one run.

    python bench/gantt.py [--sizes 20x10,50x20,200x50] [--baseline_max_ops 1000]
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from jssp_sft import Instance, format_solution
from jssp_sft.core.builder import ScheduleBuilder
from jssp_sft.evaluation.plots import _figure, _job_colors, gantt_chart


@dataclass
class BenchArguments:
    sizes: str = field(default="20x10,50x20,100x20,200x50", metadata={"help": "JOBSxMACHINES, comma-separated."})
    baseline_max_ops: int = field(
        default=1000, metadata={"help": "Draw the per-operation baseline only up to this many operations."}
    )
    seed: int = field(default=0)


def random_schedule_text(n: int, m: int, rng: random.Random) -> tuple[Instance, str]:
    instance = Instance(
        tuple(tuple((mach, rng.randint(1, 99)) for mach in rng.sample(range(m), m)) for _ in range(n)), m
    )
    builder = ScheduleBuilder(instance)
    while not builder.done:
        builder.append(rng.choice(builder.remaining_jobs()))
    return instance, format_solution(builder.to_schedule().with_declared_makespan())


def per_operation_chart(instance: Instance, schedule, path: Path) -> None:
    """The former drawing: one broken_barh call (one collection) per operation."""
    figure = _figure(min(4 + 0.02 * len(schedule) + 6, 24), max(2.5, 0.45 * instance.num_machines + 1.5))
    axes = figure.add_subplot()
    colors = _job_colors(instance.num_jobs)
    for op in schedule.operations:
        bar = [(op.start, op.duration)]
        axes.broken_barh(bar, (op.machine - 0.4, 0.8), facecolors=colors[op.job], edgecolors="black", linewidth=0.5)
    axes.set_yticks(range(instance.num_machines), [f"M{m}" for m in range(instance.num_machines)])
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(args: BenchArguments) -> None:
    from jssp_sft import parse_solution

    rng = random.Random(args.seed)
    print(f"{'size':>8} {'operations':>10} {'per machine s':>14} {'per operation s':>16} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            n, m = (int(x) for x in size.split("x"))
            instance, text = random_schedule_text(n, m, rng)
            start = time.perf_counter()
            gantt_chart(instance, text, Path(tmp) / "new.png")
            ours = time.perf_counter() - start
            baseline, ratio = "not run", ""
            if n * m <= args.baseline_max_ops:
                start = time.perf_counter()
                per_operation_chart(instance, parse_solution(text), Path(tmp) / "old.png")
                old = time.perf_counter() - start
                baseline, ratio = f"{old:.2f}", f"{old / ours:.1f}x"
            print(f"{size:>8} {n * m:>10} {ours:>14.2f} {baseline:>16} {ratio:>7}")


if __name__ == "__main__":
    main(*HfArgumentParser(BenchArguments).parse_args_into_dataclasses())
