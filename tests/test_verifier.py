"""The strict verifier: each violation kind from a hand-made case, random mutations against an independent oracle."""

import random

import numpy as np
import pytest
from conftest import EXAMPLE_INPUT, EXAMPLE_OUTPUT
from hypothesis import given, settings
from hypothesis import strategies as st
from jssp_testing import naive_is_feasible, random_feasible_schedule, random_instance

from jssp_sft import Instance, Operation, Schedule, format_solution, parse_solution, verify
from jssp_sft.core.verifier import (
    DUPLICATE_OPERATION,
    EXTRA_OPERATION,
    MACHINE_OVERLAP,
    MAKESPAN_MISMATCH,
    MISSING_OPERATION,
    NEGATIVE_START,
    PRECEDENCE,
    UNKNOWN_JOB,
    UNKNOWN_MACHINE,
    UNPARSEABLE,
    VIOLATION_KINDS,
    WRONG_DURATION,
    WRONG_END,
    WRONG_MACHINE,
    _find_violations,
    _passes_fast_checks,
    schedule_entries,
)


def kinds(report):
    return {v.kind for v in report.violations}


def edit(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


def test_the_spec_example_is_feasible(example_instance):
    report = verify(example_instance, EXAMPLE_OUTPUT)
    assert report.feasible and report.valid and report.parsed
    assert (report.makespan, report.declared_makespan, report.makespan_matches) == (29, 29, True)
    assert report.violations == () and report.num_operations == 6
    assert verify(EXAMPLE_INPUT, parse_solution(EXAMPLE_OUTPUT)) == report


# Each case breaks the spec example in one way; the kinds listed must all be reported.
CASES = {
    UNKNOWN_JOB: (("J1-M1: 13+11 -> 24", "J1-M1: 13+11 -> 24, J7-M1: 30+1 -> 31"), {UNKNOWN_JOB}),
    UNKNOWN_MACHINE: (("J0-M1: 24+5 -> 29", "J0-M9: 24+5 -> 29"), {UNKNOWN_MACHINE}),
    WRONG_MACHINE: (("J0-M1: 24+5 -> 29", "J0-M2: 24+5 -> 29"), {WRONG_MACHINE}),
    WRONG_DURATION: (("J0-M1: 24+5 -> 29", "J0-M1: 24+6 -> 30"), {WRONG_DURATION}),
    WRONG_END: (("J0-M1: 24+5 -> 29", "J0-M1: 24+5 -> 28"), {WRONG_END}),
    NEGATIVE_START: (("J0-M2: 0+7 -> 7", "J0-M2: -1+7 -> 6"), {NEGATIVE_START}),
    PRECEDENCE: (("J0-M1: 24+5 -> 29", "J0-M1: 20+5 -> 25"), {PRECEDENCE}),
    MACHINE_OVERLAP: (("J0-M1: 24+5 -> 29", "J0-M1: 23+5 -> 28"), {MACHINE_OVERLAP}),
    MISSING_OPERATION: ((", J0-M1: 24+5 -> 29", ""), {MISSING_OPERATION}),
    DUPLICATE_OPERATION: (("J0-M1: 24+5 -> 29", "J0-M1: 24+5 -> 29, J0-M1: 24+5 -> 29"), {DUPLICATE_OPERATION}),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_violation_kind_is_reported(example_instance, kind):
    (old, new), expected = CASES[kind]
    report = verify(example_instance, edit(EXAMPLE_OUTPUT, old, new))
    assert not report.feasible
    assert expected <= kinds(report), report.violations
    assert all(v.message for v in report.violations)


def test_extra_operation_on_a_ragged_instance():
    instance = Instance((((0, 3),), ((0, 2), (1, 4))), 2)
    report = verify(instance, "J0-M0: 0+3 -> 3, J1-M0: 3+2 -> 5, J1-M1: 5+4 -> 9, J1-M1: 9+4 -> 13")
    assert EXTRA_OPERATION in kinds(report) and not report.feasible
    report = verify(instance, "J0-M0: 0+3 -> 3, J0-M1: 3+3 -> 6, J1-M0: 3+2 -> 5, J1-M1: 6+4 -> 10")
    assert EXTRA_OPERATION in kinds(report) and not report.feasible


def test_violation_messages_name_the_operation(example_instance):
    report = verify(example_instance, edit(EXAMPLE_OUTPUT, "J0-M1: 24+5 -> 29", "J0-M1: 20+5 -> 25"))
    (violation,) = [v for v in report.violations if v.kind == PRECEDENCE]
    assert (violation.job, violation.op_index, violation.machine) == (0, 2, 1)
    assert "J0-M1" in violation.message and "op 2 of job 0" in violation.message


def test_every_violation_is_reported_not_only_the_first(example_instance):
    text = edit(EXAMPLE_OUTPUT, "J0-M1: 24+5 -> 29", "J0-M1: 24+6 -> 29")
    text = edit(text, "J1-M0: 0+9 -> 9", "J1-M0: 0+9 -> 8")
    text = edit(text, "J1-M1: 13+11 -> 24", "J7-M1: 13+11 -> 24")
    report = verify(example_instance, text)
    assert {WRONG_DURATION, WRONG_END, UNKNOWN_JOB, MISSING_OPERATION} <= kinds(report)


def test_declared_makespan_mismatch_is_reported_but_not_infeasible(example_instance):
    report = verify(example_instance, EXAMPLE_OUTPUT.replace("Makespan: 29", "Makespan: 30"))
    assert report.feasible and not report.valid
    assert report.makespan_matches is False and kinds(report) == {MAKESPAN_MISMATCH}
    report = verify(example_instance, EXAMPLE_OUTPUT.rsplit("\n", 1)[0])
    assert report.feasible and report.makespan_matches is None and report.declared_makespan is None


@pytest.mark.parametrize("garbage", ["", "no idea", "Solution:\nJ0-M2: 0+7 -> ", "🚀" * 50, "J0:\nM0:1 \n"])
def test_garbage_gives_an_unparseable_report(example_instance, garbage):
    report = verify(example_instance, garbage)
    assert not report.feasible and not report.parsed
    assert [v.kind for v in report.violations] == [UNPARSEABLE]
    assert report.makespan is None


def test_verify_rejects_a_malformed_instance_and_a_wrong_type(example_instance):
    with pytest.raises(ValueError, match="no instance found"):
        verify("nonsense", EXAMPLE_OUTPUT)
    with pytest.raises(TypeError):
        verify(example_instance, 42)


def test_report_to_dict_is_json_ready(example_instance):
    import json

    report = verify(example_instance, edit(EXAMPLE_OUTPUT, "J0-M1: 24+5 -> 29", "J0-M1: 20+5 -> 25"))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["feasible"] is False and data["violations"][0]["kind"] in VIOLATION_KINDS


def test_ragged_instance_with_repeated_machine_is_feasible():
    instance = Instance((((0, 2), (1, 1), (0, 3)), ((1, 4),)), 2)
    text = "J0-M0: 0+2 -> 2, J1-M1: 0+4 -> 4, J0-M1: 4+1 -> 5, J0-M0: 5+3 -> 8"
    assert verify(instance, text).feasible


# ------------------------------------------------------------------------------------------------ random mutation


def mutate(instance, schedule, rng):
    """One random corruption of a feasible schedule; returns (name, operations)."""
    ops = list(schedule.operations)
    i = rng.randrange(len(ops))
    op = ops[i]
    name = rng.choice(["move", "swap", "drop", "duplicate", "duration", "overlap"])
    if name == "move":
        start = max(0, op.start + rng.choice([-1, 1]) * rng.randint(1, 50))
        ops[i] = op._replace(start=start, end=start + op.duration)
    elif name == "swap":
        same_job = [k for k, other in enumerate(ops) if other.job == op.job and k != i]
        if not same_job:
            return mutate(instance, schedule, rng)
        k = rng.choice(same_job)
        ops[i] = op._replace(start=ops[k].start, end=ops[k].start + op.duration)
        ops[k] = ops[k]._replace(start=op.start, end=op.start + ops[k].duration)
    elif name == "drop":
        del ops[i]
    elif name == "duplicate":
        ops.insert(i, op)
    elif name == "duration":
        duration = op.duration + rng.choice([-1, 1]) * rng.randint(1, 5)
        ops[i] = op._replace(duration=duration, end=op.start + duration)
    else:
        same_machine = [k for k, other in enumerate(ops) if other.machine == op.machine and k != i]
        if not same_machine:
            return mutate(instance, schedule, rng)
        start = ops[rng.choice(same_machine)].start
        ops[i] = op._replace(start=start, end=start + op.duration)
    return name, ops


@given(st.integers(0, 2**32 - 1), st.integers(0, 20))
@settings(max_examples=400, deadline=None)
def test_random_mutations_agree_with_an_independent_oracle(seed, slack):
    rng = random.Random(seed)
    instance = random_instance(rng, max_jobs=6, max_machines=6)
    schedule = random_feasible_schedule(instance, rng, slack=slack)
    assert verify(instance, schedule).feasible
    name, ops = mutate(instance, schedule, rng)
    rows = [(op.job, op.machine, op.start, op.duration, op.end) for op in ops]
    expected = naive_is_feasible(instance, rows)
    text = format_solution(Schedule(tuple(ops)))
    report = verify(instance, text)
    assert report.feasible == expected, (name, report.violations)
    if name == "drop":
        assert MISSING_OPERATION in kinds(report)
    if name == "duplicate":
        assert DUPLICATE_OPERATION in kinds(report)
    if name == "duration":
        assert WRONG_DURATION in kinds(report)
    if name == "overlap":
        assert not report.feasible and kinds(report) & {MACHINE_OVERLAP, PRECEDENCE}
    # The fast path may only accept what the descriptive pass finds nothing wrong with.
    entries = schedule_entries(Schedule(tuple(ops)))
    if _passes_fast_checks(instance, entries):
        assert _find_violations(instance, entries) == []


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=200, deadline=None)
def test_feasible_schedules_pass_both_passes(seed):
    rng = random.Random(seed)
    instance = random_instance(rng, ragged=rng.random() < 0.3)
    schedule = random_feasible_schedule(instance, rng, slack=rng.randint(0, 10))
    entries = schedule_entries(schedule)
    assert _passes_fast_checks(instance, entries)
    assert _find_violations(instance, entries) == []
    report = verify(instance, format_solution(schedule.with_declared_makespan()))
    assert report.valid and report.makespan == schedule.makespan


def test_verify_accepts_schedules_and_text_alike():
    rng = random.Random(7)
    for _ in range(20):
        instance = random_instance(rng)
        schedule = random_feasible_schedule(instance, rng, slack=5)
        broken = Schedule(schedule.operations[:-1] + (schedule.operations[-1]._replace(end=-5),))
        assert verify(instance, broken) == verify(instance, format_solution(broken, include_makespan=False))


def test_large_schedule_verdicts():
    rng = random.Random(3)
    jobs = tuple(tuple((m, rng.randint(1, 99)) for m in rng.sample(range(20), 20)) for _ in range(50))
    instance = Instance(jobs, 20)
    schedule = random_feasible_schedule(instance, rng)
    assert verify(instance, format_solution(schedule)).feasible
    ops = list(schedule.operations)
    i = next(i for i, op in enumerate(ops) if op.op_index == 10)
    ops[i] = Operation(ops[i].job, 10, ops[i].machine, 0, ops[i].duration, ops[i].duration)
    report = verify(instance, format_solution(Schedule(tuple(ops))))
    # Moved to the front, it becomes the job's first entry: under the position convention, op 0 on the wrong machine.
    assert not report.feasible and WRONG_MACHINE in kinds(report)
    assert np.array_equal(schedule_entries(schedule)[:, 0], [op.job for op in schedule.operations])


def test_zero_length_operations_of_one_job_may_share_a_start():
    instance = Instance((((0, 0), (0, 0), (1, 3)),), 2)
    report = verify(instance, "J0-M0: 0+0 -> 0, J0-M0: 0+0 -> 0, J0-M1: 0+3 -> 3")
    assert report.feasible, report.violations
    report = verify(instance, "J0-M0: 0+0 -> 0, J0-M0: 0+0 -> 0, J0-M0: 0+0 -> 0, J0-M1: 0+3 -> 3")
    assert kinds(report) == {DUPLICATE_OPERATION}
