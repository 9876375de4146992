"""The rows beside every learned-model figure, run on the same instances: dispatching rules, CP-SAT and the controls.

The controls (``jssp_sft.solvers.controls``): the seeded random policy sampled as many times as each method (best of
N kept), round robin, and the best fixed job order per size on the scored instances (both never read the instance).
The best dispatching rule is the rule and variant with the lowest mean gap on the instances scored, named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..core.codec import parse_instance
from ..core.instance import Instance
from ..solvers.controls import (
    DEFAULT_PLACEMENT,
    MAX_EXHAUSTIVE_ORDERS,
    best_fixed_orders,
    random_control,
    round_robin_control,
    schedule_from_job_sequence,
)
from ..solvers.methods import MethodOptions


ROUND_ROBIN = "round robin"
BEST_FIXED_ORDER = "best fixed order per size"
CONTROL_DESCRIPTIONS = {
    ROUND_ROBIN: "jobs in turn (0, 1, ..., n-1, 0, ...), never reading the instance",
    BEST_FIXED_ORDER: "the one job sequence per size with the lowest mean gap on these very instances (exhaustive "
    "where small, else the best of round robin and seeded random orders): an optimistic bound for any policy that "
    "never reads the instance",
}


@dataclass
class BaselineRuns:
    """Makespans of the baselines on every instance: ``makespans[name][instance id]``, with how they were made."""

    makespans: dict[str, dict[str, int]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    cpsat_status: dict[str, str] = field(default_factory=dict)
    controls: list[str] = field(default_factory=list)  # the names that are controls (random, round robin, fixed order)
    random_names: dict[int, str] = field(default_factory=dict)  # N -> the random control's name at N samples


def rule_name(rule: str, variant: str) -> str:
    return f"{rule} ({variant})"


def random_control_name(num_samples: int) -> str:
    return "random control (1 sample)" if num_samples == 1 else f"random control (best of {num_samples})"


def parse_instances(instances: Mapping[str, dict]) -> dict[str, Instance]:
    return {key: parse_instance(line["input"], num_machines=line["num_machines"]) for key, line in instances.items()}


def run_baselines(
    instances: Mapping[str, dict],
    rules: Sequence[str],
    variants: Sequence[str],
    fallback: tuple[str, str],
    cpsat: MethodOptions | None = None,
    show_progress: bool = True,
) -> BaselineRuns:
    """Dispatching rules (every rule in every variant, plus the fallback) and, with ``cpsat`` (its options), CP-SAT
    on every instance, through ``solve_by_method`` as ``jssp-sft solve --method cpsat`` runs it (seed 0)."""
    from tqdm.auto import tqdm

    from ..solvers.dispatching import RULE_DESCRIPTIONS, VARIANTS, dispatching_rule

    runs = BaselineRuns()
    pairs = list(dict.fromkeys([(r, v) for v in variants for r in rules] + [fallback]))
    for rule, variant in pairs:
        if variant not in VARIANTS:
            raise ValueError(f"unknown rule variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        name = rule_name(rule, variant)
        runs.descriptions[name] = f"{RULE_DESCRIPTIONS.get(rule.upper(), rule)}; {VARIANTS[variant].description}"
        runs.makespans[name] = {}
    parsed = parse_instances(instances)
    for key, instance in tqdm(parsed.items(), desc="baselines", unit="instance", disable=not show_progress):
        for rule, variant in pairs:
            runs.makespans[rule_name(rule, variant)][key] = dispatching_rule(instance, rule, variant).makespan
    if cpsat is not None:
        from ..solvers.methods import CPSAT, solve_by_method

        name = cpsat.cpsat_label()
        budget = f"{cpsat.deterministic_time:g} deterministic time units, " if cpsat.deterministic_time else ""
        runs.descriptions[name] = (
            f"OR-Tools CP-SAT, {budget}at most {cpsat.time_limit:g} s per instance, {cpsat.workers} worker(s), seed 0"
        )
        runs.makespans[name] = {}
        for key, instance in tqdm(parsed.items(), desc="CP-SAT", unit="instance", disable=not show_progress):
            result = solve_by_method(instance, CPSAT, cpsat)
            if result.schedule is not None:  # none within the limits: the row leaves the instance out
                runs.makespans[name][key] = result.schedule.makespan
            runs.cpsat_status[key] = result.details["status"]
    return runs


def run_controls(
    instances: Mapping[str, dict],
    sample_counts: Iterable[int],
    seed: int = 0,
    max_orders: int = MAX_EXHAUSTIVE_ORDERS,
    runs: BaselineRuns | None = None,
    show_progress: bool = True,
) -> BaselineRuns:
    """The controls on every instance (added to ``runs``): the random control at each N of ``sample_counts`` (one
    draw of max(N) samples per instance; best of the first N), round robin, and the best fixed order per size on the
    instances with a bound."""
    from tqdm.auto import tqdm

    runs = runs or BaselineRuns()
    counts = sorted(set(sample_counts) | {1})
    for n in counts:
        name = runs.random_names[n] = random_control_name(n)
        runs.descriptions[name] = (
            f"uniform pick among the unfinished jobs, placed as guaranteed decoding places operations "
            f"({DEFAULT_PLACEMENT}), best of {n} sample(s), seed {seed}"
        )
        runs.makespans[name] = {}
    for name in (ROUND_ROBIN, BEST_FIXED_ORDER):
        runs.descriptions[name] = CONTROL_DESCRIPTIONS[name]
        runs.makespans[name] = {}
    runs.controls += [*(runs.random_names[n] for n in counts), ROUND_ROBIN, BEST_FIXED_ORDER]
    parsed = parse_instances(instances)
    for key, instance in tqdm(parsed.items(), desc="controls", unit="instance", disable=not show_progress):
        drawn = random_control(instance, counts[-1], seed=seed).makespans
        for n in counts:
            runs.makespans[runs.random_names[n]][key] = min(drawn[:n])
        runs.makespans[ROUND_ROBIN][key] = round_robin_control(instance).makespan
    bounded = [key for key, line in instances.items() if line.get("bound")]
    orders = best_fixed_orders(
        [parsed[key] for key in bounded],
        [instances[key]["bound"] for key in bounded],
        seed=seed,
        max_orders=max_orders,
    )
    for key in bounded:
        order, _ = orders[tuple(len(job) for job in parsed[key].jobs)]
        runs.makespans[BEST_FIXED_ORDER][key] = schedule_from_job_sequence(parsed[key], order).makespan
    return runs


def best_rule(baselines: Mapping[str, dict], runs: BaselineRuns, size: str) -> str | None:
    """The dispatching rule (rule and variant) with the lowest mean gap over ``size`` in a group's baseline rows."""
    rules = [
        name
        for name in baselines
        if name not in runs.controls
        and not name.startswith("CP-SAT")
        and baselines[name][size]["mean_gap"] is not None
    ]
    return min(rules, key=lambda name: baselines[name][size]["mean_gap"], default=None)


