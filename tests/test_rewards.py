"""The GRPO rewards on hand-made completions, their documented ranges, the shared verification cache and the logging."""

import math
import subprocess
import sys
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jssp_sft import Schedule, format_solution, parse_instance
from jssp_sft.data.templates import PromptFormat
from jssp_sft.rewards import (
    MAX_QUALITY,
    REWARD_RANGES,
    REWARDS,
    VERIFIER,
    checks_reward,
    completion_text,
    feasibility_reward,
    format_reward,
    get_reward_funcs,
    makespan_declared_reward,
    makespan_quality_reward,
    operations_reward,
    prompt_problem_text,
    valid_reward,
)
from jssp_sft.solvers.cpsat import solve_cpsat


INPUT = "J0:\nM2:7 M0:12 M1:5 \nJ1:\nM0:9 M2:4 M1:11 \nJ2:\nM1:6 M2:8 M0:3 \n"


@pytest.fixture(scope="module")
def problem():
    """A 3x3 instance, its prompt in both template styles, and its optimal (CP-SAT) and serial schedules as text."""
    instance = parse_instance(INPUT)
    result = solve_cpsat(instance, time_limit=10)
    assert result.status == "OPTIMAL"
    optimal = result.schedule.with_declared_makespan()
    starts, time = [], 0
    for j, job in enumerate(instance.jobs):
        for k, (_, duration) in enumerate(job):
            starts.append((j, k, time))
            time += duration
    serial = Schedule.from_starts(instance, starts).with_declared_makespan()
    return SimpleNamespace(
        instance=instance,
        prompt=PromptFormat().prompt_example(instance)["prompt"],
        chat_prompt=PromptFormat("messages", system_prompt="You schedule jobs.").prompt_example(instance)["prompt"],
        optimum=optimal.makespan,
        optimal=format_solution(optimal),
        serial_makespan=serial.makespan,
        serial=format_solution(serial),
    )


def scores(problem, completions, reference=None, prompt=None):
    """Every reward of REWARDS on ``completions`` (one prompt), by name."""
    n = len(completions)
    refs = [problem.optimum if reference is None else reference] * n
    prompts = [problem.prompt if prompt is None else prompt] * n
    return {name: f(prompts=prompts, completions=completions, reference_makespan=refs) for name, f in REWARDS.items()}


def test_optimal_schedule_scores_full_marks(problem):
    got = scores(problem, [problem.optimal])
    assert got == {name: [1.0] for name in REWARDS}


def test_feasible_but_worse_schedule(problem):
    assert problem.serial_makespan > problem.optimum
    got = scores(problem, [problem.serial])
    assert got["format"] == got["feasibility"] == got["operations"] == [1.0]
    assert got["makespan_declared"] == got["valid"] == [1.0]
    assert got["makespan_quality"] == [pytest.approx(problem.optimum / problem.serial_makespan)]
    assert 0 < got["makespan_quality"][0] < 1


def test_better_than_the_reference_is_rewarded_above_one_but_capped(problem):
    got = makespan_quality_reward([problem.prompt] * 2, [problem.optimal] * 2, reference_makespan=[40, 10_000])
    assert got == [pytest.approx(40 / problem.optimum), MAX_QUALITY]


def test_missing_reference_falls_back_to_the_lower_bound(problem):
    bound = problem.instance.lower_bound()
    got = makespan_quality_reward(
        [problem.prompt] * 4, [problem.serial] * 4, reference_makespan=[None, float("nan"), 0, -3]
    )
    assert got == [pytest.approx(bound / problem.serial_makespan)] * 4
    assert makespan_quality_reward([problem.prompt], [problem.serial]) == got[:1]  # no column at all


def test_infeasible_schedule(problem):
    # J1's first operation moved onto J0's slot on M0 ... and J2 declared at the wrong end: several violations.
    first_j0_m0 = next(part for part in problem.optimal.split(", ") if part.startswith("J0-M0"))
    start = int(first_j0_m0.split(": ")[1].split("+")[0])
    overlapping = problem.optimal.replace(
        next(part for part in problem.optimal.split(", ") if part.startswith("J1-M0")),
        f"J1-M0: {start}+9 -> {start + 9}",
    )
    got = scores(problem, [overlapping])
    assert got["format"] == [1.0]
    assert got["feasibility"] == got["makespan_quality"] == got["valid"] == [0.0]
    assert 0.0 < got["operations"][0] < got["checks"][0] < 1.0


