"""The Starjob codec: canonical formatting, every parsing variant of the spec, clear errors, linear time."""

import random
import time

import pytest
from conftest import EXAMPLE_INPUT, EXAMPLE_MATRIX, EXAMPLE_OUTPUT
from hypothesis import given, settings
from hypothesis import strategies as st
from jssp_testing import random_feasible_schedule, random_instance

from jssp_sft import (
    Instance,
    Schedule,
    format_instance,
    format_instruction,
    format_matrix,
    format_solution,
    parse_instance,
    parse_instruction,
    parse_matrix,
    parse_solution,
    to_record,
)
from jssp_sft.data.templates import ALPACA_PROMPT, PromptFormat


EXAMPLE_INSTRUCTION = (
    "Optimize schedule for 2 Jobs (denoted as J) across 3 Machines (denoted as M) to minimize makespan. The makespan "
    "is the completion time of the last operation in the schedule. Each M can process only one J at a time, and once "
    "started, J cannot be interrupted."
)


def test_spec_example_round_trips_byte_exact(example_instance):
    assert example_instance.jobs == (((2, 7), (0, 12), (1, 5)), ((0, 9), (2, 4), (1, 11)))
    assert example_instance.num_machines == 3
    assert format_instance(example_instance) == EXAMPLE_INPUT
    schedule = parse_solution(EXAMPLE_OUTPUT)
    assert schedule.declared_makespan == 29 and schedule.makespan == 29
    assert format_solution(schedule) == EXAMPLE_OUTPUT
    assert format_matrix(example_instance, schedule) == EXAMPLE_MATRIX
    assert format_instruction(2, 3) == EXAMPLE_INSTRUCTION
    assert parse_instruction(EXAMPLE_INSTRUCTION) == (2, 3)


def test_op_index_is_position_among_the_jobs_entries_in_start_order():
    schedule = parse_solution(EXAMPLE_OUTPUT)
    assert [(op.job, op.op_index, op.machine) for op in schedule.operations] == [
        (0, 0, 2),
        (1, 0, 0),
        (1, 1, 2),
        (0, 1, 0),
        (1, 2, 1),
        (0, 2, 1),
    ]


def test_format_solution_can_drop_the_makespan_line():
    text = format_solution(parse_solution(EXAMPLE_OUTPUT), include_makespan=False)
    assert text == EXAMPLE_OUTPUT.rsplit("\n", 1)[0]
    assert parse_solution(text).declared_makespan is None


def test_record_has_the_six_fields_in_canonical_text(example_instance):
    record = to_record(example_instance, parse_solution(EXAMPLE_OUTPUT))
    assert record == {
        "num_jobs": 2,
        "num_machines": 3,
        "instruction": EXAMPLE_INSTRUCTION,
        "input": EXAMPLE_INPUT,
        "output": EXAMPLE_OUTPUT,
        "matrix": EXAMPLE_MATRIX,
    }


def test_matrix_round_trip(example_instance):
    parsed = parse_matrix(EXAMPLE_MATRIX)
    assert parsed.instance == example_instance
    assert parsed.makespan == 29
    assert parsed.machine_orders == (((1, 0), (0, 1)), ((1, 2), (0, 2)), ((0, 0), (1, 1)))


@pytest.mark.parametrize(
    "variant",
    [
        EXAMPLE_OUTPUT.replace(", ", ","),  # Hub mirror: no space after commas
        EXAMPLE_OUTPUT.replace(", ", "\n"),  # one operation per line
        EXAMPLE_OUTPUT.replace(", ", ",\n"),
        EXAMPLE_OUTPUT.rsplit("\n", 1)[0],  # makespan line missing
        EXAMPLE_OUTPUT.replace("Maximum end completion time or Makespan", "Makespan"),
        EXAMPLE_OUTPUT.replace("Makespan: 29", "Makespan: 29.0"),
        EXAMPLE_OUTPUT.replace("\n", "\r\n"),
        "  \n" + EXAMPLE_OUTPUT + "  \n\n",
        "Sure! Here is an optimal schedule.\n\n" + EXAMPLE_OUTPUT,
        EXAMPLE_OUTPUT + "\nThis schedule is optimal because machine M0 is busy all the time.",
        EXAMPLE_OUTPUT + "<|im_end|>",
        EXAMPLE_OUTPUT.replace("Solution:\n", ""),  # no header at all
        EXAMPLE_OUTPUT.replace("Solution:\n", "solution: "),
        EXAMPLE_OUTPUT.replace(" -> ", "->").replace("+", " + "),  # spacing inside operations
    ],
)
def test_every_solution_variant_parses_to_the_same_schedule(variant):
    expected = parse_solution(EXAMPLE_OUTPUT)
    parsed = parse_solution(variant)
    assert parsed.operations == expected.operations
    assert parsed.declared_makespan in (29, None)
    if "Makespan" in variant:
        assert parsed.declared_makespan == 29 and isinstance(parsed.declared_makespan, int)


