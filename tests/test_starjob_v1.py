"""The Starjob authors' earlier, verbose release: a dozen records written for these tests from its description (both
prompt variants, one prompt written on one line per job, the verbose answer, float and integer makespan lines), read,
verified and converted; the loader, data-convert, data-report and a training step on them."""

import copy
import json
import re
from pathlib import Path

import pytest

from jssp_sft import parse_instance, parse_matrix, verify
from jssp_sft.cli.main import main as cli_main
from jssp_sft.core.starjob_v1 import (
    convert_record,
    is_legacy_record,
    parse_jobs_first,
    parse_legacy_solution,
    parse_machines_first,
)
from jssp_sft.data.loading import load_starjob, record_problem


RECORDS_PATH = Path(__file__).parent / "data" / "starjob_v1_records.json"
STATED_RE = re.compile(r"Makespan:\s+(\d+(?:\.\d+)?), as it is the maximum end completion time of Operation \d+$")


@pytest.fixture(scope="module")
def legacy_records() -> list[dict]:
    return json.loads(RECORDS_PATH.read_text())


def test_a_dozen_legacy_records_are_feasible_with_the_makespan_they_state(legacy_records):
    assert len(legacy_records) == 12
    assert sum("prompt_machines_first" in r for r in legacy_records) == 11
    assert sum(".0, as it is" in r["output"] for r in legacy_records) == 11  # one states an integer makespan
    for record in legacy_records:
        assert is_legacy_record(record)
        stated = float(STATED_RE.search(record["output"]).group(1))
        converted = convert_record(record)
        assert record_problem(converted) is None
        instance = parse_instance(converted["input"], num_machines=converted["num_machines"])
        report = verify(instance, converted["output"])
        assert report.feasible and report.valid and report.makespan == stated
        assert parse_matrix(converted["matrix"]).makespan == stated
        assert converted["output"].endswith(f"Maximum end completion time or Makespan: {int(stated)}")
        assert converted["instruction"].startswith(f"Optimize schedule for {instance.num_jobs} Jobs (denoted as J)")


def test_both_prompt_variants_and_the_verbose_answer(legacy_records):
    record = legacy_records[3]  # 3x3
    by_jobs = parse_jobs_first(record["prompt_jobs_first"])
    by_machines = parse_machines_first(record["prompt_machines_first"])
    assert by_jobs == by_machines == parse_matrix(record["matrix"]).instance
    inline = legacy_records[5]["prompt_jobs_first"]  # "Job 0 consists of the following Operations: Operation 0 ..."
    assert "Operations: Operation 0 on Machine" in inline
    assert parse_jobs_first(inline) == parse_machines_first(legacy_records[5]["prompt_machines_first"])
    text = (
        "Solution:\n\n Job 1 Operation 0 on Machine 0 : 0 + 58 -> 58 \n Job 0 Operation 0 on Machine 2 : 0 + 5 -> 5"
        " \n\nMakespan:  58.0, as it is the maximum end completion time of Operation 0"
    )
    schedule = parse_legacy_solution(text)
    assert schedule.declared_makespan == 58 and [(op.job, op.op_index) for op in schedule.operations] == [
        (1, 0),
        (0, 0),
    ]


def _broken(record, field, old, new):
    record = copy.deepcopy(record)
    assert old in record[field]
    record[field] = record[field].replace(old, new, 1)
    return record


def test_broken_legacy_records_say_what_is_wrong(legacy_records):
    record = legacy_records[0]  # 2x2: J0 (M1:79, M0:90), J1 (M1:35, M0:95); MWKR's answer, makespan 299
    cases = [
        (
            _broken(record, "output", "Makespan:  299.0", "Makespan:  298.0"),
            "output: declared makespan 298 but the schedule ends at 299",
        ),
        (
            _broken(record, "output", "79 + 35 -> 114", "70 + 35 -> 105"),
            "output: M1: J1 op 0 starts at 70, while J0 op 0 runs there until 79",
        ),
        (
            _broken(record, "output", "Job 1 Operation 1 on Machine 0", "Job 1 Operation 1 on Machine 1"),
            "output: job 1 operation 1 is written on machine 1 for 95, but the problem has machine 0 for 95",
        ),
        (
            _broken(record, "output", " Job 1 Operation 0 on Machine 1 : 79 + 35 -> 114 \n", " J1 starts whenever\n"),
            "output, line 4: expected an operation 'Job <j> Operation <k> on Machine <m> : <start> + <duration> -> <end>'"
            " or the makespan, got 'J1 starts whenever'",
        ),
        (
            _broken(record, "prompt_jobs_first", "on Machine 1 duration 35", "on Machine 2 duration 35"),
            "prompt_jobs_first, line 11: machine 2 is outside 0..1",
        ),
        (
            _broken(record, "prompt_jobs_first", "duration 35 mins", "duration thirty-five mins"),
            "prompt_jobs_first, line 11: expected 'Job <j> consists of the following Operations:' or 'Operation <k> on "
            "Machine <m> duration <d> mins.', got 'Operation 0 on Machine 1 duration thirty-five mins.'",
        ),
        (
            _broken(record, "prompt_machines_first", "Job 1 Operation 1 duration 95", "Job 1 Operation 1 duration 96"),
            "prompt_machines_first describes another instance than prompt_jobs_first",
        ),
        ({**record, "num_jobs": 3}, "field 'num_jobs' is 3, but the problem has 2"),
    ]
    for broken, message in cases:
        with pytest.raises(ValueError) as error:
            convert_record(broken)
        assert str(error.value) == message