def test_checks_credit_an_operation_with_one_wrong_number(problem):
    # The serial schedule's first operation J0-M2: 0+7 -> 7 written as 0+6 -> 6: only its duration is wrong.
    first = problem.serial.split("\n")[1].split(", ")[0]
    assert first == "J0-M2: 0+7 -> 7"
    wrong_duration = problem.serial.replace(first, "J0-M2: 0+6 -> 6", 1)
    num_ops = problem.instance.num_operations
    got = scores(problem, [wrong_duration])
    assert got["feasibility"] == [0.0]
    assert got["operations"] == [pytest.approx((num_ops - 1) / num_ops)]
    assert got["checks"] == [pytest.approx((num_ops - 1 / 5) / num_ops)]


def test_wrong_declared_makespan_is_feasible_but_not_valid(problem):
    wrong = problem.optimal.rsplit(":", 1)[0] + f": {problem.optimum + 1}"
    got = scores(problem, [wrong])
    assert got["feasibility"] == got["operations"] == got["makespan_quality"] == [1.0]
    assert got["makespan_declared"] == got["valid"] == [0.0]
    undeclared = problem.optimal.split("\nMaximum")[0]
    assert makespan_declared_reward([problem.prompt], [undeclared]) == [0.0]
    assert feasibility_reward([problem.prompt], [undeclared]) == [1.0]


@pytest.mark.parametrize("garbage", ["", "I cannot solve this.", "Solution:\nnone", "J0-M9 ???", "\x00\uffff" * 50])
def test_garbage_scores_zero_everywhere(problem, garbage):
    assert scores(problem, [garbage]) == {name: [0.0] for name in REWARDS}


def test_truncated_completions(problem):
    text = problem.optimal
    cut_mid_operation = text[: text.index(" -> ", 30) + 3]
    cut_after_operations = text.split("\nMaximum")[0].rsplit(", ", 2)[0]  # two operations and the makespan lost
    got = scores(problem, [cut_mid_operation, cut_after_operations])
    assert got["format"] == [0.0, 1.0]  # the codec cannot read a half-written operation
    assert got["feasibility"] == got["makespan_quality"] == got["valid"] == got["makespan_declared"] == [0.0, 0.0]
    assert got["operations"][0] == got["checks"][0] == 0.0
    num_ops = problem.instance.num_operations
    assert got["operations"][1] == got["checks"][1] == pytest.approx((num_ops - 2) / num_ops)  # missing: all fail


def test_chat_messages_prompts_and_completions(problem):
    completion = [{"role": "assistant", "content": problem.optimal}]
    block_completion = [{"role": "assistant", "content": [{"type": "text", "text": problem.serial}]}]
    got = scores(problem, [completion, block_completion], prompt=problem.chat_prompt)
    assert got["feasibility"] == [1.0, 1.0]
    assert got["makespan_quality"] == [1.0, pytest.approx(problem.optimum / problem.serial_makespan)]
    assert completion_text(completion) == problem.optimal
    assert prompt_problem_text(problem.chat_prompt).endswith(INPUT)


@pytest.mark.parametrize("odd", [None, 42, 3.5, {"content": 1}, [], [{"role": "user"}], [["nested"]], b"bytes"])
def test_non_text_completions_score_zero(problem, odd):
    assert scores(problem, [odd]) == {name: [0.0] for name in REWARDS}


def test_a_prompt_without_an_instance_is_a_clear_error(problem):
    with pytest.raises(ValueError, match="holds no JSSP instance"):
        feasibility_reward(["Write a poem."], [problem.optimal])
    with pytest.raises(ValueError, match="user turn"):
        feasibility_reward([[{"role": "system", "content": "x"}]], [problem.optimal])


def test_each_completion_is_verified_once_across_rewards(problem):
    VERIFIER.clear()
    before = VERIFIER.num_verified
    completions = [problem.optimal, problem.serial, "garbage", problem.optimal]
    for reward in REWARDS.values():
        reward(prompts=[problem.prompt] * 4, completions=completions, reference_makespan=[problem.optimum] * 4)
    assert VERIFIER.num_verified - before == 3  # three distinct texts, every reward of REWARDS


