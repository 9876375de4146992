"""Tests of the baselines: every dispatching rule and variant against a separate, brute-force re-implementation."""

import pytest
from conftest import FT06

from jssp_sft import Instance, verify
from jssp_sft.benchmarks.instances import load_benchmark
from jssp_sft.solvers.dispatching import RULES, VARIANTS, dispatch, dispatching_rule


def reference_dispatch(instance: Instance, rule: str, candidates: str, placement: str) -> dict:
    """Starts by (job, op), computed the slow way: a unit-time occupancy grid per machine, priorities from scratch."""
    horizon = sum(d for job in instance.jobs for _, d in job) + 1
    busy = [[False] * horizon for _ in range(instance.num_machines)]
    last_end = [0] * instance.num_machines
    next_op = [0] * instance.num_jobs
    ready = [0] * instance.num_jobs
    starts = {}

    def fits(machine: int, t: int, d: int) -> bool:
        return not any(busy[machine][t : t + d])

    def start_of(j: int) -> int:
        machine, d = instance.jobs[j][next_op[j]]
        if placement == "append":
            return max(ready[j], last_end[machine])
        t = ready[j]
        while not fits(machine, t, d):
            t += 1
        return t

    def priority(j: int) -> float:
        k = next_op[j]
        durations = [d for _, d in instance.jobs[j]]
        if rule == "SPT":
            return durations[k]
        if rule == "MWKR":
            return -sum(durations[k:])
        if rule == "MOPNR":
            return -(len(durations) - k)
        return sum(durations[: k + 1]) / sum(durations[k:])  # FDD/MWKR

    while len(starts) < instance.num_operations:
        jobs = [j for j in range(instance.num_jobs) if next_op[j] < len(instance.jobs[j])]
        if candidates == "non_delay":
            earliest = min(start_of(j) for j in jobs)
            jobs = [j for j in jobs if start_of(j) == earliest]
        j = min(jobs, key=lambda j: (priority(j), j))
        machine, d = instance.jobs[j][next_op[j]]
        t = start_of(j)
        for u in range(t, t + d):
            busy[machine][u] = True
        last_end[machine] = max(last_end[machine], t + d)
        starts[j, next_op[j]] = t
        ready[j] = t + d
        next_op[j] += 1
    return starts


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("rule", list(RULES))
def test_rules_match_the_reference_on_ft06_and_ta01(rule, variant):
    for instance in (FT06, load_benchmark("ta01")[0]):
        schedule = dispatching_rule(instance, rule, variant)
        report = verify(instance, schedule)
        assert report.valid, report.violations
        chosen = VARIANTS[variant]
        expected = reference_dispatch(instance, rule, chosen.candidates, chosen.placement)
        assert {(op.job, op.op_index): op.start for op in schedule.operations} == expected
        assert schedule.makespan == max(t + instance.jobs[j][k][1] for (j, k), t in expected.items())


def test_hand_checked_spt_on_ft06():
    # Non-delay SPT on ft06, first decisions by hand: at t=0 the candidates are J0 (M2, 1), J1 (M1, 8), J2 (M2, 5),
    # J3 (M1, 5), J4 (M2, 9), J5 (M1, 3): SPT takes J0's 1 on M2 first, then J5's 3 on M1 (both can start at 0).
    schedule = dispatching_rule(FT06, "SPT", "non_delay")
    first = [(op.job, op.machine, op.start) for op in schedule.operations[:2]]
    assert first == [(0, 2, 0), (5, 1, 0)]


def test_variants_differ_and_non_delay_is_strongest_on_ta01():
    ta01 = load_benchmark("ta01")[0]
    makespans = {v: dispatching_rule(ta01, "MOPNR", v).makespan for v in VARIANTS}
    assert makespans["non_delay"] == 1438  # 16.8% above 1231, as job-shop-lib's filtered MOPNR
    assert makespans["non_delay"] < makespans["insertion"] < makespans["semi_active"]


def test_active_candidates_give_feasible_schedules():
    for rule in RULES:
        for placement in ("insert", "append"):
            assert verify(FT06, dispatch(FT06, rule, "active", placement)).valid


def test_bad_names():
    with pytest.raises(ValueError, match="unknown dispatching rule 'LPT'"):
        dispatching_rule(FT06, "LPT")
    with pytest.raises(ValueError, match="unknown variant 'greedy'"):
        dispatching_rule(FT06, "SPT", "greedy")
    with pytest.raises(ValueError, match="unknown candidate set"):
        dispatch(FT06, "SPT", "some")
