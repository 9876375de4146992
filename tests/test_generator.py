"""Tests of `jssp-sft generate`: record contents, an independent CP-SAT check, determinism, resuming, shards."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jssp_sft import cli, parse_instance, parse_solution, to_record, verify
from jssp_sft.data.generator import (
    GenerateArguments,
    ensure_default_dataset,
    generate_dataset,
    generate_record,
    generate_records,
    parse_sizes,
)


STARJOB_FIELDS = ("num_jobs", "num_machines", "instruction", "input", "output", "matrix")


def small_args(tmp_path, name="data.jsonl", **overrides) -> GenerateArguments:
    settings = {"num_instances": 10, "sizes": "2-4x2-4,5x3", "seed": 11, "time_limit": 5.0}
    return GenerateArguments(output=str(tmp_path / name), **{**settings, **overrides})


def read_lines(path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def independent_optimum(instance) -> int:
    """An optimal makespan from a CP-SAT model written here, apart from jssp_sft.solvers.cpsat (a disjunctive model)."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    horizon = sum(d for job in instance.jobs for _, d in job)
    start = {(j, k): model.new_int_var(0, horizon, "") for j, job in enumerate(instance.jobs) for k in range(len(job))}
    ops = [(j, k, m, d) for j, job in enumerate(instance.jobs) for k, (m, d) in enumerate(job)]
    for j, k, _, _ in ops:
        if k:
            model.add(start[j, k] >= start[j, k - 1] + instance.jobs[j][k - 1][1])
    for a, (j1, k1, m1, d1) in enumerate(ops):
        for j2, k2, m2, d2 in ops[a + 1 :]:
            if m1 == m2:  # one of the two goes first
                first = model.new_bool_var("")
                model.add(start[j2, k2] >= start[j1, k1] + d1).only_enforce_if(first)
                model.add(start[j1, k1] >= start[j2, k2] + d2).only_enforce_if(~first)
    makespan = model.new_int_var(0, horizon, "")
    for j, job in enumerate(instance.jobs):
        model.add(makespan >= start[j, len(job) - 1] + job[-1][1])
    model.minimize(makespan)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20
    assert solver.solve(model) == cp_model.OPTIMAL
    return int(solver.objective_value)


def test_parse_sizes():
    assert [str(s) for s in parse_sizes("4x4,6x6,10x5")] == ["4x4", "6x6", "10x5"]
    assert [str(s) for s in parse_sizes("2-5x2-5, 7x3-4")] == ["2-5x2-5", "7x3-4"]
    for bad, message in (("4y4", "cannot read '4y4'"), ("0x3", "at least one job"), ("5-2x3", "backwards")):
        with pytest.raises(ValueError, match=message):
            parse_sizes(bad)


def test_records_are_complete_verified_and_optimal(tmp_path):
    args = small_args(tmp_path)
    records = list(generate_records(args))
    assert [r["index"] for r in records] == list(range(10))
    assert len({r["id"] for r in records}) == 10
    sizes = {(r["num_jobs"], r["num_machines"]) for r in records}
    assert (5, 3) in sizes and all(2 <= n <= 4 and 2 <= m <= 4 for n, m in sizes - {(5, 3)})
    for record in records:
        instance = parse_instance(record["input"])
        assert all(5 <= d <= 500 for job in instance.jobs for _, d in job)
        assert all(sorted(m for m, _ in job) == list(range(instance.num_machines)) for job in instance.jobs)
        # The six Starjob fields in canonical text: exactly what the codec writes for this instance and schedule.
        schedule = parse_solution(record["output"])
        assert {k: record[k] for k in STARJOB_FIELDS} == to_record(instance, schedule)
        report = verify(instance, record["output"])
        assert report.valid and report.makespan == record["makespan"] == schedule.declared_makespan
        assert record["solver_status"] == "OPTIMAL" and record["lower_bound"] == record["makespan"]
        assert record["makespan"] == independent_optimum(instance)
        assert generate_record(args, record["index"]) == record  # regenerated from its seed and index


def test_taillard_instances(tmp_path):
    args = small_args(tmp_path, instance_generator="taillard", num_instances=4)
    for record in generate_records(args):
        instance = parse_instance(record["input"])
        assert all(1 <= d <= 99 for job in instance.jobs for _, d in job)
        assert record["instance_generator"] == "taillard" and verify(instance, record["output"]).valid