def test_rollout_metrics_are_logged_once_per_batch_with_trainer_kwargs(problem):
    VERIFIER.clear()
    metrics, extra = [], {}
    completions = [problem.optimal, problem.serial, "garbage", [{"role": "assistant", "content": "nope"}]]
    kwargs = {
        "prompts": [problem.prompt] * 4,
        "completions": completions,
        "completion_ids": [[1, 2, 3]] * 4,
        "reference_makespan": [problem.optimum] * 4,
        "num_jobs": [3] * 4,
        "trainer_state": SimpleNamespace(global_step=7),
        "log_metric": lambda name, value: metrics.append((name, value)),
        "log_extra": lambda column, values: extra.setdefault(column, []).extend(values),
    }
    for reward in REWARDS.values():
        assert len(reward(**kwargs)) == 4
    logged = dict(metrics)
    assert len(metrics) == len(logged) == 5  # once, although every reward ran
    assert logged["rollout/feasible_rate"] == 0.5
    assert logged["rollout/parse_rate"] == 0.5
    assert logged["rollout/valid_rate"] == 0.5
    assert logged["rollout/optimal_rate"] == 0.25
    gap_serial = (problem.serial_makespan - problem.optimum) / problem.optimum
    assert logged["rollout/mean_gap"] == pytest.approx(gap_serial / 2)
    assert extra["feasible"] == [True, True, False, False]
    assert extra["makespan"] == [problem.optimum, problem.serial_makespan, None, None]
    assert extra["gap"] == [0.0, pytest.approx(gap_serial), None, None]
    # The next step's batch (same texts) is logged again; no feasible rollout means no gap is logged.
    metrics.clear()
    kwargs.update(trainer_state=SimpleNamespace(global_step=8), completions=["x"] * 4)
    feasibility_reward(**kwargs)
    assert dict(metrics) == {
        "rollout/parse_rate": 0.0,
        "rollout/feasible_rate": 0.0,
        "rollout/valid_rate": 0.0,
        "rollout/optimal_rate": 0.0,
    }


def test_registry_lookup():
    assert get_reward_funcs(["feasibility", "format"]) == [feasibility_reward, format_reward]
    assert set(REWARDS) == set(REWARD_RANGES)
    assert {"format", "feasibility", "makespan_quality", "makespan_declared"} <= set(REWARDS)
    assert REWARDS["operations"] is operations_reward and REWARDS["valid"] is valid_reward
    assert REWARDS["checks"] is checks_reward
    with pytest.raises(ValueError, match="unknown reward function.*'accuracy'"):
        get_reward_funcs(["feasibility", "accuracy"])
    with pytest.raises(ValueError, match="at least one"):
        get_reward_funcs([])


def test_rewards_import_no_torch():
    code = "import sys, jssp_sft.rewards; sys.exit('torch' in sys.modules or 'transformers' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# ----------------------------------------------------------------------------------------------- fuzzing


def _mutations(text: str):
    """Strategies that damage a correct answer: cut it, replace a span, or insert characters."""
    position = st.integers(0, len(text))
    alphabet = st.sampled_from(list("0123456789JM:+->, \n.") + ["Makespan: ", "Solution:", "-1", "99999999999"])
    noise = st.lists(alphabet, max_size=8).map("".join)
    return st.one_of(
        position.map(lambda i: text[:i]),
        st.tuples(position, position, noise).map(lambda t: text[: min(t[:2])] + t[2] + text[max(t[:2]) :]),
    )


def _check_ranges(problem, completions, reference):
    got = scores(problem, completions, reference=reference)
    for name, values in got.items():
        low, high = REWARD_RANGES[name]
        assert len(values) == len(completions)
        for value in values:
            assert isinstance(value, float) and not math.isnan(value) and low <= value <= high, (name, value)
    # Consistency between rewards: feasible implies parsed, full `operations`/`checks` shares, a positive quality;
    # `checks` grades what `operations` counts all or nothing.
    for i in range(len(completions)):
        assert got["checks"][i] >= got["operations"][i]
        if got["feasibility"][i] == 1.0:
            assert got["format"][i] == got["operations"][i] == got["checks"][i] == 1.0
            assert got["makespan_quality"][i] > 0
        else:
            assert got["makespan_quality"][i] == got["valid"][i] == 0.0
            assert got["operations"][i] < 1.0 and got["checks"][i] < 1.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_damaged_answers_stay_in_range(problem, data):
    base = data.draw(st.sampled_from([problem.optimal, problem.serial]))
    completions = data.draw(st.lists(_mutations(base), min_size=1, max_size=4))
    reference = data.draw(st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-5, 500)))
    _check_ranges(problem, completions, reference)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    completions=st.lists(
        st.one_of(
            st.text(max_size=200),
            st.none(),
            st.integers(),
            st.lists(st.dictionaries(st.sampled_from(["role", "content"]), st.one_of(st.text(), st.integers()))),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_fuzz_arbitrary_completions_never_raise(problem, completions):
    _check_ranges(problem, completions, problem.optimum)
