"""Issue 20's reproducers, with their exact inputs, and the one text rule of docs/verification.md: the readers never
drop a job or an operation, never cut a number, and read what ``solve`` reads and writes; a bad value is an error
naming the file, line and field, never a wrong verdict.

The service's cases (non-finite, out-of-range and huge numbers answered 422 on a live keep-alive connection) are in
tests/test_serve.py; the published rows' sources in tests/test_published.py.
"""

import json

import evaluate
import pytest
from conftest import EXAMPLE_OUTPUT

import jssp_sft.metrics
from jssp_sft import parse_instance, parse_solution, verify
from jssp_sft.cli.main import EXIT_NEGATIVE, EXIT_OK, EXIT_USAGE, main
from jssp_sft.core.codec import MAX_DIGITS, MAX_VALUE, scan_solution
from jssp_sft.core.formats import InstanceFormatError, read_instance, read_solution, write_schedule
from jssp_sft.core.scoring import score_predictions
from jssp_sft.solvers.repair import job_choices


TRUNC = "J0:\nM0:5 M1:3\n# job 1 follows\nJ1:\nM1:4 M0:2\n"
SOL0 = "Solution:\nJ0-M0: 0+5 -> 5, J0-M1: 5+3 -> 8\nMaximum end completion time or Makespan: 8\n"
I = "J0:\nM0:3 M1:2 \nJ1:\nM1:4 M0:1 \n"
OPS = "J0-M0: 0+3 -> 3, J1-M1: 0+4 -> 4, J1-M0: 4+1 -> 5, J0-M1: 4+2 -> 6"
GOOD = f"Solution:\n{OPS}\nMakespan: 6"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """``jssp-sft ARGV`` in this process as the console script runs it: ``(status, stdout, stderr)``."""
    status = main(argv, exit_on_error=True)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ------------------------------------------------------------------------- 1. a junk line never ends an instance


@pytest.mark.parametrize(
    "junk",
    ["# job 1 follows", "some prose", "Job 1:", "**J1:**", "\u00a0J1:", "\u200bJ1:", "J\u0661:", "J 1 :", "M0:4 M1:2"],
)
def test_a_line_between_jobs_that_is_neither_is_an_error_naming_it(junk):
    text = TRUNC.replace("# job 1 follows", junk)
    with pytest.raises(InstanceFormatError, match="line 3") as caught:
        parse_instance(text)
    assert caught.value.line == 3


def test_reproducer_1_verify_and_solve_refuse_the_truncated_instance(tmp_path, capsys):
    (tmp_path / "trunc.txt").write_text(TRUNC)
    (tmp_path / "sol0.txt").write_text(SOL0)
    status, out, err = run(
        ["verify", "--instance", str(tmp_path / "trunc.txt"), "--solution", str(tmp_path / "sol0.txt")], capsys
    )
    assert status == EXIT_USAGE and out == "" and f"{tmp_path / 'trunc.txt'}, line 3: '# job 1 follows'" in err
    assert "the instance goes on at line 4" in err
    solve = [
        "solve",
        "--instance",
        str(tmp_path / "trunc.txt"),
        "--method",
        "MOPNR",
        "--output",
        str(tmp_path / "o.json"),
    ]
    status, _, err = run(solve, capsys)
    assert status == EXIT_USAGE and "line 3" in err
    with pytest.raises(ValueError, match=r"references\[0\] is not a JSSP problem: line 3"):  # the metric too
        score_predictions([SOL0], [TRUNC])


def test_one_text_holds_one_instance():
    with pytest.raises(InstanceFormatError, match="line 6: 'Example:' .* goes on at line 7 \\('J0:'\\)"):
        parse_instance(I + "\nExample:\nJ0:\nM0:1\n")
    with pytest.raises(InstanceFormatError, match="line 1: a job header before 'J0:'"):
        parse_instance("J1:\nM0:1\n" + I)
    with pytest.raises(InstanceFormatError, match="line 2: a line like a job header or operations before 'J0:'"):
        parse_instance("An example:\n**Job 0:** M0:1\n" + I)
    with pytest.raises(InstanceFormatError, match="line 3, job 1: expected 'J1:', got 'M1:4 M0:2'"):
        parse_instance("J0:\nM0:5 M1:3\nM1:4 M0:2\n")  # a job's operations are one line
    prompt = "### Instruction:\nSchedule this.\n\n### Input:\n" + I + "\n### Response:\n" + GOOD  # around it: fine
    assert parse_instance(prompt) == parse_instance(I)


# ---------------------------------------------------------------- 2. nothing after the operations but the makespan