def _write(path: Path, records: list[dict]) -> Path:
    """``records`` as a .json list, JSON lines or Parquet, by ``path``'s suffix."""
    if path.suffix == ".parquet":
        import datasets

        datasets.Dataset.from_list(records).to_parquet(str(path))
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        path.write_text(json.dumps(records, indent=1))
    return path


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".parquet"])
def test_the_loader_reads_the_earlier_release(legacy_records, tmp_path, suffix):
    path = _write(tmp_path / f"v1{suffix}", legacy_records)
    splits, report = load_starjob(path, test_size=0, verify_outputs=True, return_report=True, cache_dir=str(tmp_path))
    records = list(splits["train"])
    assert records == [convert_record(r) for r in legacy_records]
    assert report.output_quality.feasible_rate == 1.0 and report.output_quality.makespan_match_rate == 1.0

    broken = _broken(legacy_records[3], "output", " + ", " + 1")
    bad = _write(tmp_path / f"bad{suffix}", [*legacy_records, broken])
    expected = r"1 of 13 records are invalid .*\nrecord 12( \(bad.jsonl, line 13\))?: a record of the earlier Starjob "
    with pytest.raises(ValueError, match=expected + r"release that does not convert: output: job \d operation \d is"):
        load_starjob(bad, test_size=0, cache_dir=str(tmp_path))
    kept = load_starjob(bad, test_size=0, skip_invalid=True, cache_dir=str(tmp_path))["train"]
    assert len(kept) == 12


def test_data_convert_and_data_report(legacy_records, tmp_path, capsys):
    source = _write(tmp_path / "v1.json", legacy_records)
    target = tmp_path / "today.jsonl"
    assert cli_main(["data-convert", str(source), "--output", str(target), "--cache_dir", str(tmp_path / "c")]) == 0
    assert f"{target}: 12 records of 12 in today's Starjob format" in capsys.readouterr().out
    converted = [json.loads(line) for line in target.read_text().splitlines()]
    assert converted == [convert_record(r) for r in legacy_records]
    assert all(record_problem(r) is None for r in converted)

    bad = _write(
        tmp_path / "bad.json", [legacy_records[0], _broken(legacy_records[1], "output", "Makespan:  ", "Makespan:  1")]
    )
    with pytest.raises(ValueError, match="record 1: a record of the earlier Starjob release that does not convert"):
        cli_main(["data-convert", str(bad), "--output", str(tmp_path / "x.json"), "--cache_dir", str(tmp_path / "c")])
    out = tmp_path / "x.json"
    assert (
        cli_main(
            ["data-convert", str(bad), "--output", str(out), "--skip_invalid", "--cache_dir", str(tmp_path / "c")]
        )
        == 0
    )
    assert "1 records of 2 in today's Starjob format, 1 invalid dropped" in capsys.readouterr().out
    assert json.loads(out.read_text()) == [convert_record(legacy_records[0])]

    assert cli_main(["data-report", str(source), "--json", "--cache_dir", str(tmp_path / "c")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["num_records"] == 12 and report["num_invalid"] == 0
    assert report["output_quality"]["feasible_rate"] == 1.0 and report["output_quality"]["makespan_match_rate"] == 1.0


def test_training_on_the_earlier_release_uses_the_same_templates(legacy_records, tiny_model_dir, tmp_path):
    from test_sft import sft_args

    from jssp_sft.data.templates import PromptFormat
    from jssp_sft.sft import train

    example = PromptFormat().training_example(convert_record(legacy_records[0]))
    assert example["prompt"].startswith("Optimize schedule for 2 Jobs (denoted as J) across 2 Machines")
    assert "J0:\nM1:79 M0:90 \n" in example["prompt"] and example["completion"].startswith(
        "Solution:\nJ0-M1: 0+79 -> 79"
    )
    source = _write(tmp_path / "v1.json", legacy_records)
    output_dir = tmp_path / "run"
    no_extras = ("--eval_strategy", "no", "--save_strategy", "no", "--generation_eval_problems", "0")
    train(*sft_args(tiny_model_dir, source, output_dir, "--max_steps", "1", "--eval_split_size", "2", *no_extras))
    state = json.loads((output_dir / "trainer_state.json").read_text())
    results = json.loads((output_dir / "train_results.json").read_text())
    assert state["global_step"] == 1 and results["train_samples"] >= 8 and results["train_loss"] > 0
    assert (output_dir / "model.safetensors").exists()
