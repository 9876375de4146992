"""Bad Starjob data gives one clear ``ValueError`` naming the file and 1-based line, the same in every file format
(regression tests for the loading cases of issue 16, with its inputs)."""

import json
import os
import re

import datasets
import pytest
from test_data import make_records, write_jsonl

from jssp_sft.cli.main import main as cli_main
from jssp_sft.data import load_records, load_starjob
from jssp_sft.data.sources import SourceNotFoundError, is_hub_id
from jssp_sft.data.validation import record_problem


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return make_records(10)


@pytest.fixture
def cache_dir(tmp_path):
    return str(tmp_path / "hf-cache")


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


# ---------------------------------------------------------------------------------------- a bad JSON line


def test_a_bad_jsonl_line_names_the_file_and_its_1_based_line(tmp_path, cache_dir, records):
    lines = [json.dumps(record) for record in records[:5]]
    lines[2] = lines[2][:-1]  # the third line is cut short: '{...' without its closing brace
    path = write_lines(tmp_path / "bad.jsonl", lines)
    with pytest.raises(ValueError) as caught:
        load_starjob(path, cache_dir=cache_dir)
    message = str(caught.value)
    assert re.fullmatch(re.escape(str(path.resolve())) + r": line 3, column \d+: invalid JSON: .+", message), message
    assert "An error occurred while generating the dataset" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # one error, not a chain


def test_a_bad_line_in_a_json_lines_dot_json_file_names_its_line(tmp_path, cache_dir, records):
    lines = [json.dumps(record) for record in records[:4]] + ['{"num_jobs": 2, oops}']
    path = write_lines(tmp_path / "bad.json", lines)
    with pytest.raises(ValueError, match=r"bad\.json: line 5, column \d+: invalid JSON"):
        load_records(path, cache_dir=cache_dir)


def test_blank_lines_in_jsonl_are_skipped_and_lines_still_named(tmp_path, cache_dir, records):
    bad = dict(records[1], num_machines=1)
    path = write_lines(tmp_path / "gaps.jsonl", [json.dumps(records[0]), "", "  ", json.dumps(bad)])
    with pytest.raises(ValueError, match=r"^1 of 2 records are invalid .*\nrecord 1 \(gaps\.jsonl, line 4\): field"):
        load_starjob(path, cache_dir=cache_dir, test_size=0)


# ------------------------------------------------------------------------------- the same types in every format


@pytest.mark.parametrize("kind", ["json", "jsonl", "parquet", "json_lines_in_dot_json"])
def test_num_jobs_as_a_string_is_rejected_the_same_way_in_every_format(tmp_path, cache_dir, records, kind):
    data = [dict(record) for record in records[:5]]
    data[2]["num_jobs"] = str(data[2]["num_jobs"])  # "num_jobs": "3" (issue 16)
    if kind == "json":
        path = tmp_path / "s.json"
        path.write_text(json.dumps({"data": data}))
    elif kind == "json_lines_in_dot_json":
        path = write_jsonl(tmp_path / "s.json", data)
    elif kind == "jsonl":
        path = write_jsonl(tmp_path / "s.jsonl", data)
    else:
        path = tmp_path / "s.parquet"
        table = datasets.Dataset.from_list([{**r, "num_jobs": str(r["num_jobs"])} for r in data])
        table.to_parquet(str(path))  # a string column throughout: Arrow cannot mix types in one column
    with pytest.raises(ValueError) as caught:
        load_starjob(path, cache_dir=cache_dir)
    message = str(caught.value)
    expected = 5 if kind == "parquet" else 1
    assert message.startswith(f"{expected} of 5 records are invalid"), message
    assert re.search(
        r"^record 2( \(s\.jsonl?, line 3\))?: field 'num_jobs' must be a positive integer, got '", message, re.M
    )


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(3, True), (3.0, True), ("3", False), (3.5, False), (True, False), (0, False), (None, False)],
)
def test_integer_fields_take_integers_only(records, value, accepted):
    record = dict(records[1], num_jobs=value)  # records[1] is 3x3
    problem = record_problem(record)
    assert (problem is None) == accepted, problem


# ------------------------------------------------------------------------------------- empty and all-invalid


