"""Tests of the CP-SAT job-shop model against brute force, known optima and itself (reproducibility)."""

import itertools
import random

import pytest
from conftest import FT06

from jssp_sft import Instance, verify
from jssp_sft.core.builder import ScheduleBuilder, schedule_from_machine_orders
from jssp_sft.solvers.cpsat import solve_cpsat


def brute_force_optimum(instance: Instance) -> int:
    """The best makespan over every combination of machine orders (tiny instances only)."""
    per_machine = [
        [(j, k) for j, job in enumerate(instance.jobs) for k, (m, _) in enumerate(job) if m == machine]
        for machine in range(instance.num_machines)
    ]
    best = None
    for orders in itertools.product(*(itertools.permutations(ops) for ops in per_machine)):
        try:
            makespan = schedule_from_machine_orders(instance, orders).makespan
        except ValueError:  # a cycle with the job routes
            continue
        best = makespan if best is None else min(best, makespan)
    return best


def test_matches_brute_force_on_small_random_instances():
    rng = random.Random(0)
    for _ in range(15):
        n, m = rng.randint(2, 3), rng.randint(2, 3)
        jobs = [tuple((machine, rng.randint(1, 20)) for machine in rng.sample(range(m), m)) for _ in range(n)]
        instance = Instance(tuple(jobs), m)
        result = solve_cpsat(instance, time_limit=5, num_workers=1)
        assert result.status == "OPTIMAL"
        assert result.makespan == result.lower_bound == brute_force_optimum(instance)
        assert verify(instance, result.schedule).valid


def test_ft06_optimum_and_left_justified_schedule():
    result = solve_cpsat(FT06, time_limit=10, num_workers=1)
    assert (result.status, result.makespan, result.lower_bound) == ("OPTIMAL", 55, 55)
    assert result.optimal and result.wall_time > 0
    report = verify(FT06, result.schedule)
    assert report.valid and result.schedule.declared_makespan == 55
    # Left-justified: each operation starts exactly when its job's and its machine's previous operation end.
    job_end, machine_end = {}, {}
    for op in result.schedule.operations:
        assert op.start == max(job_end.get(op.job, 0), machine_end.get(op.machine, 0))
        job_end[op.job] = machine_end[op.machine] = op.end


def random_instance(seed: int, n: int, m: int) -> Instance:
    rng = random.Random(seed)
    return Instance(
        tuple(tuple((machine, rng.randint(1, 99)) for machine in rng.sample(range(m), m)) for _ in range(n)), m
    )


def test_one_worker_with_a_seed_is_reproducible():
    instance = random_instance(1, 8, 6)
    first = solve_cpsat(instance, time_limit=10, num_workers=1, seed=5)
    second = solve_cpsat(instance, time_limit=10, num_workers=1, seed=5)
    assert first.schedule == second.schedule and first.status == second.status == "OPTIMAL"


def test_a_limit_gives_a_feasible_schedule_and_a_lower_bound():
    instance = random_instance(2, 15, 15)
    runs = [solve_cpsat(instance, time_limit=30, num_workers=1, seed=1, deterministic_time_limit=0.01) for _ in "ab"]
    result = runs[0]
    assert result.status == "FEASIBLE" and not result.optimal
    assert instance.lower_bound() <= result.lower_bound < result.makespan
    assert verify(instance, result.schedule).valid
    assert runs[1].schedule == result.schedule  # a deterministic limit stops at the same point every time


def test_a_hint_is_accepted():
    builder = ScheduleBuilder(FT06)
    while not builder.done:
        builder.append(builder.remaining_jobs()[0])
    hinted = solve_cpsat(FT06, time_limit=10, num_workers=1, hint=builder.to_schedule())
    assert hinted.makespan == 55


def test_no_solution_within_the_limit_is_an_error():
    with pytest.raises(RuntimeError, match="found no schedule .* raise the time limit"):
        solve_cpsat(random_instance(3, 30, 20), time_limit=0.001, num_workers=1)
