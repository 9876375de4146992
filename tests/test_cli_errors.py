"""Issue 16's cases, with its exact inputs: wrong verdicts of the readers, the metric on odd values, and every
command's answer to bad input (one line on stderr, exit status 0/1/2/3, a traceback only with --debug)."""

import os
import subprocess
import sys
from pathlib import Path

import evaluate
import pytest

import jssp_sft.metrics
from jssp_sft import parse_instance, parse_solution, verify
from jssp_sft.cli.main import EXIT_INTERNAL, EXIT_NEGATIVE, EXIT_OK, EXIT_USAGE, main
from jssp_sft.core.codec import MAX_DIGITS, scan_solution
from jssp_sft.core.scoring import score_predictions


JSSP_SFT = str(Path(sys.executable).parent / "jssp-sft")
I = "J0:\nM0:3 M1:2 \nJ1:\nM1:4 M0:1 \n"
OPS = ["J0-M0: 0+3 -> 3", "J1-M1: 0+4 -> 4", "J1-M0: 4+1 -> 5", "J0-M1: 4+2 -> 6"]
GOOD = "Solution:\n" + ", ".join(OPS) + "\nMakespan: 6"


# ------------------------------------------------------------------------------------------------ readers


def test_an_instance_with_a_blank_line_between_jobs_reads_every_job(tmp_path, capsys):
    text = "J0:\nM0:3 M1:2 \n\nJ1:\nM1:4 M0:1 \n"  # printf 'J0:\nM0:3 M1:2 \n\nJ1:\nM1:4 M0:1 \n' > i.txt
    assert parse_instance(text) == parse_instance(I)
    (tmp_path / "i.txt").write_text(text)
    (tmp_path / "s.txt").write_text("Solution:\nJ0-M0: 0+3 -> 3, J0-M1: 3+2 -> 5\nMakespan: 5")  # job 0 alone
    status = main(["verify", "--instance", str(tmp_path / "i.txt"), "--solution", str(tmp_path / "s.txt")])
    out = capsys.readouterr().out
    assert status == EXIT_NEGATIVE and out.startswith("INFEASIBLE") and "2/4 operations" in out
    assert out.count("missing_operation") == 2


def test_blank_lines_crlf_and_indentation_anywhere_in_an_instance_are_whitespace():
    for text in (
        I.replace("\n", "\r\n"),
        "  J0:\n\n  M0:3   M1:2  \n\n\n  J1:\r\n\tM1:4 M0:1\n",
        "J0: M0:3 M1:2\nJ1: M1:4 M0:1",
        "Some prompt.\n\nJ0:\nM0:3 M1:2 \n   \nJ1:\nM1:4 M0:1 \n\n### Response:\n",
    ):
        assert parse_instance(text) == parse_instance(I), text


def test_a_job_header_before_j0_is_an_error_not_a_smaller_instance():
    with pytest.raises(ValueError, match="line 1: a job header before 'J0:'"):
        parse_instance("J1:\nM0:3 M1:2 \nJ0:\nM1:4 M0:1 \n")
    assert parse_instance("Jobs are written J<k>:\n" + I) == parse_instance(I)  # prose is not a header


@pytest.mark.parametrize("non_ascii", ["", "é", "🚀"])
def test_operations_separated_by_crlf_blank_or_indented_lines_are_all_read(non_ascii):
    # [verify(i, 'Solution:\n' + sep.join(ops) + '\nMakespan: 6').num_operations for sep in [...]] gave [4, 1, 1, 1]
    counts, verdicts = [], []
    for sep in ["\n", "\r\n", "\n\n", "\n  "]:
        report = verify(I, non_ascii + "Solution:\n" + sep.join(OPS) + "\nMakespan: 6" + non_ascii)
        counts.append(report.num_operations)
        verdicts.append(report.valid)
    assert counts == [4, 4, 4, 4] and verdicts == [True] * 4


def test_a_preamble_that_says_solution_is_skipped_but_nothing_else_is():
    report = verify(
        I, "Here is my solution:\nSolution:\n" + ", ".join(OPS) + "\nMakespan: 6\nIs this solution: right?"
    )
    assert report.parsed and report.valid and report.num_operations == 4
    # operations start at the first one: a second attempt after prose is not read past the first (issue 20)
    report = verify(I, "Solution:\nJ0-M0: 0+3 -> 3\n\nLet me redo it. " + GOOD)
    assert (
        not report.parsed
        and "line 4, column 1: expected an operation, the makespan line" in report.violations[0].message
    )