def test_float_makespan_that_is_not_integral_is_kept():
    assert parse_solution(EXAMPLE_OUTPUT.replace("Makespan: 29", "Makespan: 29.5")).declared_makespan == 29.5


def test_instance_parses_from_a_whole_prompt(example_instance):
    record = {"instruction": EXAMPLE_INSTRUCTION, "input": EXAMPLE_INPUT, "output": EXAMPLE_OUTPUT}
    alpaca = ALPACA_PROMPT.format(instruction=EXAMPLE_INSTRUCTION, input=EXAMPLE_INPUT) + EXAMPLE_OUTPUT
    prompt = PromptFormat("prompt_completion").prompt_text(record)
    rendered_chat = "<|im_start|>user\n" + prompt + "<|im_end|>\n<|im_start|>assistant\n"
    for text in (alpaca, prompt, rendered_chat, EXAMPLE_INPUT.replace("\n", "\r\n"), "  " + EXAMPLE_INPUT):
        assert parse_instance(text) == example_instance


def test_instance_machine_count_comes_from_the_instruction_when_jobs_skip_machines():
    text = format_instruction(2, 5) + "\n\nJ0:\nM0:3 M1:4 \nJ1:\nM1:2 \n"
    instance = parse_instance(text)
    assert instance.num_machines == 5 and instance.jobs == (((0, 3), (1, 4)), ((1, 2),))
    assert parse_instance("J0:\nM0:3 M1:4 \nJ1:\nM1:2 \n").num_machines == 2
    assert parse_instance("J0:\nM0:3 \n", num_machines=4).num_machines == 4


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no instance found"),
        ("What is the capital of France?", "no instance found"),
        ("J0:\nM0:3 M1:\n", "line 2"),
        ("J0:\nM0:3 M1:4 \nJ2:\nM1:2 \n", "line 3, job 1: expected 'J1:', got 'J2:'"),
        ("intro\nJ0:\nM0:x \n", "line 3"),
        (format_instruction(3, 2) + "\nJ0:\nM0:3 \nJ1:\nM1:2 \n", "says 3 jobs"),
        (format_instruction(2, 2) + "\nJ0:\nM0:3 \nJ1:\nM5:2 \n", "machine 5"),
        ("J0:\nM0:" + "9" * 40 + " \n", "line 2"),
    ],
)
def test_bad_instances_raise_an_error_naming_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        parse_instance(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty output"),
        ("   \n ", "empty output"),
        ("I am sorry, I cannot solve this.", "no operations found"),
        ("Solution:\nJ0-M2: 0+7 -> 7, J1-M0: 0+9 -> ", "line 2, column 18: malformed or truncated"),
        ("Solution:\nJ0-M2: 0+7 -> 7, J1-M0: 0+", "truncated"),
        ("Solution:\nJ0-M2: 0+7 -> 7, ", "expected an operation after ','"),
        ("Solution:\nJ0-M2: 0+7 -> 7,\nMakespan: 7", "expected an operation after ','"),
        ("Solution:\nJ0-M2: 0+7 -> " + "7" * 30, "malformed or truncated"),
        ("Solution:\nthe answer is 42", "line 2, column 1: expected an operation"),
        ("Solution:\n日本語のテキスト 🚀", "expected an operation"),
        ("J0:\nM2:7 M0:12 M1:5 \n", "line 1, column 1: malformed or truncated operation 'J0:'"),  # a problem
    ],
)
def test_bad_solutions_raise_an_error_naming_the_spot(text, message):
    with pytest.raises(ValueError, match=message):
        parse_solution(text)


@pytest.mark.parametrize(
    "garbage",
    [
        "J" * 200_000,
        "J0-M1: 1+" * 40_000,
        "J0-M1: 1+1 -> 2," * 20_000 + "x",
        " " * 200_000 + "J",
        "Solution:" + "\n" * 200_000,
        "J 0 - M 1 : " * 30_000,
    ],
)
def test_parsing_pathological_text_is_fast(garbage):
    for parse in (parse_solution, parse_instance):
        start = time.process_time()  # CPU time: waiting for a busy core does not count
        try:
            parse(garbage)
        except ValueError:
            pass
        assert time.process_time() - start < 2.0