@pytest.mark.parametrize(
    "tail", [" J0-M0: 0+99 -> 5 J5-M9: 1+1 -> 2", "; J0-M0: 0+99 -> 5 J5-M9: 1+1 -> 2", ".0, J5-M9: 1+1 -> 2", " x"]
)
def test_reproducer_2_text_after_the_last_operation_is_unreadable(tmp_path, capsys, tail):
    text = GOOD.replace("4+2 -> 6", "4+2 -> 6" + tail)
    report = verify(I, text)
    assert not report.parsed and not report.feasible
    message = report.violations[0].message
    assert message.startswith("line 2, column 6") and "expected an operation, the makespan line or the end" in message
    (tmp_path / "i.txt").write_text(I)
    (tmp_path / "s.txt").write_text(text)
    status, out, _ = run(
        ["verify", "--instance", str(tmp_path / "i.txt"), "--solution", str(tmp_path / "s.txt")], capsys
    )
    assert status == EXIT_NEGATIVE and out.startswith("INFEASIBLE") and "unparseable" in out
    assert score_predictions([text], [I])["valid_rate"] == 0.0


def test_after_the_makespan_line_nothing_starts_like_an_operation():
    assert verify(I, GOOD + "\nThis schedule is optimal.<|im_end|>").valid
    report = verify(I, GOOD + "\nJ0-M0: 0+3 -> 3")
    assert not report.parsed and "after the makespan line" in report.violations[0].message
    assert not verify(I, GOOD.replace(", J1-M0", "\nMakespan: 6\nJ1-M0")).parsed  # a makespan line cannot cut a list


def test_operations_start_at_the_first_one_and_the_preamble_holds_none():
    assert verify(I, "Here is my solution:\n" + GOOD).valid
    report = verify(I, "I will schedule J0 first.\n" + GOOD)
    assert not report.parsed and "line 1, column 17: malformed or truncated operation 'J0 first.'" in str(report)


# ---------------------------------------------------------------------------------- 3. a number is never cut


@pytest.mark.parametrize(
    "text, why",
    [
        (GOOD.replace("4+2 -> 6", "4+2 -> 6\u0660"), "a non-ASCII digit '\u0660'"),
        (GOOD.replace("Makespan: 6", "Makespan: 6\uff10"), "a non-ASCII digit '\uff10'"),
        (GOOD.replace("J1-M1", "J\u0661-M1"), "a non-ASCII digit"),
        (GOOD.replace("0+4", "0+\u00a04"), "a non-ASCII space or invisible character '\\xa0'"),
        (GOOD.replace("Makespan: 6", "Makespan: 6" + "0" * MAX_DIGITS), "longer than 15 digits"),
    ],
)
def test_reproducer_3_digits_of_other_scripts_and_long_numbers_are_unreadable(text, why):
    report = verify(I, text)
    assert not report.parsed and why in report.violations[0].message


def test_the_file_readers_take_ascii_digits_only_naming_line_and_field():
    for text, message in [
        (
            "2 3\n2 7 0 12 1 5\n0 9 2 \u0664 1 11\n",
            "f, line 3, job 1 operation 1 duration: expected a whole number in ASCII digits",
        ),
        ("2 \u00b2\n2 7 0 12\n", "f, line 1, size (machines): expected a whole number in ASCII digits, got '\u00b2'"),
        ("job,operation,machine,duration\n0,0,1,\uff15\n", "f, line 2, job 0 operation 0 duration: expected a whole"),
        ("J0:\nM0:3 M1:\u0662\n", "f, line 2, job 0 operation 1 duration: expected a whole number in ASCII digits"),
    ]:
        with pytest.raises(InstanceFormatError) as caught:
            read_instance(text, source="f")
        assert str(caught.value).startswith(message), str(caught.value)


# ------------------------------------------------------------ 5. one integer limit for every reader, never exit 3


@pytest.mark.parametrize(
    "jobs, message",
    [
        ("[[[0, 1000000000000000]]]", "job 0 operation 0 duration: a number longer than 15 digits"),
        (f"[[[0, {3 * 2**62}]]]", "job 0 operation 0 duration: a number longer than 15 digits"),
        ("[[[0, 1e400]]]", "job 0 operation 0 duration: expected a whole number >= 0, got 1e400"),
        ("[[[0, NaN]]]", "job 0 operation 0 duration: expected a whole number >= 0, got NaN"),
        ("[[[0, Infinity]]]", "job 0 operation 0 duration: expected a whole number >= 0, got Infinity"),
        (f"[[[0, {MAX_VALUE}]], [[0, 1]]]", f"the durations add up to {MAX_VALUE + 1}, more than {MAX_VALUE}"),
    ],
)
def test_reproducer_5_huge_numbers_in_json_are_bad_input(tmp_path, capsys, jobs, message):
    path = tmp_path / "shop.json"
    path.write_text(jobs)
    status, _, err = run(
        ["solve", "--instance", str(path), "--method", "MOPNR", "--output", str(tmp_path / "o.json")], capsys
    )
    assert status == EXIT_USAGE and message in err, err