def test_file_is_the_same_for_any_number_of_processes(tmp_path):
    one = generate_dataset(small_args(tmp_path, "one.jsonl"), progress=False)
    two = generate_dataset(small_args(tmp_path, "two.jsonl", num_proc=2), progress=False)
    assert one.read_bytes() == two.read_bytes()
    assert not (tmp_path / "one.jsonl.partial").exists()


def test_an_interrupted_file_is_continued(tmp_path):
    reference = read_lines(generate_dataset(small_args(tmp_path, "reference.jsonl"), progress=False))
    partial = tmp_path / "data.jsonl.partial"
    partial.write_bytes(b"".join(reference[:4]) + reference[4][:37])  # killed in the middle of record 4
    path = generate_dataset(small_args(tmp_path), progress=False)
    assert read_lines(path) == reference and not partial.exists()

    # A complete file is reused as it is; asking for more records extends it.
    before = os.stat(path).st_mtime_ns
    assert generate_dataset(small_args(tmp_path), progress=False) == path and os.stat(path).st_mtime_ns == before
    shorter = generate_dataset(small_args(tmp_path, "short.jsonl", num_instances=6), progress=False)
    assert read_lines(shorter) == reference[:6]
    longer = generate_dataset(small_args(tmp_path, "short.jsonl", num_instances=10), progress=False)
    assert read_lines(longer) == reference


def test_a_file_made_with_other_settings_is_not_continued(tmp_path):
    generate_dataset(small_args(tmp_path, num_instances=3), progress=False)
    with pytest.raises(ValueError, match="made with other settings"):
        generate_dataset(small_args(tmp_path, seed=12), progress=False)
    with pytest.raises(ValueError, match="more than the 2 records"):
        generate_dataset(small_args(tmp_path, num_instances=2), progress=False)


def test_shards_split_the_records(tmp_path):
    whole = [json.loads(line) for line in read_lines(generate_dataset(small_args(tmp_path), progress=False))]
    shards = [
        [
            json.loads(line)
            for line in read_lines(
                generate_dataset(small_args(tmp_path, f"shard{i}.jsonl", num_shards=3, shard_index=i), progress=False)
            )
        ]
        for i in range(3)
    ]
    assert [len(shard) for shard in shards] == [4, 3, 3]
    assert sorted((r for shard in shards for r in shard), key=lambda r: r["index"]) == whole
    with pytest.raises(ValueError, match="shard-index"):
        small_args(tmp_path, num_shards=2, shard_index=2)


def test_default_dataset_is_built_once(tmp_path):
    path = ensure_default_dataset(tmp_path, num_instances=20, progress=False)
    assert path.parent == tmp_path and path.name.startswith("generated-2-5x2-5-n20-seed0-")
    records = [json.loads(line) for line in read_lines(path)]
    assert len(records) == 20 and all(verify(r["input"], r["output"]).valid for r in records)
    before = os.stat(path).st_mtime_ns
    assert ensure_default_dataset(tmp_path, num_instances=20, progress=False) == path
    assert os.stat(path).st_mtime_ns == before
    assert ensure_default_dataset(tmp_path, num_instances=20, seed=1, progress=False) != path


def test_cli(tmp_path, capsys):
    output = tmp_path / "cli.jsonl"
    argv = [
        "generate",
        "--output",
        str(output),
        "--num-instances",
        "3",
        "--sizes",
        "3x3",
        "--seed",
        "2",
        "--time-limit",
        "5",
        "--min-duration",
        "1",
        "--max-duration",
        "9",
    ]
    assert cli.main(argv) == 0
    assert f"{output}: 3 records (3 optimal)" in capsys.readouterr().out
    records = [json.loads(line) for line in read_lines(output)]
    assert all(1 <= d <= 9 for r in records for d in parse_instance(r["input"]).duration_table.ravel())


def test_concurrent_callers_take_turns(tmp_path):
    # Every rank of a distributed job may call ensure_default_dataset at once: one writes, the others reuse.
    code = (
        "import sys; from jssp_sft.data.generator import ensure_default_dataset; "
        "print(ensure_default_dataset(sys.argv[1], num_instances=60, progress=False))"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    paths = {run.communicate(timeout=120)[0].strip() for run in runs}
    assert all(run.returncode == 0 for run in runs) and len(paths) == 1
    lines = read_lines(Path(paths.pop()))
    assert [json.loads(line)["index"] for line in lines] == list(range(60))
    assert ensure_default_dataset(tmp_path, num_instances=60, progress=False).read_bytes() == b"".join(lines)