@pytest.mark.parametrize("digits", [MAX_DIGITS + 1, 16, 20, 40])
def test_a_declared_makespan_beyond_the_digit_limit_is_unparseable_not_cut(digits):
    declared = "6" + "0" * (digits - 1)
    report = verify(I, GOOD.replace("Makespan: 6", f"Makespan: {declared}"))
    assert not report.parsed and report.violations[0].kind == "unparseable"
    assert "longer than 15 digits" in report.violations[0].message
    cut = "1" * 15  # a 15-digit makespan is read whole
    assert scan_solution(f"Solution:\nJ0-M0: 0+3 -> 3\nMakespan: {cut}").declared_makespan == int(cut)


def test_numbers_beyond_the_digit_limit_in_operations_and_instances_are_errors():
    with pytest.raises(ValueError, match="longer than 15 digits"):
        parse_solution("Solution:\nJ0-M0: 0+3 -> 3, J1-M1: 0+4 -> " + "4" * 16)
    with pytest.raises(ValueError, match="longer than 15 digits"):
        parse_solution("J0-M0: 0+3 -> 3" + "3" * 15)  # no header: the operation is not skipped either
    with pytest.raises(ValueError, match="line 2.*longer than 15 digits"):
        parse_instance("J0:\nM0:" + "3" * 16 + " M1:2 \n")


# ------------------------------------------------------------------------------------------------- metric


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(jssp_sft.metrics.path("jssp_makespan"))


def test_metric_never_raises_on_predictions(metric):
    predictions = [None, 17, 3.5, float("nan"), b"Solution:", ["a"], {"a": 1}, "", GOOD]
    result = metric.compute(predictions=predictions, references=[I] * len(predictions), return_details=True)
    assert result["n"] == 9 and result["parse_rate"] == 1 / 9 and result["valid_rate"] == 1 / 9
    assert result["details"][0]["violations"][0]["message"] == "expected the output text, got NoneType"
    metric.add(prediction=None, reference=I)
    assert metric.compute()["parse_rate"] == 0.0


@pytest.mark.parametrize("reference", [float("inf"), float("nan"), "6", 0, -3, True])
def test_metric_rejects_an_invalid_reference_makespan_at_compute_time(metric, reference):
    with pytest.raises(ValueError, match=r"reference_makespans\[1\] must be positive and finite"):
        metric.compute(predictions=[GOOD, GOOD], references=[I, I], reference_makespans=[6, reference])
    assert metric.compute(predictions=[GOOD], references=[I], reference_makespans=[None])["mean_gap"] is None


@pytest.mark.parametrize("reference", [None, 5])
def test_metric_rejects_a_reference_that_is_not_a_problem_text(metric, reference):
    with pytest.raises(ValueError, match=r"references\[0\] must be the problem text"):
        metric.compute(predictions=[GOOD], references=[reference])
    with pytest.raises(ValueError, match="reference_makespans must be a list"):
        score_predictions([GOOD], [I], 6)


# --------------------------------------------------------------------------------------------------- CLI


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run([JSSP_SFT, *args], cwd=cwd, capture_output=True, text=True, env=environ, timeout=600)


def test_verify_exit_statuses_from_the_console_script(tmp_path):
    (tmp_path / "i.txt").write_text(I)
    (tmp_path / "good.txt").write_text(GOOD)
    (tmp_path / "bad.txt").write_text(GOOD.replace("4+1 -> 5", "2+1 -> 3"))
    (tmp_path / "binary.txt").write_bytes(b"J0:\n\xff\xfe")
    assert run_cli("verify", "--instance", "i.txt", "--solution", "good.txt", cwd=tmp_path).returncode == EXIT_OK
    assert run_cli("verify", "--instance", "i.txt", "--solution", "bad.txt", cwd=tmp_path).returncode == EXIT_NEGATIVE
    for args, message in [
        (("--instance", "missing.txt", "--solution", "good.txt"), "missing.txt: no such file"),
        (("--instance", "good.txt", "--solution", "good.txt"), "good.txt: no instance found"),
        (("--instance", "binary.txt", "--solution", "good.txt"), "binary.txt, line 2: not UTF-8 text"),
        (("--instance", "i.txt", "--solution", str(tmp_path)), "Is a directory"),
        (("--instance", "i.txt", "--json", "maybe"), "argument --json"),
        (("--instance", "i.txt", "--nosuch", "1"), "not used by the HfArgumentParser: ['--nosuch', '1']"),
    ]:
        done = run_cli("verify", *args, cwd=tmp_path)
        assert done.returncode == EXIT_USAGE, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("jssp-sft verify: error: ") and message in lines[0], lines
    (tmp_path / "bad_instance.txt").write_text("J0:\nM0:3 M1:x \n")
    done = run_cli("verify", "--instance", "bad_instance.txt", "--solution", "good.txt", cwd=tmp_path)
    assert done.returncode == EXIT_USAGE
    assert "bad_instance.txt, line 2, job 0 operation 1 duration: expected a whole number, got 'x'" in done.stderr


