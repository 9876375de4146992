"""Repair: any output (garbage, truncated, infeasible) becomes a feasible, complete schedule; the verifier checks it."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jssp_sft import Instance, format_solution, verify
from jssp_sft.benchmarks.instances import load_benchmark
from jssp_sft.core.codec import scan_solution
from jssp_sft.solvers.dispatching import dispatch, dispatching_rule
from jssp_sft.solvers.repair import job_choices, repair, repair_details


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw) -> Instance:
    num_jobs = draw(st.integers(1, 7))
    num_machines = draw(st.integers(1, 5))
    jobs = []
    for _ in range(num_jobs):
        route = draw(st.permutations(range(num_machines)))[: draw(st.integers(1, num_machines))]
        jobs.append(tuple((m, draw(st.integers(0, 40))) for m in route))
    return Instance(tuple(jobs), num_machines)


@st.composite
def garbled_operations(draw, instance: Instance) -> str:
    """Operation-like text with wrong jobs (some unknown), machines, times, separators and junk in between."""
    parts = []
    for _ in range(draw(st.integers(0, 3 * instance.num_operations))):
        job = draw(st.integers(-1, instance.num_jobs + 2))
        machine, start, duration = (draw(st.integers(0, 9)) for _ in range(3))
        end = draw(st.one_of(st.just(start + duration), st.integers(0, 99)))
        op = draw(
            st.sampled_from(
                [
                    f"J{job}-M{machine}: {start}+{duration} -> {end}",
                    f"J {job} - M{machine}:{start}",
                    f"J{job}-",
                    f"junk {job}",
                    f"J{job}",
                ]
            )
        )
        parts.append(op)
        parts.append(draw(st.sampled_from([", ", ",", "\n", " ", "; ", ""])))
    head = draw(st.sampled_from(["Solution:\n", "Sure! Here it is.\nSolution:\n", "", "J0:\nM1:5 \n"]))
    tail = draw(
        st.sampled_from(["", "\nMaximum end completion time or Makespan: 12", "\nMakespan: 3.0", "<|im_end|>"])
    )
    return head + "".join(parts) + tail


def assert_repaired(instance: Instance, schedule) -> None:
    report = verify(instance, format_solution(schedule))
    assert report.feasible and report.makespan_matches, report.violations[:3]
    assert report.num_operations == instance.num_operations


@SETTINGS
@given(data=st.data())
def test_any_text_repairs_to_a_feasible_complete_schedule(data):
    instance = data.draw(instances())
    text = data.draw(st.one_of(st.text(max_size=300), garbled_operations(instance)))
    assert_repaired(instance, repair(instance, text))


@SETTINGS
@given(data=st.data())
def test_truncated_solutions_keep_every_complete_choice(data):
    instance = data.draw(instances())
    rule = data.draw(st.sampled_from(["SPT", "MWKR", "MOPNR", "FDD/MWKR"]))
    text = format_solution(dispatching_rule(instance, rule, data.draw(st.sampled_from(["insertion", "non_delay"]))))
    cut = data.draw(st.integers(0, len(text)))
    details = repair_details(instance, text[:cut])
    assert_repaired(instance, details.schedule)
    assert details.kept == len(job_choices(text[:cut])) and details.dropped == 0
    assert details.kept + details.added == instance.num_operations


@SETTINGS
@given(data=st.data())
def test_a_feasible_output_in_start_order_never_gets_worse(data):
    instance = data.draw(instances())
    placement = data.draw(st.sampled_from(["insert", "append"]))
    original = dispatch(instance, data.draw(st.sampled_from(["SPT", "MWKR"])), "all", "append")
    details = repair_details(instance, format_solution(original), placement=placement)
    assert not details.changed
    assert details.schedule.makespan <= original.makespan


@SETTINGS
@given(data=st.data())
def test_infeasible_outputs_keep_the_order_of_their_job_choices(data):
    """Starts shuffled, operations dropped and duplicated: the kept choices' order survives on every machine."""
    instance = data.draw(instances())
    rng = random.Random(data.draw(st.integers(0, 10**6)))
    operations = list(dispatching_rule(instance, "MWKR").operations)
    operations = [op for op in operations if rng.random() > 0.2] + rng.sample(operations, len(operations) // 3)
    rng.shuffle(operations)
    text = "Solution:\n" + ", ".join(
        f"J{op.job}-M{op.machine}: {rng.randint(0, 50)}+{op.duration} -> {rng.randint(0, 90)}" for op in operations
    )
    details = repair_details(instance, text, placement="append")
    assert_repaired(instance, details.schedule)
    # Replay the kept choices: each machine must process them in the order the text chose them.
    next_op, expected = [0] * instance.num_jobs, [[] for _ in range(instance.num_machines)]
    for job in job_choices(text):
        if next_op[job] < len(instance.jobs[job]):
            expected[instance.jobs[job][next_op[job]][0]].append((job, next_op[job]))
            next_op[job] += 1
    orders = details.schedule.machine_orders(instance.num_machines)
    assert all(order[: len(want)] == want for order, want in zip(orders, expected))
    assert details.kept == sum(next_op) and details.dropped == len(operations) - details.kept


def test_benchmark_outputs_of_every_kind():
    instance, _ = load_benchmark("ft06")
    valid = format_solution(dispatching_rule(instance, "MWKR"))
    for text in ["", "I cannot solve this.", valid[: len(valid) // 2], valid.replace("J5", "J9"), valid * 2, None]:
        assert_repaired(instance, repair(instance, text))
    assert repair(instance, "", rule="SPT") == dispatching_rule(instance, "SPT", "insertion")


def test_unknown_rule_or_placement_is_named():
    instance, _ = load_benchmark("ft06")
    with pytest.raises(ValueError, match="dispatching rule"):
        repair(instance, "", rule="LIFO")
    with pytest.raises(ValueError, match="placement"):
        repair(instance, "", placement="late")


def test_job_choices_follow_the_codecs_rule():
    # An answer that reads: exactly its operations, candidate lines skipped.
    good = "Here is my solution:\nSolution:\nJ3-M0: 0+1 -> 1\nNext: s0 J1 | s2 J2\nJ1-M0: 1+1 -> 2\nMakespan: 2"
    assert job_choices(good) == [3, 1] == scan_solution(good).entries[:, 0].tolist()
    # One that does not: every 'J<job>-' from its first operation to the makespan line, as the codec bounds them.
    text = "Solution:\nJ0-M0: 0+3 -> 3\nWait, better:\nJ1-M1: 0+4 -> 4, J0-M0: 0+3 -> 3\nMakespan: 4\nJ2-M0: 9+1 -> 10"
    assert not verify(load_benchmark("ft06")[0], text).parsed and job_choices(text) == [0, 1, 0]
    assert job_choices("no header J2-M0: 0+1 -> 1") == [2]
    assert job_choices("J\u0663-M0: 0+1 -> 1, J1-M0: 1+1 -> 2") == [1]  # ASCII digits only: 'J\u0663' is no choice
    assert job_choices("Next: J5-M0\nJ1-M0: 0+1 -> 1") == [1]  # a malformed candidate line holds no operation