def test_an_empty_jsonl_file_is_a_clear_error(tmp_path, cache_dir):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    with pytest.raises(ValueError, match=r"empty\.jsonl: the file holds no records"):
        load_starjob(path, cache_dir=cache_dir)
    path.write_text("\n\n")
    with pytest.raises(ValueError, match="the file holds no records"):
        load_records(path, cache_dir=cache_dir)


def test_a_file_of_invalid_records_is_a_clear_error(tmp_path, cache_dir, records):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"num_jobs": "3"}, {"foo": 1}, [1, 2]])
    with pytest.raises(ValueError, match=r"^3 of 3 records are invalid") as caught:
        load_starjob(path, cache_dir=cache_dir)
    assert "record 1 (bad.jsonl, line 2): not a Starjob record" in str(caught.value)
    with pytest.raises(ValueError, match="no records left after validation"):
        load_starjob(path, cache_dir=cache_dir, skip_invalid=True)


def test_data_report_on_empty_and_all_invalid_files(tmp_path, cache_dir, capsys):
    invalid = write_jsonl(tmp_path / "invalid.jsonl", [{"num_jobs": "3"}, {"foo": 1}])
    assert cli_main(["data-report", str(invalid), "--cache_dir", cache_dir, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["num_records"] == 2 and report["num_invalid"] == 2 and report["sizes"] == {}
    assert report["output_quality"]["num_records"] == 0
    assert [p["line"] for p in report["problems"]] == [1, 2]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ValueError, match="the file holds no records"):
        cli_main(["data-report", str(empty), "--cache_dir", cache_dir])


# -------------------------------------------------------------------------------------- local paths vs Hub ids


@pytest.mark.parametrize(
    ("source", "hub"),
    [
        ("henri24/Starjob", True),
        ("someone/starjob-jsonl", True),
        ("data/train.jsonl", False),  # a data file name is a path
        ("./owner/name", False),
        ("owner/name/sub", False),
        ("/abs/name", False),
        ("name", False),
        ("owner/name.parquet", False),
    ],
)
def test_hub_id_rule(tmp_path, monkeypatch, source, hub):
    monkeypatch.chdir(tmp_path)
    assert is_hub_id(source) is hub


def test_a_missing_relative_path_is_no_such_file_not_a_hub_id(tmp_path, monkeypatch, cache_dir):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    for source in ("data/train.jsonl", "data/missing", "./starjob", "missing.json"):
        with pytest.raises(SourceNotFoundError, match=re.escape(source) + ": no such file or directory"):
            load_starjob(source, cache_dir=cache_dir)
    assert not is_hub_id("data/missing")  # its owner part is a local directory
    with pytest.raises(ValueError):  # also a ValueError, so that the CLI reports it as bad input
        load_records("data/train.jsonl")
    assert os.listdir(tmp_path) == ["data"]  # nothing downloaded or cached


# ------------------------------------------------------------------------------- outputs without a solution


@pytest.mark.parametrize("output", ["", "I cannot solve this problem.", "Solution:\n", "Solution:\nMakespan: 12"])
def test_records_without_a_solution_are_reported_and_kept_on_request(tmp_path, cache_dir, records, caplog, output):
    data = [dict(record) for record in records[:6]]
    data[4]["output"] = output
    path = write_jsonl(tmp_path / "s.jsonl", data)
    with pytest.raises(ValueError) as caught:
        load_starjob(path, cache_dir=cache_dir, test_size=0)
    message = str(caught.value)
    assert message.startswith("1 of 6 records are invalid")
    assert "require_solution=False to keep the 1 without a solution" in message
    assert re.search(r"^record 4 \(s\.jsonl, line 5\): field 'output' holds no parseable solution", message, re.M)

    with caplog.at_level("WARNING", logger="jssp_sft.data"):
        kept, report = load_starjob(path, cache_dir=cache_dir, test_size=0, skip_invalid=True, return_report=True)
    assert len(kept["train"]) == 5 and report.num_invalid == 1 and report.num_unsolved == 1
    assert "1 records hold no parseable solution" in caplog.text

    prompts_only = load_starjob(path, cache_dir=cache_dir, test_size=0, require_solution=False)["train"]
    assert len(prompts_only) == 6 and prompts_only[4]["output"] == output
