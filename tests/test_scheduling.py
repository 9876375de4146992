"""Tests of incremental schedule construction, left-justification and machine-order schedules."""

import random

import pytest
from conftest import EXAMPLE_MATRIX, EXAMPLE_OUTPUT

from jssp_sft import Instance, Schedule, format_solution, parse_matrix, parse_solution, to_record, verify
from jssp_sft.core.builder import ScheduleBuilder, left_justify, schedule_from_machine_orders


def random_instance(rng: random.Random, max_jobs: int = 6, max_machines: int = 5) -> Instance:
    n, m = rng.randint(1, max_jobs), rng.randint(1, max_machines)
    jobs = []
    for _ in range(n):
        length = rng.randint(1, m + 1)  # routes may skip machines or revisit one
        jobs.append(tuple((rng.randrange(m), rng.randint(1, 9)) for _ in range(length)))
    return Instance(tuple(jobs), m)


def random_build(instance: Instance, rule: str, rng: random.Random) -> ScheduleBuilder:
    builder = ScheduleBuilder(instance)
    while not builder.done:
        builder.append(rng.choice(builder.remaining_jobs()), rule)
    return builder


def test_append_rebuilds_the_spec_example(example_instance):
    builder = ScheduleBuilder(example_instance)
    assert builder.remaining_jobs() == [0, 1]
    assert builder.next_operation(1) == (1, 0, 0, 9)
    for job in (0, 1, 1, 0, 1):
        builder.append(job)
    assert builder.remaining_jobs() == [0]
    assert builder.earliest_start(0) == 24 and not builder.done
    last = builder.append(0)
    assert last == (0, 2, 1, 24, 5, 29)
    assert builder.done and builder.next_operation(0) is None and builder.makespan == 29
    assert format_solution(builder.to_schedule()) == EXAMPLE_OUTPUT


def test_monotone_never_starts_before_the_previous_operation():
    # J0 has one long operation on M0; J1's operation on M1 could start at 0 but was written after J0's second op.
    instance = Instance((((0, 5), (1, 2)), ((1, 3),)), 2)
    appended = ScheduleBuilder(instance)
    monotone = ScheduleBuilder(instance)
    for builder, rule in ((appended, "append"), (monotone, "monotone")):
        builder.append(0, rule)
        builder.append(0, rule)
    assert appended.earliest_start(1, "append") == 7  # after J0's op on M1 (5..7)
    assert monotone.earliest_start(1, "monotone") == 7
    # A case where the rules differ: J1 runs on an idle machine but the last appended op started at 5.
    instance = Instance((((0, 5), (1, 2)), ((2, 3),)), 3)
    builder = ScheduleBuilder(instance)
    builder.append(0)
    builder.append(0)
    assert builder.earliest_start(1, "append") == 0
    assert builder.earliest_start(1, "monotone") == 5


def test_insert_fills_the_first_gap_that_fits():
    # M0 is busy 0..2 (J0) and 6..9 (J1 after its op on M1, 0..6): a gap 2..6 on M0.
    instance = Instance((((0, 2),), ((1, 6), (0, 3)), ((0, 4),), ((0, 5),)), 2)
    builder = ScheduleBuilder(instance)
    builder.append(0)
    builder.append(1)
    builder.append(1)
    assert builder.earliest_start(2, "append") == 9
    assert builder.append(2, "insert").start == 2  # fits exactly into 2..6
    assert builder.earliest_start(3, "insert") == 9  # no gap of length 5 left before 9
    builder.append(3, "insert")
    schedule = builder.to_schedule()
    assert verify(instance, schedule).valid


@pytest.mark.parametrize("rule", ["append", "monotone", "insert"])
def test_every_rule_builds_feasible_schedules(rule):
    rng = random.Random(rule)
    for _ in range(200):
        instance = random_instance(rng)
        builder = random_build(instance, rule, rng)
        schedule = builder.to_schedule()
        report = verify(instance, schedule)
        assert report.valid, report.violations
        assert verify(instance, format_solution(schedule)).valid
        assert builder.num_scheduled == instance.num_operations == len(schedule)
        if rule == "monotone":
            starts = [op.start for op in builder.operations]
            assert starts == sorted(starts)


