"""``jssp-sft solve``: a user's own files (Taillard's format, JSON, stdin) solved by the tiny model (guaranteed
decoding by default), by CP-SAT, a rule and the random control; schedules written as JSON, Starjob text, CSV and a
Gantt PNG, exactly where ``--output`` says; the methods on benchmarks, into results files that ``evaluate`` reads;
seeds that do not depend on file names; the Python API; and the model card's command, run as written."""

import io
import json
import re
import shlex
from pathlib import Path

import pytest

from jssp_sft import Instance, verify
from jssp_sft.cli.main import main as cli_main
from jssp_sft.core.formats import read_instance, read_instance_file


DATA = Path(__file__).parent / "data" / "instances"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_schedule_json(path: Path, instance: Instance, method: str) -> dict:
    data = json.loads(path.read_text())
    assert data["feasible"] is True and data["violations"] == [] and data["method"] == method
    assert len(data["operations"]) == instance.num_operations
    starts = {(op["job"], op["operation"]): op for op in data["operations"]}
    for j, job in enumerate(instance.jobs):  # every operation once, on its machine, for its duration, in job order
        for k, (machine, duration) in enumerate(job):
            op = starts[j, k]
            assert (op["machine"], op["end"] - op["start"], op["duration"]) == (machine, duration, duration)
            if k:
                assert op["start"] >= starts[j, k - 1]["end"]
    assert data["makespan"] == max(op["end"] for op in data["operations"])
    return data