def test_no_command_or_an_unknown_one_is_a_usage_error(tmp_path):
    for args in ((), ("nosuch",), ("--debug",)):
        done = run_cli(*args, cwd=tmp_path)
        assert done.returncode == EXIT_USAGE and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert run_cli("--help", cwd=tmp_path).returncode == EXIT_OK


def test_an_internal_error_is_one_line_and_debug_prints_the_traceback(tmp_path, monkeypatch, capsys):
    import jssp_sft.cli.verify

    def broken(args):
        raise KeyError("a bug")

    monkeypatch.setattr(jssp_sft.cli.verify, "main", broken)
    args = ["verify", "--instance", "i.txt"]
    assert main(args, exit_on_error=True) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.startswith("jssp-sft verify: internal error: KeyError") and "rerun with --debug" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    for debug_args in (["--debug", *args], [*args, "--debug"]):
        assert main(debug_args, exit_on_error=True) == EXIT_INTERNAL
        assert "Traceback (most recent call last)" in capsys.readouterr().err
    with pytest.raises(KeyError):  # a caller passing argv gets the exception
        main(args)


def test_solve_rejects_invalid_sampling_settings_and_a_missing_local_model(tmp_path):
    from jssp_sft.solve import SolveConfig

    invalid = [("temperature", -1.0), ("temperature", float("inf")), ("top_p", 1.5), ("top_p", 0.0), ("top_k", 0)]
    for field, value in invalid:
        with pytest.raises(ValueError, match=field):
            SolveConfig(**{field: value})
    solve = ["solve", "--model", "./missing-model", "--output", "o.jsonl", "--benchmark", "ft06"]
    done = run_cli(*solve, "--temperature", "-1", cwd=tmp_path)
    assert done.returncode == EXIT_USAGE and "temperature must be a finite number >= 0" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    done = run_cli(*solve, cwd=tmp_path)
    assert done.returncode == EXIT_USAGE and "./missing-model is not a model directory" in done.stderr
    assert "Repo id must use alphanumeric chars" not in done.stderr


def test_a_path_like_missing_model_is_not_taken_for_a_hub_id(tmp_path, monkeypatch):
    from jssp_sft.modeling.loading import resolve_run_files

    monkeypatch.chdir(
        tmp_path
    )  # relative names resolve in an empty directory (a `make train` run may exist in the repo)
    for name in ("./missing-model", "outputs/tiny-sft/base-model", "~/models/x", "/abs/path"):
        with pytest.raises(FileNotFoundError, match="is not a model directory"):
            resolve_run_files(name)


@pytest.mark.xdist_group("cli_train")
def test_train_without_a_config_says_what_to_give(tmp_path):
    done = run_cli("train", cwd=tmp_path)
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "setup doesn't support bf16/gpu" not in done.stderr and "give a recipe: --config" in done.stderr
    assert "Traceback" not in done.stderr


def test_gantt_of_a_200x50_schedule_renders(tmp_path):
    import random

    from jssp_sft import Instance, format_solution
    from jssp_sft.core.builder import ScheduleBuilder
    from jssp_sft.evaluation.plots import gantt_chart

    rng = random.Random(0)
    instance = Instance(
        tuple(tuple((m, rng.randint(1, 99)) for m in rng.sample(range(50), 50)) for _ in range(200)), 50
    )
    builder = ScheduleBuilder(instance)
    while not builder.done:
        builder.append(rng.choice(builder.remaining_jobs()))
    text = format_solution(builder.to_schedule().with_declared_makespan())
    report = gantt_chart(instance, text, tmp_path / "big.png")
    assert report.feasible and report.num_operations == 10_000
    assert (tmp_path / "big.png").read_bytes().startswith(b"\x89PNG")
    # an infeasible answer on a machine the instance lacks is drawn in one extra row, not a million empty ones
    bad = text.replace("J0-M", "J0-M99999", 1)
    assert not gantt_chart(instance, bad, tmp_path / "bad.png").feasible