def test_solve_writes_only_times_its_verifier_reads(tmp_path, capsys):
    half = MAX_VALUE // 2
    (tmp_path / "big.json").write_text(json.dumps([[[0, half]], [[0, MAX_VALUE - half]]]))
    for suffix in ("json", "csv", "txt"):
        out = tmp_path / f"o.{suffix}"
        status, _, _ = run(
            ["solve", "--instance", str(tmp_path / "big.json"), "--method", "SPT", "--output", str(out)], capsys
        )
        assert status == EXIT_OK
        status, printed, _ = run(["verify", "--instance", str(tmp_path / "big.json"), "--solution", str(out)], capsys)
        assert status == EXIT_OK and printed.startswith(f"feasible: makespan {MAX_VALUE}"), printed


# ------------------------------------------------------------------------ 6. BOM, surrogates, messages naming the line


def test_reproducer_6_a_starjob_file_with_a_bom_is_read(tmp_path, capsys):
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + I.encode())
    (tmp_path / "good.txt").write_text(GOOD)
    status, out, _ = run(
        ["verify", "--instance", str(tmp_path / "bom.txt"), "--solution", str(tmp_path / "good.txt")], capsys
    )
    assert status == EXIT_OK and out.startswith("feasible: makespan 6")
    assert parse_instance("\ufeff" + I) == parse_instance(I)


def test_reproducer_6_a_lone_surrogate_never_makes_the_metric_raise():
    metric = evaluate.load(jssp_sft.metrics.path("jssp_makespan"))
    predictions = ["\ud800Solution:", "\ud800" + GOOD, GOOD.replace(", J1-M0", ",\udfffJ1-M0")]
    result = metric.compute(predictions=predictions, references=[I] * 3, return_details=True)
    assert [d["parsed"] for d in result["details"]] == [True, True, False]  # as verify reads the texts themselves
    assert [verify(I, p).parsed for p in predictions] == [True, True, False]
    assert result["details"][1]["feasible"] and not result["details"][0]["feasible"]


@pytest.mark.parametrize(
    "text, fmt, message",
    [
        ("15 15\n" + "1 " * 16 + "\n", None, "f, line 2, job 0 times: expected 15 numbers, found 16"),  # Taillard's
        ("2 3\n7 12 5 9\n9 4 11\n3 1 2\n1 3 2\n", None, "f, line 2, job 0 times: expected 3 numbers, found 4"),
        ('{"jobs": [[[0, 1]], [[1, NaN]]]}', "json", "f, line 1, job 1 operation 0 duration: expected a whole number"),
        ("[" * 5000 + "]" * 5000, "json", "f: not an instance: arrays or objects nested too deeply"),
    ],
)
def test_reproducer_6_messages_name_the_file_line_and_field(text, fmt, message):
    with pytest.raises(InstanceFormatError) as caught:
        read_instance(text, fmt, source="f")
    assert str(caught.value) == message or str(caught.value).startswith(message), str(caught.value)


# ------------------------------------------------------------------------------------------------ candidate lines


def test_candidate_lines_are_a_line_kind_and_malformed_ones_are_junk():
    with_lines = (
        "Solution:\nNext: s0 d3 w5 n2 J0 | s0 d4 w5 n2 J1\nJ0-M0: 0+3 -> 3\nNext: s0 d4 J1\nJ1-M1: 0+4 -> 4\n"
        "Next: s3 d2 J0 | s4 d1 J1\nJ1-M0: 4+1 -> 5\nNext: s5 d2 J0\nJ0-M1: 4+2 -> 6\nMakespan: 6"
    )
    plain = "\n".join(line for line in with_lines.split("\n") if not line.startswith("Next:"))
    assert verify(I, with_lines) == verify(I, plain) and verify(I, with_lines).valid
    assert scan_solution(with_lines).entries.tolist() == scan_solution(plain).entries.tolist()
    assert job_choices(with_lines) == [0, 1, 1, 0]
    for bad in ("Next: J1-M0: 4+1 -> 5", "Next:", "Next: s0 J1 J0", "Next: s0 J\u0661", "Next:J1"):
        report = verify(I, with_lines.replace("Next: s5 d2 J0", bad))
        assert (
            not report.parsed and "line 8, column 1: a line that starts with 'Next:'" in report.violations[0].message
        )


# ------------------------------------------------------------------- 7. every format solve reads and writes, read


def test_read_solution_takes_what_solve_writes(example_instance):
    schedule = parse_solution(EXAMPLE_OUTPUT)
    for fmt in ("json", "csv", "starjob"):
        read = read_solution(write_schedule(example_instance, schedule, fmt, method="cpsat"))
        report = verify(example_instance, read)
        assert report.feasible and report.makespan == 29 and report.declared_makespan == (None if fmt == "csv" else 29)
    with pytest.raises(
        InstanceFormatError, match=r"f, line 3, operations\[0\] start: expected a whole number, got NaN"
    ):
        read_solution(
            '{"makespan": 3,\n "operations": [\n {"job": 0, "operation": 0, "machine": 2, "start": NaN, '
            '"end": 7, "duration": 7}]}',
            source="f",
        )
    with pytest.raises(InstanceFormatError, match="f, line 2, row 0 end: expected a whole number in ASCII digits"):
        read_solution("job,operation,machine,start,end,duration\n0,0,2,0,\u0667,7\n", source="f")