@dataclass
class ControlSummary:
    """Mean gaps of the controls and rules on a set of instances (fractions), for the tables outside ``evaluate``."""

    random: dict[int, float]  # N -> the random control's mean gap, best of N samples (the model's decoder's choices)
    random_sample_mean: dict[int, float]  # N -> its mean gap averaged over the N samples (a sampled model's view)
    round_robin: float
    best_fixed_order: float
    rules: dict[str, float]  # "RULE (variant)" -> mean gap
    best_rule: str
    random_by_instance: dict[int, list[float]] = field(default_factory=dict)  # N -> each instance's best-of-N gap
    top_k: int = 0  # the random control picks among this many earliest-starting jobs (0: every unfinished job)

    @property
    def best_rule_gap(self) -> float:
        return self.rules[self.best_rule]

    def to_dict(self) -> dict:
        return {
            "random": self.random,
            "random_sample_mean": self.random_sample_mean,
            "round_robin": self.round_robin,
            "best_fixed_order": self.best_fixed_order,
            "rules": self.rules,
            "best_rule": self.best_rule,
            "best_rule_gap": self.best_rule_gap,
            "top_k": self.top_k,
        }


def control_summary(
    instances: Sequence[Instance],
    bounds: Sequence[float],
    sample_counts: Iterable[int] = (1,),
    seed: int = 0,
    variants: Sequence[str] = ("insertion", "non_delay"),
    max_orders: int = MAX_EXHAUSTIVE_ORDERS,
    top_k: int = 0,
) -> ControlSummary:
    """The controls and every dispatching rule in ``variants`` on ``instances`` (gaps against ``bounds``), with the
    same definitions and per-instance seeds as ``evaluate``'s rows. ``top_k``: the random control picks among the
    choices a candidates-format model gets (the ``top_k`` earliest starts), the random policy of its decoder."""
    from ..core.scoring import gap, mean
    from ..solvers.dispatching import RULES, dispatching_rule

    if len(instances) != len(bounds) or not instances:
        raise ValueError(f"{len(instances)} instances and {len(bounds)} bounds: need as many, at least one")
    counts = sorted(set(sample_counts) | {1})
    random_gaps: dict[int, list[float]] = {n: [] for n in counts}
    sample_means: dict[int, list[float]] = {n: [] for n in counts}
    for instance, bound in zip(instances, bounds):
        drawn = random_control(instance, counts[-1], seed=seed, top_k=top_k).makespans
        for n in counts:
            random_gaps[n].append(gap(min(drawn[:n]), bound))
            sample_means[n].append(mean([gap(m, bound) for m in drawn[:n]]))
    orders = best_fixed_orders(instances, bounds, seed=seed, max_orders=max_orders)
    fixed = [
        gap(schedule_from_job_sequence(instance, orders[tuple(len(job) for job in instance.jobs)][0]).makespan, bound)
        for instance, bound in zip(instances, bounds)
    ]
    rules = {
        rule_name(rule, variant): mean(
            [gap(dispatching_rule(i, rule, variant).makespan, b) for i, b in zip(instances, bounds)]
        )
        for variant in variants
        for rule in RULES
    }
    return ControlSummary(
        random={n: mean(values) for n, values in random_gaps.items()},
        random_sample_mean={n: mean(values) for n, values in sample_means.items()},
        round_robin=mean([gap(round_robin_control(i).makespan, b) for i, b in zip(instances, bounds)]),
        best_fixed_order=mean(fixed),
        rules=rules,
        best_rule=min(rules, key=rules.get),
        random_by_instance=random_gaps,
        top_k=top_k,
    )
