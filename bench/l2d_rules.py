"""Which rules do L2D's published PDR rows measure? Mean gaps of the four rules as defined, and of the readings the
rows fit better, beside the published rows, on Taillard and DMU.

Every rule runs in L2D's environment (``jssp_sft.solvers.dispatching``'s ``"insertion"`` variant: every job's next
operation competes, the chosen one goes into the earliest idle gap where it fits; ties to the lowest job). Rows:

- ``SPT``, ``MWKR``, ``FDD/MWKR``, ``MOPNR``: the rules as defined (``jssp_sft.solvers.dispatching.RULES``);
- ``LPT``: the longest next operation first (a misreading of MWKR: operation, not job, work);
- ``FDD/d``: work done on the job, this operation included, over this operation's duration, smallest first (FDD/MWKR
  with the duration where the remaining work belongs);
- ``random``: a uniformly random job, the mean of ``--samples`` seeds per instance.

Gap % = (makespan - bound) / bound x 100 with ``jssp_sft.benchmarks.instances``' bounds, averaged over each size group;
``published`` is ``jssp_sft.benchmarks.published``'s row (its cells' sources there). A rule whose column tracks a
published row across every size, where the rule as defined does not, is what the row measured; a single size proves
nothing. Per-instance makespans are not published in the paper's tables, so this is a comparison of means.

    python bench/l2d_rules.py [--samples 20] [--groups ta,dmu]
"""

from __future__ import annotations

import random
import statistics
import sys
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from jssp_sft.benchmarks.instances import load_group
from jssp_sft.benchmarks.published import SIZES, published_gap
from jssp_sft.core.builder import ScheduleBuilder
from jssp_sft.solvers.dispatching import dispatch


@dataclass
class RulesArguments:
    samples: int = field(default=20, metadata={"help": "Seeds of the random pick per instance."})
    groups: str = field(default="ta,dmu", metadata={"help": "Benchmark groups (ta, dmu)."})


def _by_priority(instance, priority) -> int:
    """The makespan of the insertion dispatcher picking the smallest ``priority(job, op_index, duration, done)``."""
    builder = ScheduleBuilder(instance)
    done = [0] * instance.num_jobs
    while not builder.done:
        best, best_job = None, -1
        for job in builder.remaining_jobs():
            op = builder.next_operation(job)
            value = priority(job, op.op_index, op.duration, done[job])
            if best is None or value < best:
                best, best_job = value, job
        done[best_job] += builder.append(best_job, "insert").duration
    return builder.makespan


def _random(instance, seed: int) -> int:
    rng = random.Random(seed)
    builder = ScheduleBuilder(instance)
    while not builder.done:
        builder.append(rng.choice(builder.remaining_jobs()), "insert")
    return builder.makespan


VARIANTS = {
    "LPT": lambda job, k, d, done: -d,
    "FDD/d": lambda job, k, d, done: (done + d) / d if d else float("inf"),
}
PUBLISHED = {"SPT": "SPT", "MWKR": "MWKR", "LPT": "MWKR", "FDD/MWKR": "FDD/MWKR", "FDD/d": "FDD/MWKR"}
PUBLISHED |= {"MOPNR": "MOPNR", "random": "MOPNR"}


def main(args: RulesArguments) -> int:
    for group in args.groups.split(","):
        rows: dict[str, dict[str, float]] = {name: {} for name in PUBLISHED}
        for size in SIZES[group]:
            gaps: dict[str, list[float]] = {name: [] for name in PUBLISHED}
            for instance, info in load_group(group, size):
                bound = info.upper_bound
                makespans = {rule: dispatch(instance, rule).makespan for rule in ("SPT", "MWKR", "FDD/MWKR", "MOPNR")}
                makespans |= {name: _by_priority(instance, priority) for name, priority in VARIANTS.items()}
                makespans["random"] = statistics.mean(_random(instance, seed) for seed in range(args.samples))
                for name, makespan in makespans.items():
                    gaps[name].append(100 * (makespan - bound) / bound)
            for name, values in gaps.items():
                rows[name][size] = statistics.mean(values)
        print(f"\n{group}: mean gap % per size group (insertion; published: the package's row)")
        print(f"{'rule':10} {'vs row':9} " + " ".join(f"{size:>13}" for size in SIZES[group]))
        for name, by_size in rows.items():
            cells = []
            for size in SIZES[group]:
                published = published_gap(PUBLISHED[name], group, size)
                cells.append(f"{by_size[size]:6.1f}/" + (f"{published:<6.2f}" if published is not None else "  -   "))
            print(f"{name:10} {PUBLISHED[name]:9} " + " ".join(f"{cell:>13}" for cell in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main(*HfArgumentParser(RulesArguments).parse_args_into_dataclasses()))