@pytest.mark.parametrize("name", ["shop-taillard.txt", "shop.json"])
def test_cli_solves_a_file_with_the_tiny_model_and_guaranteed_decoding(tiny_model_dir, tmp_path, capsys, name):
    """No --decoding or --num_samples: the defaults are guaranteed decoding and 8 samples, every one feasible."""
    source = DATA / name
    instance = read_instance(source.read_text(), source=str(source))
    out, png = tmp_path / "schedule.json", tmp_path / "schedule.png"
    argv = ["solve", "--model", str(tiny_model_dir), "--instance", str(source), "--output", str(out)]
    assert cli_main([*argv, "--gantt", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "Solution:" not in printed  # the schedule went to --output, not to the screen
    data = _check_schedule_json(out, instance, "model")
    assert (data["decoding"], data["num_samples"], data["feasible_samples"]) == ("guaranteed", 8, 8)
    assert data["model"] == str(tiny_model_dir) and "model_revision" in data and data["seconds"] > 0
    stem = source.stem if name != "shop.json" else "bakery"  # a JSON file may name its instance
    assert data["instance"] == stem
    label = "model, guaranteed decoding, best of 8"
    assert printed.startswith(f"{stem}: {instance.size}, makespan {data['makespan']}, feasible ({label}, ")
    assert png.read_bytes().startswith(PNG_MAGIC) and png.stat().st_size > 5000


def test_free_decoding_without_a_feasible_answer_says_why_and_what_helps(tiny_model_dir, capsys):
    argv = ["solve", "--model", str(tiny_model_dir), "--instance", str(DATA / "shop-taillard.txt")]
    assert cli_main([*argv, "--decoding", "free", "--num_samples", "2", "--max_new_tokens", "5"]) == 1
    printed = capsys.readouterr().out
    assert "shop-taillard: 3x3, no feasible schedule (model, free decoding, best of 2, " in printed
    assert "none of the 2 samples is feasible; the closest (sample " in printed
    assert "--decoding guaranteed" in printed and "--repair true" in printed and "--num_samples 4" in printed


def test_cli_methods_formats_several_files_and_stdin(tmp_path, capsys, monkeypatch):
    ta01 = DATA / "ta01-taillard.txt"
    text_out = tmp_path / "ta01.txt"
    argv = ["solve", "--method", "cpsat", "--deterministic_time", "0.1", "--instance", str(ta01)]
    assert cli_main([*argv, "--output", str(text_out)]) == 0
    instance = read_instance(ta01.read_text())
    report = verify(instance, text_out.read_text())
    assert report.valid and report.makespan >= 1231  # no schedule beats the best known bound
    printed = capsys.readouterr().out
    assert "Solution:" not in printed and "(CP-SAT (deterministic 0.1, 1 worker), " in printed

    outdir = tmp_path / "schedules"
    argv = [
        "solve",
        "--method",
        "mwkr",
        "--instance",
        str(DATA / "shop-taillard.txt"),
        str(DATA / "shop.json"),
        "--output",
        str(outdir),
        "--output_format",
        "csv",
        "--gantt",
        str(tmp_path / "charts"),
    ]
    assert cli_main(argv) == 0
    assert sorted(p.name for p in outdir.iterdir()) == ["bakery.csv", "shop-taillard.csv"]
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["bakery.png", "shop-taillard.png"]
    table = (outdir / "bakery.csv").read_text()
    assert table.startswith("job,operation,machine,start,end,duration\n")
    assert read_instance(table) == read_instance((DATA / "shop.json").read_text())  # the CSV reads back
    capsys.readouterr()

    monkeypatch.setattr("sys.stdin", io.StringIO((DATA / "ta01-standard.txt").read_text()))
    assert cli_main(["solve", "--method", "SPT", "--instance", "-", "--output", "-"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # stdout holds the JSON alone; the summary goes to stderr
    assert data["instance"] == "stdin" and data["feasible"] and data["method"] == "SPT"
    assert (data["rule_variant"], data["label"]) == ("non_delay", "SPT (non_delay)")  # the stronger variant
    assert re.search(r"stdin: 15x15, makespan \d+, feasible \(SPT \(non_delay\), ", captured.err)

    # without --output the schedule is printed; --quiet leaves it alone; a directory gets <name>.<format>
    shop = str(DATA / "shop-taillard.txt")
    assert cli_main(["solve", "--method", "mwkr", "--rule_variant", "insertion", "--instance", shop]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Solution:\n") and "(MWKR (insertion), " in printed
    assert verify(read_instance((DATA / "shop-taillard.txt").read_text()), printed.split("shop-taillard:")[0]).valid
    assert cli_main(["solve", "--method", "mwkr", "--instance", shop, "--output", f"{tmp_path}/out/", "--quiet"]) == 0
    assert capsys.readouterr().out == "" and (tmp_path / "out" / "shop-taillard.json").is_file()


def test_cli_reports_bad_files_and_arguments(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\n2 7 0 12 1 5\n0 9 2 4 1\n")
    assert cli_main(["solve", "--method", "cpsat", "--instance", str(bad)], exit_on_error=True) == 2
    assert f"jssp-sft solve: error: {bad}, line 3, job 1: expected 6 numbers" in capsys.readouterr().err
    assert cli_main(["solve", "--method", "cpsat", "--instance", str(tmp_path / "none.txt")], exit_on_error=True) == 2
    assert f"jssp-sft solve: error: {tmp_path / 'none.txt'}: no such file" in capsys.readouterr().err
    for argv, message in [
        (["--instance", str(bad)], "--method model (the default) needs --model"),
        (["--method", "fifo", "--instance", str(bad)], "unknown method 'fifo'; choose one of cpsat, random, spt"),
        (["--method", "cpsat", "--instance", str(bad), "--benchmark", "ft06"], "give exactly one of --instance"),
        (["--method", "cpsat", "--benchmark", "ft06"], "--output is required with --benchmark/--dataset"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            cli_main(["solve", *argv])
    argv = ["solve", "--method", "spt", "--instance", str(bad), "--rule_variant", "x"]
    assert cli_main(argv, exit_on_error=True) == 2
    assert "invalid choice: 'x' (choose from 'insertion', 'semi_active', 'non_delay')" in capsys.readouterr().err
    assert cli_main(["solve", "--method", "cpsat", "--instance", str(bad), "--workers", "0"], exit_on_error=True) == 2
    assert "and --workers >= 1 (got 0)" in capsys.readouterr().err
    out = tmp_path / "s.xml"
    (tmp_path / "ok.txt").write_text("1 1\n0 3\n")
    with pytest.raises(ValueError, match="cannot tell the schedule format from the suffix"):
        cli_main(["solve", "--method", "cpsat", "--instance", str(tmp_path / "ok.txt"), "--output", str(out)])


def test_python_api_solves_an_instance_from_a_file(tiny_model_dir):
    from jssp_sft.solve import JSSPSolver

    solver = JSSPSolver.from_pretrained(str(tiny_model_dir))
    instance = read_instance_file(DATA / "shop-taillard.txt")
    result = solver.solve(instance, decoding="guaranteed", num_samples=2)
    assert result.feasible and verify(instance, result.schedule).feasible
    assert result.problem.id == "shop-taillard"


def test_the_model_cards_command_runs(tiny_model_dir, tmp_path, monkeypatch, capsys):
    from jssp_sft.training.hub import build_model_card

    card = str(build_model_card(tiny_model_dir, "someone/jssp-tiny"))
    command = re.search(r"```bash\n(jssp-sft solve .*)\n```", card).group(1)
    argv = shlex.split(command.replace("someone/jssp-tiny", str(tiny_model_dir)))
    assert argv[:2] == ["jssp-sft", "solve"] and "--instance" in argv
    monkeypatch.chdir(tmp_path)
    (tmp_path / "problem.txt").write_text((DATA / "shop-taillard.txt").read_text())
    assert cli_main([*argv[1:], "--num_samples", "2"]) == 0
    data = json.loads((tmp_path / "schedule.json").read_text())
    assert data["feasible"] and data["instance"] == "problem"
    assert "problem: 3x3, makespan" in capsys.readouterr().out


def test_files_with_one_stem_are_named_by_their_file_names(tmp_path, capsys):
    examples = sorted((Path(__file__).parent.parent / "examples" / "instances").iterdir())
    outdir = tmp_path / "out"
    assert cli_main(["solve", "--method", "cpsat", "--instance", *map(str, examples), "--output", str(outdir)]) == 0
    assert sorted(p.name for p in outdir.iterdir()) == [
        "workshop-csv.json",
        "workshop-json.json",
        "workshop.matrix.json",
        "workshop.standard.json",
        "workshop.starjob.json",
        "workshop.taillard.json",
    ]
    makespans = {json.loads(p.read_text())["makespan"] for p in outdir.iterdir()}
    assert makespans == {63}  # one instance in six formats, solved to CP-SAT's optimum
    assert capsys.readouterr().out.count("workshop-csv: 5x4, makespan 63, feasible (CP-SAT (deterministic 1, ") == 1


def test_the_random_control_is_seeded_by_the_instance_not_the_file(tmp_path):
    """One instance in two formats under two names: the same draws, so the same best schedule."""
    examples = Path(__file__).parent.parent / "examples" / "instances"
    runs = []
    for source in ("workshop.taillard.txt", "workshop.json"):
        argv = [
            "solve",
            "--method",
            "random",
            "--num_samples",
            "8",
            "--seed",
            "3",
            "--instance",
            str(examples / source),
        ]
        assert cli_main([*argv, "--output", str(tmp_path / f"{source}.json")]) == 0
        runs.append(json.loads((tmp_path / f"{source}.json").read_text()))
    assert runs[0]["operations"] == runs[1]["operations"] and runs[0]["feasible"]
    assert runs[0]["makespan"] >= 63 and (runs[0]["num_samples"], runs[0]["seed"]) == (8, 3)
    from jssp_sft.solvers.controls import random_control

    instance = read_instance_file(examples / "workshop.json")
    assert random_control(instance, 8, 3).makespans != random_control(instance, 8, 4).makespans  # seeds matter


def test_cpsat_is_reproducible_for_a_seed_and_workers_whatever_the_file(tmp_path):
    files = [str(DATA / "ta01-taillard.txt"), str(DATA / "ta01-standard.txt")]
    makespans = []
    for run in range(2):
        outdir = tmp_path / f"run{run}"
        argv = ["solve", "--method", "cpsat", "--deterministic_time", "0.05", "--workers", "2", "--seed", "1"]
        assert cli_main([*argv, "--instance", *files, "--output", str(outdir)]) == 0
        for path in sorted(outdir.iterdir()):
            data = json.loads(path.read_text())
            assert (
                data["workers"] == 2 and data["seed"] == 1 and data["stopped_by"] in ("deterministic_time", "optimal")
            )
            makespans.append(data["makespan"])
    assert len(set(makespans)) == 1  # two formats, two runs: one schedule length


def test_methods_solve_benchmarks_into_results_that_evaluate_reports(tmp_path, capsys):
    """No model: a rule in both variants and the random control on benchmarks, then evaluate on those files. A
    method's row equals the baseline row of the same name that evaluate computes itself."""
    from jssp_sft.benchmarks.instances import load_benchmark
    from jssp_sft.solve import read_results
    from jssp_sft.solvers.dispatching import dispatching_rule

    paths = {}
    for variant in ("non_delay", "insertion"):
        paths[variant] = tmp_path / f"{variant}.jsonl"
        argv = ["solve", "--benchmark", "ft06,la01", "--method", "fdd/mwkr", "--rule_variant", variant]
        assert cli_main([*argv, "--output", str(paths[variant])]) == 0
        printed = capsys.readouterr().out
        assert "2 instances, 2 with a feasible answer" in printed and f"(FDD/MWKR ({variant}))" in printed
        lines, _ = read_results(paths[variant])
        for line in lines:
            instance, _ = load_benchmark(line["id"])
            assert line["best_makespan"] == dispatching_rule(instance, "FDD/MWKR", variant).makespan
            assert line["config"]["label"] == f"FDD/MWKR ({variant})" and len(line["samples"]) == 1
    random_path = tmp_path / "random.jsonl"
    argv = ["solve", "--benchmark", "ft06,la01", "--method", "random", "--num_samples", "4", "--seed", "0"]
    assert cli_main([*argv, "--output", str(random_path)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"{random_path}: 2 instances, 2 with a feasible answer, mean gap ")
    assert printed.rstrip().endswith("(random (best of 4))")
    out = tmp_path / "eval"
    files = [str(paths["non_delay"]), str(paths["insertion"]), str(random_path)]
    assert cli_main(["evaluate", "--results", *files, "--output_dir", str(out), "--cpsat_baseline", "false"]) == 0
    report = json.loads((out / "report.json").read_text())
    for group in ("ft", "la"):
        entry = report["groups"][group]
        for label, baseline in [
            ("FDD/MWKR (non_delay)", "FDD/MWKR (non_delay)"),
            ("FDD/MWKR (insertion)", "FDD/MWKR (insertion)"),
            ("random (best of 4)", "random control (best of 4)"),
        ]:
            mine = entry["methods"][label]["sizes"]["all"]["mean_gap"]
            assert mine == pytest.approx(entry["baselines"][baseline]["all"]["mean_gap"])