def test_parsing_time_grows_linearly():
    def elapsed(n):
        text = "Solution:\n" + ", ".join(f"J{i % 50}-M{i % 20}: {i}+{i} -> {2 * i}" for i in range(n)) + ", J1-M"
        start = time.process_time()  # CPU time: wall time on a loaded machine counts the waits for a core
        with pytest.raises(ValueError):
            parse_solution(text)
        return time.process_time() - start

    elapsed(1000)
    assert elapsed(40_000) < 40 * max(elapsed(4_000), 1e-3)


def test_instance_validates_its_fields():
    with pytest.raises(ValueError, match="machine 3"):
        Instance((((3, 5),),), 3)
    with pytest.raises(ValueError, match="no operations"):
        Instance(((),), 1)
    with pytest.raises(ValueError, match="negative duration"):
        Instance((((0, -1),),), 1)


def test_instance_tables_pad_ragged_jobs():
    instance = Instance((((0, 3), (1, 4)), ((1, 2),)), 2)
    assert instance.machine_table.tolist() == [[0, 1], [1, -1]]
    assert instance.duration_table.tolist() == [[3, 4], [2, -1]]
    assert instance.size == "2x2" and instance.num_operations == 3
    assert instance.lower_bound() == 7


# ----------------------------------------------------------------------------------------------- property-based


@st.composite
def instances(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    return random_instance(random.Random(seed), max_jobs=8, max_machines=8, ragged=draw(st.booleans()))


@given(instances())
@settings(max_examples=150, deadline=None)
def test_instance_round_trip(instance):
    text = format_instance(instance)
    assert format_instance(parse_instance(text, num_machines=instance.num_machines)) == text
    assert parse_instance(text, num_machines=instance.num_machines) == instance
    full = format_instruction(instance.num_jobs, instance.num_machines) + "\n\n" + text
    assert parse_instance(full) == instance


@given(instances(), st.integers(0, 2**32 - 1), st.integers(0, 30), st.booleans())
@settings(max_examples=150, deadline=None)
def test_solution_round_trip(instance, seed, slack, with_makespan):
    schedule = random_feasible_schedule(instance, random.Random(seed), slack=slack)
    if with_makespan:
        schedule = schedule.with_declared_makespan()
    text = format_solution(schedule, include_makespan=with_makespan)
    parsed = parse_solution(text)
    assert parsed == schedule
    assert format_solution(parsed, include_makespan=with_makespan) == text
    if max(len(job) for job in instance.jobs) <= instance.num_machines:
        record = parse_matrix(format_matrix(instance, schedule))
        assert record.instance == instance
        assert record.machine_orders == tuple(map(tuple, schedule.machine_orders(instance.num_machines)))


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_parsers_raise_only_value_errors_on_arbitrary_text(text):
    for parse in (parse_solution, parse_instance):
        try:
            parse(text)
        except ValueError:
            pass


def test_schedule_keeps_operations_sorted_by_start():
    schedule = Schedule(((0, 1, 0, 5, 2, 7), (1, 0, 1, 0, 3, 3)))
    assert [op.start for op in schedule.operations] == [0, 5]
    assert schedule.makespan == 7


def test_record_makespan_prefers_the_solver_fields(example_instance):
    from jssp_sft.core.codec import record_makespan

    record = to_record(example_instance, parse_solution(EXAMPLE_OUTPUT))
    assert record_makespan(record) == 29  # from the matrix
    assert record_makespan({**record, "makespan": 31}) == 31
    assert record_makespan({"output": record["output"]}) == 29
    assert record_makespan({"output": "garbage", "matrix": "bad"}) is None


def test_matrix_orders_name_operations_of_the_instance():
    with pytest.raises(ValueError, match="matrix line 5: operation id 9 names no operation"):
        parse_matrix(EXAMPLE_MATRIX.replace("\n3 1\n", "\n3 9\n"))
    with pytest.raises(ValueError, match="matrix line 8: unexpected text after the 3 machine order lines"):
        parse_matrix(EXAMPLE_MATRIX + "\n1 2")
    assert parse_matrix(EXAMPLE_MATRIX + "\n\n").machine_orders == parse_matrix(EXAMPLE_MATRIX).machine_orders
