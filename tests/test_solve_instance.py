"""``jssp-sft solve --instance``: a user's own files (Taillard's format, JSON, stdin) solved by the tiny model with
guaranteed decoding, by CP-SAT and by a rule; schedules written as JSON, Starjob text, CSV and a Gantt PNG; the
Python API on the same inputs; and the model card's command, run as written."""

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
    source = DATA / name
    instance = read_instance(source.read_text(), source=str(source))
    out, png = tmp_path / "schedule.json", tmp_path / "schedule.png"
    argv = [
        "solve",
        "--model",
        str(tiny_model_dir),
        "--instance",
        str(source),
        "--decoding",
        "guaranteed",
        "--num_samples",
        "2",
        "--output",
        str(out),
        "--gantt",
        str(png),
    ]
    assert cli_main(argv) == 0
    printed = capsys.readouterr().out
    solution = printed[printed.index("Solution:") : printed.index("\n", printed.index("Makespan: "))]
    report = verify(instance, solution)
    assert report.feasible and report.valid  # the printed schedule is feasible and states its makespan
    data = _check_schedule_json(out, instance, "model")
    assert data["makespan"] == report.makespan and data["decoding"] == "guaranteed" and data["num_samples"] == 2
    assert data["model"] == str(tiny_model_dir) and "model_revision" in data and data["seconds"] > 0
    stem = source.stem if name != "shop.json" else "bakery"  # a JSON file may name its instance
    assert data["instance"] == stem
    assert f"{stem}: {instance.size}, makespan {report.makespan}, feasible (model, " in printed
    assert png.read_bytes().startswith(PNG_MAGIC) and png.stat().st_size > 5000


def test_cli_methods_formats_several_files_and_stdin(tmp_path, capsys, monkeypatch):
    ta01 = DATA / "ta01-taillard.txt"
    text_out = tmp_path / "ta01.txt"
    assert (
        cli_main(
            ["solve", "--method", "cpsat", "--time_limit", "2", "--instance", str(ta01), "--output", str(text_out)]
        )
        == 0
    )
    instance = read_instance(ta01.read_text())
    report = verify(instance, text_out.read_text())
    assert report.valid and report.makespan >= 1231  # no schedule beats the best known bound
    capsys.readouterr()

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
    assert re.search(r"stdin: 15x15, makespan \d+, feasible \(SPT, ", captured.err)


def test_cli_reports_bad_files_and_arguments(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\n2 7 0 12 1 5\n0 9 2 4 1\n")
    assert cli_main(["solve", "--method", "cpsat", "--instance", str(bad)]) == 2
    assert f"jssp-sft solve: error: {bad}, line 3, job 1: expected 6 numbers" in capsys.readouterr().err
    assert cli_main(["solve", "--method", "cpsat", "--instance", str(tmp_path / "none.txt")]) == 2
    assert f"jssp-sft solve: error: {tmp_path / 'none.txt'}: no such file" in capsys.readouterr().err
    for argv, message in [
        (["--instance", str(bad)], "--method model needs --model"),
        (["--method", "fifo", "--instance", str(bad)], "unknown --method 'fifo'"),
        (["--method", "cpsat", "--instance", str(bad), "--benchmark", "ft06"], "give exactly one of --benchmark"),
        (["--method", "cpsat", "--benchmark", "ft06", "--output", "x.jsonl"], "--method applies to --instance"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            cli_main(["solve", *argv])
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
        "workshop.csv.json",
        "workshop.json.json",
        "workshop.matrix.json",
        "workshop.standard.json",
        "workshop.starjob.json",
        "workshop.taillard.json",
    ]
    makespans = {json.loads(p.read_text())["makespan"] for p in outdir.iterdir()}
    assert makespans == {63}  # one instance in six formats, solved to CP-SAT's optimum
    assert capsys.readouterr().out.count("workshop.csv: 5x4, makespan 63, feasible (cpsat, ") == 1


def test_the_random_control_is_seeded(tmp_path):
    shop = str(Path(__file__).parent.parent / "examples" / "instances" / "workshop.taillard.txt")
    runs = []
    for name in ("a.json", "b.json"):
        argv = ["solve", "--method", "random", "--num_samples", "8", "--seed", "3", "--instance", shop]
        assert cli_main([*argv, "--output", str(tmp_path / name)]) == 0
        runs.append(json.loads((tmp_path / name).read_text()))
    assert runs[0]["operations"] == runs[1]["operations"] and runs[0]["feasible"]
    assert runs[0]["makespan"] >= 63 and (runs[0]["num_samples"], runs[0]["seed"]) == (8, 3)
