"""Controls a learned policy must beat: a seeded random policy, prompt-blind job orders, and the best dispatching rule.

A trained model is worth its lift over chance. ``random_control`` chooses the next job uniformly among the unfinished
ones and places it with exactly the rule guaranteed decoding uses (``ScheduleBuilder``'s start rule), sampled N times
like the model, keeping the best: a model's best-of-N figure stands beside ``random_control(..., num_samples=N)``.
``first_listed_control`` takes the first entry of every candidate line (a candidates model that learned only the
line's order). The prompt-blind controls never read durations or machines: round robin, and the single job order per
size that scores best on the very records evaluated (an optimistic bound for any policy that ignores the instance).
Plain Python.

The seed rule, one for every report (``evaluate``, ``quickstart``, the training callback, ``improve``, ``serve``,
``solve``, bench/) and for the model's sampling: an instance draws from ``instance_seed(seed, instance)``, a hash of
the run's seed and the instance's jobs and machine count. It never reads a name, an id or a file name, so the same
instance gets the same draws under any name, in any format and beside any other instances; ``random_control`` applies
it itself, so every caller passes the run's seed.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

from ..core.builder import ScheduleBuilder
from ..core.candidates import CandidateFormat, candidates
from ..core.instance import Instance
from ..core.schedule import Schedule
from .dispatching import RULES, VARIANTS, dispatching_rule


DEFAULT_PLACEMENT = "insert"  # the start rule of guaranteed decoding (``jssp_sft.solve.guaranteed``)
# Beyond this many distinct job orders per size, the best fixed order is searched among round robin and this many
# seeded random orders instead of exhaustively.
MAX_EXHAUSTIVE_ORDERS = 3000


@dataclass(frozen=True)
class ControlResult:
    """The best of ``num_samples`` schedules of a control on one instance, and every sample (schedule, makespan)."""

    schedule: Schedule
    makespan: int
    makespans: tuple[int, ...]
    schedules: tuple[Schedule, ...] = ()

    @property
    def mean_makespan(self) -> float:
        return sum(self.makespans) / len(self.makespans)


def schedule_from_job_sequence(
    instance: Instance, jobs: Sequence[int], placement: str = DEFAULT_PLACEMENT
) -> Schedule:
    """Place the jobs' operations in the order ``jobs`` names them (one entry per operation), each by ``placement``."""
    builder = ScheduleBuilder(instance)
    for job in jobs:
        builder.append(job, placement)
    if not builder.done:
        raise ValueError(f"the job sequence schedules {builder.num_scheduled} of {instance.num_operations} operations")
    return builder.to_schedule()


def random_job_sequence(instance: Instance, rng: random.Random) -> list[int]:
    """A job sequence drawn as the random policy draws it: each step, a uniform pick among the unfinished jobs."""
    remaining = [len(job) for job in instance.jobs]
    open_jobs = [j for j, count in enumerate(remaining) if count]
    sequence = []
    while open_jobs:
        job = open_jobs[rng.randrange(len(open_jobs))]
        sequence.append(job)
        remaining[job] -= 1
        if not remaining[job]:
            open_jobs.remove(job)
    return sequence


def instance_seed(seed: int, instance: Instance) -> int:
    """The seed ``instance`` draws from in a run seeded ``seed``: CRC-32 of ``"{seed}:{num_machines}:{jobs}"``.

    Fixed by the run's seed and the instance's content only (not its name, file or neighbours), so a report's row
    does not depend on how the instance was named or which others were evaluated with it."""
    return zlib.crc32(f"{seed}:{instance.num_machines}:{instance.jobs}".encode())