def test_builder_errors_name_the_problem(example_instance):
    builder = ScheduleBuilder(example_instance)
    with pytest.raises(ValueError, match="no job 2"):
        builder.append(2)
    with pytest.raises(ValueError, match="unknown start rule 'latest'"):
        builder.append(0, "latest")
    for _ in range(3):
        builder.append(0)
    with pytest.raises(ValueError, match="job 0 has no operation left"):
        builder.earliest_start(0)


def test_copy_is_independent(example_instance):
    builder = ScheduleBuilder(example_instance)
    builder.append(0)
    branch = builder.copy()
    branch.append(1, "insert")
    assert builder.num_scheduled == 1 and branch.num_scheduled == 2
    assert builder.next_operation(1).op_index == 0


def delayed(instance: Instance, schedule: Schedule, rng: random.Random) -> Schedule:
    """The same machine orders with random idle time inserted: still feasible, usually longer."""
    # Replay in start order, each op at max(job, machine) + a random delay.
    job_end, machine_end, starts = {}, {}, []
    for op in sorted(schedule.operations, key=lambda op: (op.start, op.end)):
        start = max(job_end.get(op.job, 0), machine_end.get(op.machine, 0)) + rng.randint(0, 4)
        job_end[op.job] = machine_end[op.machine] = start + op.duration
        starts.append((op.job, op.op_index, start))
    return Schedule.from_starts(instance, starts)


def test_left_justify_keeps_orders_and_never_raises_the_makespan():
    rng = random.Random(7)
    for _ in range(200):
        instance = random_instance(rng)
        slow = delayed(instance, random_build(instance, "insert", rng).to_schedule(), rng)
        assert verify(instance, slow).feasible
        fast = left_justify(instance, slow)
        assert verify(instance, fast).valid
        assert fast.makespan <= slow.makespan
        assert fast.machine_orders(instance.num_machines) == slow.machine_orders(instance.num_machines)
        assert all(
            a.start <= b.start
            for a, b in zip(
                sorted(fast.operations, key=lambda op: (op.job, op.op_index)),
                sorted(slow.operations, key=lambda op: (op.job, op.op_index)),
            )
        )
        assert left_justify(instance, fast) == fast


def test_left_justify_closes_idle_time(example_instance):
    late = parse_solution(EXAMPLE_OUTPUT.replace("J0-M2: 0+7 -> 7", "J0-M2: 2+7 -> 9"))
    assert left_justify(example_instance, late) == parse_solution(EXAMPLE_OUTPUT)


def test_machine_orders_of_the_matrix_field_rebuild_the_output(example_instance):
    matrix = parse_matrix(EXAMPLE_MATRIX)
    schedule = schedule_from_machine_orders(matrix.instance, matrix.machine_orders)
    assert format_solution(schedule) == EXAMPLE_OUTPUT
    ids = [[int(x) for x in line.split()] for line in EXAMPLE_MATRIX.splitlines()[-3:]]
    assert schedule_from_machine_orders(example_instance, ids) == schedule
    record = to_record(example_instance, schedule)
    assert record["matrix"] == EXAMPLE_MATRIX


def test_inconsistent_machine_orders_are_rejected(example_instance):
    # J0: M2 -> M0 -> M1; J1: M0 -> M2 -> M1. A cycle: M0 runs J0 op1 first and M2 runs J1 op1 first, so J0 op1
    # waits for J0 op0 (M2), which waits behind J1 op1, which waits for J1 op0 (M0), which waits behind J0 op1.
    cyclic = [[(0, 1), (1, 0)], [(0, 2), (1, 2)], [(1, 1), (0, 0)]]
    with pytest.raises(ValueError, match="cycle"):
        schedule_from_machine_orders(example_instance, cyclic)
    with pytest.raises(ValueError, match="runs on machine 2, not 0"):
        schedule_from_machine_orders(example_instance, [[(0, 0), (1, 0)], [(0, 2), (1, 2)], [(1, 1), (0, 1)]])
    with pytest.raises(ValueError, match="more than once"):
        schedule_from_machine_orders(example_instance, [[(1, 0), (1, 0)], [(0, 2), (1, 2)], [(0, 0), (1, 1)]])
    with pytest.raises(ValueError, match="op 1 of job 0 .* is in no machine order"):
        schedule_from_machine_orders(example_instance, [[(1, 0)], [(0, 2), (1, 2)], [(0, 0), (1, 1)]])
    with pytest.raises(ValueError, match="one order per machine"):
        schedule_from_machine_orders(example_instance, [[(1, 0)]])
