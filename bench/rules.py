"""Which dispatching-rule variant is stronger: mean gap % to the best known bounds per benchmark group, every rule
in the ``insertion`` and ``non_delay`` variants (``jssp_sft.solvers.dispatching``), and how many instances each wins.

The package's default variant (``DEFAULT_VARIANT``) is the one this table shows stronger. About 30 s on 2 cores.

    python bench/rules.py [--groups ta,dmu]
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from jssp_sft.benchmarks.instances import GROUPS, benchmark_names, load_benchmark
from jssp_sft.solvers.dispatching import DEFAULT_VARIANT, RULES, dispatching_rule


COMPARED = ("insertion", "non_delay")


@dataclass
class RulesBenchArguments:
    groups: str = field(default=",".join(GROUPS), metadata={"help": "Benchmark groups, comma-separated."})


def main(args: RulesBenchArguments) -> int:
    wins: Counter = Counter()
    print(f"{'group':6} {'rule':9} {'n':>4} " + " ".join(f"{v:>10}" for v in COMPARED))
    totals = {variant: [] for variant in COMPARED}
    for group in [g.strip() for g in args.groups.split(",") if g.strip()]:
        loaded = [load_benchmark(name) for name in benchmark_names(group)]
        for rule in RULES:
            gaps = {variant: [] for variant in COMPARED}
            for instance, info in loaded:
                makespans = {v: dispatching_rule(instance, rule, v).makespan for v in COMPARED}
                for variant, makespan in makespans.items():
                    gaps[variant].append(makespan / info.upper_bound - 1)
                best = min(makespans.values())
                winners = [v for v, m in makespans.items() if m == best]
                wins[winners[0] if len(winners) == 1 else "tie"] += 1
            for variant in COMPARED:
                totals[variant] += gaps[variant]
            means = " ".join(f"{100 * sum(g) / len(g):>9.1f}%" for g in gaps.values())
            print(f"{group:6} {rule:9} {len(loaded):>4} {means}")
    means = {variant: sum(g) / len(g) for variant, g in totals.items()}
    print(
        "all (rule x instance): "
        + ", ".join(f"{v} {100 * m:.1f}%" for v, m in means.items())
        + f"; wins: {dict(wins)}; the default variant is {DEFAULT_VARIANT}"
    )
    stronger = min(means, key=means.get)
    if stronger != DEFAULT_VARIANT:
        print(f"the default variant {DEFAULT_VARIANT} is not the stronger one here ({stronger})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    (parsed,) = HfArgumentParser(RulesBenchArguments).parse_args_into_dataclasses()
    raise SystemExit(main(parsed))