def random_control(
    instance: Instance, num_samples: int = 1, seed: int = 0, placement: str = DEFAULT_PLACEMENT, top_k: int = 0
) -> ControlResult:
    """The seeded uniform-random policy: ``num_samples`` schedules, each placed by ``placement``; the best is kept.

    ``seed`` is the run's seed: the draws come from ``instance_seed(seed, instance)``. Deterministic for a seed and
    instance; sample ``i`` does not depend on ``num_samples``, so best-of-8 extends best-of-1. With ``top_k`` the
    pick is uniform among the ``top_k`` jobs whose next operations start earliest (ties: lower job), the choices a
    candidates-format model is given (``jssp_sft.core.candidates``): the random policy of the same decoder.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0 (0: every unfinished job), got {top_k}")
    rng = random.Random(instance_seed(seed, instance))
    if top_k:
        schedules = [_random_top_k_schedule(instance, rng, top_k, placement) for _ in range(num_samples)]
    else:
        sequences = [random_job_sequence(instance, rng) for _ in range(num_samples)]
        schedules = [schedule_from_job_sequence(instance, sequence, placement) for sequence in sequences]
    makespans = tuple(s.makespan for s in schedules)
    best = min(range(num_samples), key=makespans.__getitem__)
    return ControlResult(schedules[best], makespans[best], makespans, tuple(schedules))


def _random_top_k_schedule(instance: Instance, rng: random.Random, top_k: int, placement: str) -> Schedule:
    """One schedule of the random policy restricted to the ``top_k`` earliest-starting jobs at each step."""
    builder = ScheduleBuilder(instance)
    while not builder.done:
        listed = candidates(builder, placement)[:top_k]
        builder.append(listed[rng.randrange(len(listed))].job, placement)
    return builder.to_schedule()


def first_listed_control(
    instance: Instance, fmt: CandidateFormat, placement: str = DEFAULT_PLACEMENT
) -> ControlResult:
    """The policy that always takes the first entry of its candidate line (``fmt``'s top k in ``fmt``'s order): what a
    candidates model does if it learned only the line's order. With entries by start that is the earliest start,
    equal starts by most work left; by job, the lowest-numbered job among the top k."""
    builder = ScheduleBuilder(instance)
    while not builder.done:
        builder.append(fmt.listed(candidates(builder, placement))[0].job, placement)
    schedule = builder.to_schedule()
    return ControlResult(schedule, schedule.makespan, (schedule.makespan,))


def round_robin_sequence(instance: Instance) -> list[int]:
    """Jobs in turn (0, 1, ..., n-1, 0, 1, ...), skipping finished ones: a policy that never reads the instance."""
    remaining = [len(job) for job in instance.jobs]
    sequence = []
    while any(remaining):
        for job, count in enumerate(remaining):
            if count:
                sequence.append(job)
                remaining[job] -= 1
    return sequence


def round_robin_control(instance: Instance, placement: str = DEFAULT_PLACEMENT) -> ControlResult:
    schedule = schedule_from_job_sequence(instance, round_robin_sequence(instance), placement)
    return ControlResult(schedule, schedule.makespan, (schedule.makespan,))


def _size(instance: Instance) -> tuple[int, ...]:
    return tuple(len(job) for job in instance.jobs)


def _distinct_orders(lengths: tuple[int, ...], limit: int) -> list[tuple[int, ...]] | None:
    """Every distinct job sequence for jobs of these lengths, or None when there are more than ``limit``."""
    total = sum(lengths)
    count, left = 1, total
    for length in lengths:  # multinomial coefficient, computed without overflow worries (Python ints)
        count *= comb(left, length)
        left -= length
    if count > limit:
        return None
    return _multiset_permutations(lengths)


def _multiset_permutations(lengths: tuple[int, ...]) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = []
    remaining = list(lengths)
    prefix: list[int] = []

    def extend():
        if len(prefix) == sum(lengths):
            out.append(tuple(prefix))
            return
        for job, count in enumerate(remaining):
            if count:
                remaining[job] -= 1
                prefix.append(job)
                extend()
                prefix.pop()
                remaining[job] += 1

    extend()
    return out


def best_fixed_orders(
    instances: Sequence[Instance],
    optima: Sequence[float],
    placement: str = DEFAULT_PLACEMENT,
    seed: int = 0,
    max_orders: int = MAX_EXHAUSTIVE_ORDERS,
) -> dict[tuple[int, ...], tuple[tuple[int, ...], float]]:
    """Per size (the jobs' operation counts), the one job sequence with the lowest mean gap to ``optima``.

    Exhaustive where a size has at most ``max_orders`` distinct sequences, else round robin plus ``max_orders``
    seeded random ones. Scored on the very instances given: an optimistic bound for any prompt-blind policy.
    Returns ``{size: (sequence, mean gap)}``.
    """
    by_size: dict[tuple[int, ...], list[int]] = {}
    for index, instance in enumerate(instances):
        by_size.setdefault(_size(instance), []).append(index)
    rng = random.Random(seed)
    best: dict[tuple[int, ...], tuple[tuple[int, ...], float]] = {}
    for size, indices in by_size.items():
        orders = _distinct_orders(size, max_orders)
        if orders is None:
            first = instances[indices[0]]
            orders = [tuple(round_robin_sequence(first))]
            orders += [tuple(random_job_sequence(first, rng)) for _ in range(max_orders)]
        scored = []
        for order in orders:
            gaps = [
                schedule_from_job_sequence(instances[i], order, placement).makespan / optima[i] - 1 for i in indices
            ]
            scored.append((sum(gaps) / len(gaps), order))
        gap_value, order = min(scored)
        best[size] = (order, gap_value)
    return best


def best_dispatching_rule(instance: Instance) -> tuple[str, Schedule]:
    """The best schedule among every dispatching rule in every variant, and its ``"RULE (variant)"`` name."""
    results = [
        (dispatching_rule(instance, rule, variant), f"{rule} ({variant})") for rule in RULES for variant in VARIANTS
    ]
    schedule, name = min(results, key=lambda item: item[0].makespan)
    return name, schedule
