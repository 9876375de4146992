"""Instance files in every format: hand-written files read right, ta01 in two formats, exact round trips between all
formats (hypothesis), malformed files rejected with the file, line and field named, and the schedule writers."""

import json

import pytest
from conftest import EXAMPLE_INPUT, EXAMPLE_MATRIX, EXAMPLE_OUTPUT
from hypothesis import given, settings
from hypothesis import strategies as st

from jssp_sft import Instance, parse_solution, verify
from jssp_sft.core.formats import (
    FORMATS,
    InstanceFormatError,
    detect_format,
    read_instance,
    read_instance_file,
    schedule_to_dict,
    write_instance,
    write_schedule,
)
from jssp_sft.core.formats.base import text_lines
from jssp_sft.core.formats.matrix import read_record


DATA = __import__("pathlib").Path(__file__).parent / "data" / "instances"
# The 2x3 instance of the Starjob spec (J0: M2:7 M0:12 M1:5, J1: M0:9 M2:4 M1:11), written by hand in every format.
HAND_WRITTEN = {
    "starjob": EXAMPLE_INPUT,
    "standard": "# the Starjob spec's 2x3 example\n2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\n",
    "taillard": "2 3\n7 12 5\n9 4 11\n3 1 2\n1 3 2\n",
    "matrix": EXAMPLE_MATRIX,
    "json": '{"num_machines": 3, "jobs": [\n  [{"machine": 2, "duration": 7}, {"machine": 0, "duration": 12},'
    ' {"machine": 1, "duration": 5}],\n  [{"machine": 0, "duration": 9}, {"machine": 2, "duration": 4},'
    ' {"machine": 1, "duration": 11}]\n]}\n',
    "csv": "job,operation,machine,duration\n0,0,2,7\n0,1,0,12\n0,2,1,5\n1,0,0,9\n1,1,2,4\n1,2,1,11\n",
}
MORE_HAND_WRITTEN = {  # other spellings of the same instance
    "json": "[[[2, 7], [0, 12], [1, 5]],\n [[0, 9], [2, 4], [1, 11]]]",
    "csv": "Machine;Duration;Job;Position\r\n2;7;0;0\r\n1;11;1;2\r\n0;12;0;1\r\n1;5;0;2\r\n0;9;1;0\r\n2;4;1;1\r\n",
    "taillard": "Nb of jobs, Nb of Machines, Time seed, Machine seed, Upper bound, Lower bound\n"
    "  2  3  1  2  29  29\nTimes\n 7 12  5\n 9  4 11\nMachines\n 3  1  2\n 1  3  2\n",
    "standard": " instance ex23\n +++++++++++++++++++++++++++++\n 2 3\n 2  7  0 12  1  5\n 0  9  2  4  1 11\n",
    "starjob": "Optimize schedule for 2 Jobs (denoted as J) across 3 Machines (denoted as M) to minimize makespan.\n"
    "J0: M2:7 M0:12 M1:5\r\nJ1:\r\nM0:9  M2:4 M1:11\r\n",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_hand_written_files_in_every_format(fmt, example_instance, tmp_path):
    assert detect_format(HAND_WRITTEN[fmt]) == (fmt if fmt != "matrix" else "matrix")
    assert read_instance(HAND_WRITTEN[fmt]) == example_instance
    assert read_instance(HAND_WRITTEN[fmt], fmt) == example_instance
    if fmt in MORE_HAND_WRITTEN:
        assert detect_format(MORE_HAND_WRITTEN[fmt]) == fmt
        assert read_instance(MORE_HAND_WRITTEN[fmt]) == example_instance
    path = tmp_path / f"shop.{ {'json': 'json', 'csv': 'csv'}.get(fmt, 'txt') }"
    path.write_text(HAND_WRITTEN[fmt])
    instance = read_instance_file(path)
    assert instance == example_instance and instance.name == "shop"
    bom = tmp_path / f"bom-{path.name}"  # a byte-order mark at the start is accepted by every format
    bom.write_text("\ufeff" + HAND_WRITTEN[fmt], encoding="utf-8")
    assert read_instance_file(bom) == example_instance


def test_matrix_file_keeps_the_makespan_and_machine_orders(example_instance):
    instance, record = read_record(text_lines(EXAMPLE_MATRIX), "m.txt")
    assert instance == example_instance and record.makespan == 29
    schedule = parse_solution(EXAMPLE_OUTPUT)
    assert [list(order) for order in record.machine_orders] == schedule.machine_orders(3)
    assert write_instance(instance, "matrix") == "2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\n"


def test_the_readme_examples_are_one_instance_in_six_formats():
    examples = sorted((DATA.parent.parent.parent / "examples" / "instances").iterdir())
    assert [detect_format(path.read_text()) for path in examples] == [
        "csv",
        "json",
        "matrix",
        "standard",
        "starjob",
        "taillard",
    ]
    first = read_instance_file(examples[0])
    assert first.size == "5x4" and all(read_instance_file(path) == first for path in examples)
    assert read_record(text_lines(examples[2].read_text()), "m")[1].makespan == 63  # CP-SAT's optimum, in the matrix
    assert read_instance("2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\n29.0\n", "matrix").num_jobs == 2  # a makespan, no orders


def test_ta01_in_taillards_and_the_standard_format_is_one_instance():
    from jssp_sft.benchmarks.instances import load_benchmark

    taillard = read_instance_file(DATA / "ta01-taillard.txt")
    standard = read_instance_file(DATA / "ta01-standard.txt")
    assert detect_format((DATA / "ta01-taillard.txt").read_text()) == "taillard"
    assert detect_format((DATA / "ta01-standard.txt").read_text()) == "standard"
    benchmark, info = load_benchmark("ta01")
    assert taillard == standard == benchmark
    assert taillard.size == "15x15" and info.upper_bound == 1231
    assert taillard.jobs[0][:3] == ((6, 94), (12, 66), (4, 10))  # Taillard's machines 7 13 5, times 94 66 10
    # the bound is a makespan of this instance: never below the trivial bound, which it is near
    assert taillard.lower_bound() <= 1231


@st.composite
def instances(draw, rectangular: bool):
    num_machines = draw(st.integers(1, 6))
    num_jobs = draw(st.integers(1, 6))
    jobs = []
    for _ in range(num_jobs):
        if rectangular:
            machines = draw(st.permutations(range(num_machines)))
        else:
            machines = draw(st.lists(st.integers(0, num_machines - 1), min_size=1, max_size=num_machines + 2))
        jobs.append([(m, draw(st.integers(0, 500))) for m in machines])
    used = {m for job in jobs for m, _ in job}
    if not rectangular and len(used) < num_machines:  # M is then the largest id + 1 in some formats
        jobs[0].extend((m, 1) for m in range(num_machines) if m not in used)
    return Instance(tuple(map(tuple, jobs)), num_machines)


@settings(max_examples=150, deadline=None)
@given(instances(rectangular=True))
def test_round_trips_between_all_formats_are_exact(instance):
    texts = {fmt: write_instance(instance, fmt) for fmt in FORMATS}
    for fmt, text in texts.items():
        assert read_instance(text, fmt) == instance
        assert read_instance(text) == instance  # detected
        for other in FORMATS:  # through any other format and back, byte for byte
            assert write_instance(read_instance(write_instance(read_instance(text), other)), fmt) == text


@settings(max_examples=100, deadline=None)
@given(instances(rectangular=False))
def test_round_trips_of_uneven_jobs_where_the_format_allows_them(instance):
    for fmt in ("starjob", "json", "csv"):
        assert read_instance(write_instance(instance, fmt)) == instance
    if any(len(job) != instance.num_machines for job in instance.jobs):
        with pytest.raises(ValueError, match="write this instance as starjob, json or csv"):
            write_instance(instance, "taillard")


# --------------------------------------------------------------------------------------------- malformed files

# (format, text, the error message: source, line, field and problem)
MALFORMED = [
    # wrong counts
    (
        "standard",
        "2 3\n2 7 0 12 1 5\n0 9 2 4 1\n",
        "f, line 3, job 1: expected 6 numbers (3 'machine duration' pairs), found 5 numbers",
    ),
    (
        "standard",
        "2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\n1 2 0 3 2 4\n",
        "f, line 4: unexpected line after the 2 jobs: '1 2 0 3 2 4' (a count is wrong?)",
    ),
    ("taillard", "2 3\n7 12 5\n9 4\n3 1 2\n1 3 2\n", "f, line 3, job 1 times: expected 3 numbers, found 2"),
    (
        "matrix",
        "2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\n29.0\n3 1\n5 2 4\n0\n",
        "f, line 6, machine 1 order: operation id 4 (job 1 operation 1) runs on machine 2",
    ),
    (
        "matrix",
        "2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\n29.0 30\n",
        "f, line 4, makespan: expected one number (the solver's makespan) after the jobs, found 2 (a count is wrong?)",
    ),
    ("json", '{"num_jobs": 3, "jobs": [[[0, 1]], [[1, 2]]]}', "f, line 1, num_jobs: says 3 jobs but 'jobs' lists 2"),
    (
        "json",
        "[[[0, 1]],\n [[1, 2, 3]]]",
        "f, line 2, job 1 operation 0: expected [machine, duration] or an object, got [1, 2, 3]",
    ),
    (
        "csv",
        "job,operation,machine,duration\n0,0,1,5\n0,2,0,3\n",
        "f, line 3, job 0 operation 1: missing (the job has operations up to 2)",
    ),
    ("csv", "job,operation,machine,duration\n0,0,1,5,9\n", "f, line 2: expected 4 columns, found 5"),
    (
        "starjob",
        "Optimize schedule for 3 Jobs (denoted as J) across 2 Machines\nJ0:\nM0:1 M1:2\nJ1:\nM1:3 M0:4\n",
        "f, line 5, jobs: the instruction says 3 jobs, the text lists 2",
    ),
    # a machine out of range
    (
        "standard",
        "2 3\n2 7 0 12 3 5\n0 9 2 4 1 11\n",
        "f, line 2, job 0 operation 2 machine: machine 3 is outside 0..2 (the instance has 3 machines)",
    ),
    (
        "taillard",
        "2 3\n7 12 5\n9 4 11\n3 1 2\n0 3 2\n",
        "f, line 5, job 1 operation 0 machine: machine 0 is outside 1..3 (the instance has 3 machines, numbered from 1 in this format)",
    ),
    (
        "matrix",
        "2 3\n2 7 0 12 1 5\n0 9 7 4 1 11\n",
        "f, line 3, job 1 operation 1 machine: machine 7 is outside 0..2 (the instance has 3 machines)",
    ),
    (
        "json",
        '{"num_machines": 2, "jobs": [\n [{"machine": 0, "duration": 1}],\n [{"machine": 2, "duration": 1}]]}',
        "f, line 3, job 1 operation 0 machine: machine 2 is outside 0..1 (the instance has 2 machines)",
    ),
    (
        "csv",
        "job,operation,machine,duration\n0,0,-1,5\n",
        "f, line 2, job 0 operation 0 machine: must be at least 0, got -1",
    ),
    (
        "starjob",
        "Optimize schedule for 2 Jobs (denoted as J) across 2 Machines\nJ0:\nM0:1 M1:2\nJ1:\nM2:3 M0:4\n",
        "f, line 5, job 1 operation 0 machine: machine 2 is outside 0..1 (the instance has 2 machines)",
    ),
    # a missing line
    (
        "standard",
        "# three jobs\n3 2\n0 1 1 2\n1 3 0 4\n",
        "f, line 5, job 2: missing: the file ends after line 4, before job 2 of the 3 the size line announces",
    ),
    (
        "taillard",
        "2 3\n7 12 5\n9 4 11\n3 1 2\n",
        "f, line 5, job 1 machines: missing: the file ends after line 4, before the machines of job 1 (2 lines of machines)",
    ),
    (
        "matrix",
        "2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\n29.0\n3 1\n5 2\n",
        "f, line 7, machine 2 order: missing: the file ends after line 6, before the order of machine 2 (3 machine lines)",
    ),
    ("starjob", "J0:\nM2:7 M0:12 M1:5\nJ1:\n", "f, line 4, job 1: missing the operations line after the job's header"),
    ("starjob", "J0:\nM2:7 M0:12 M1:5\nM0:9 M2:4 M1:11\n", "f, line 3, job 1: expected 'J1:', got 'M0:9 M2:4 M1:11'"),
    (
        "csv",
        "job,machine,duration\n0,1,5\n",
        "f, line 1, header: missing the column(s) operation; the header must name job, operation, machine, duration",
    ),
    ("json", '{"num_machines": 2}', "f, line 1, jobs: missing: the object needs a 'jobs' list"),
    # text in a number field
    (
        "standard",
        "2 3\n2 7 0 l2 1 5\n0 9 2 4 1 11\n",
        "f, line 2, job 0 operation 1 duration: expected a whole number, got 'l2'",
    ),
    ("standard", "2 three\n", "f, line 1, size (machines): expected a whole number, got 'three'"),
    (
        "taillard",
        "2 3\n7 12 5\n9 4 1.5\n3 1 2\n1 3 2\n",
        "f, line 3, job 1 operation 2 duration: expected a whole number, got '1.5'",
    ),
    (
        "matrix",
        "2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\nabout 29\n",
        "f, line 4, makespan: expected one number (the solver's makespan) after the jobs, found 2 (a count is wrong?)",
    ),
    (
        "matrix",
        "2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\n29.0\n3 1\n5 x\n0 4\n",
        "f, line 6, machine 1 order: expected a whole number, got 'x'",
    ),
    (
        "json",
        '[[[0, 1]],\n [[1, "2"]]]',
        'f, line 2, job 1 operation 0 duration: expected a whole number >= 0, got "2"',
    ),
    ("json", "[[[0, 1]],\n [[1, 2]]", "f, line 2: not valid JSON: Expecting ',' delimiter (column 10)"),
    (
        "csv",
        "job,operation,machine,duration\n0,0,1,5\n0,1,zero,3\n",
        "f, line 3, job 0 operation 1 machine: expected a whole number, got 'zero'",
    ),
    (
        "starjob",
        "J0:\nM2:7 M0:1x2 M1:5\n",
        "f, line 2, job 0 operation 1 duration: expected a whole number, got '1x2'",
    ),
    ("starjob", "J0:\nM2:7 Mx:12\n", "f, line 2, job 0 operation 1 machine: expected a whole number, got 'x'"),
]


@pytest.mark.parametrize(("fmt", "text", "message"), MALFORMED, ids=[f"{m[0]}-{i}" for i, m in enumerate(MALFORMED)])
def test_malformed_files_name_the_file_line_and_field(fmt, text, message):
    with pytest.raises(InstanceFormatError) as caught:
        read_instance(text, fmt, source="f")
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError) and caught.value.source == "f"


def test_detection_and_its_failures(tmp_path):
    assert detect_format(" \n\n[[[0, 1]]]") == "json"
    assert detect_format("Job shop 2x2, by hand\n2 2\n0 3 1 2\n1 4 0 1\n") == "standard"  # a title, not a header
    assert detect_format("J1:\nM0:3\nJ0:\nM1:2\n") == detect_format("J\u0661:\nM0:3\n") == "starjob"  # explained there
    with pytest.raises(InstanceFormatError, match=r"x.txt, line 1: cannot tell the format .* pass one of starjob"):
        read_instance("1 2 3\n", source="x.txt")
    with pytest.raises(InstanceFormatError, match="<text>: empty"):
        read_instance("\n \n")
    with pytest.raises(ValueError, match="unknown instance format 'xml'"):
        read_instance("2 3", "xml")
    bad = tmp_path / "shop.json"  # a .json suffix names the format: the JSON reader's error, not a guess
    bad.write_text("2 3\n0 1 1 2 2 3\n")
    with pytest.raises(InstanceFormatError, match=rf"{bad}, line 1: not valid JSON"):
        read_instance_file(bad)
    binary = tmp_path / "shop.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InstanceFormatError, match="not UTF-8 text"):
        read_instance_file(binary)


def test_stdin_is_read_for_dash(monkeypatch, example_instance):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(HAND_WRITTEN["taillard"]))
    instance = read_instance_file("-")
    assert instance == example_instance and instance.name is None


# ------------------------------------------------------------------------------------------------- schedules


def test_schedule_json_text_and_csv(example_instance):
    schedule = parse_solution(EXAMPLE_OUTPUT)
    data = schedule_to_dict(example_instance, schedule, method="cpsat", model_revision=None, seconds=0.5)
    assert data["makespan"] == 29 and data["feasible"] is True and data["violations"] == []
    assert data["method"] == "cpsat" and data["seconds"] == 0.5
    assert data["operations"][0] == {"job": 0, "operation": 0, "machine": 2, "start": 0, "end": 7, "duration": 7}
    assert len(data["operations"]) == 6
    metadata = {"method": "cpsat", "model_revision": None, "seconds": 0.5}
    assert json.loads(write_schedule(example_instance, schedule, "json", **metadata)) == data
    text = write_schedule(example_instance, schedule, "starjob")
    assert text.strip() == EXAMPLE_OUTPUT and verify(example_instance, text).valid
    table = write_schedule(example_instance, schedule, "csv")
    assert table.splitlines()[:2] == ["job,operation,machine,start,end,duration", "0,0,2,0,7,7"]
    assert read_instance(table) == example_instance  # a schedule CSV reads back as its instance
    infeasible = schedule_to_dict(example_instance, parse_solution(EXAMPLE_OUTPUT.replace("24+5 -> 29", "20+5 -> 25")))
    assert infeasible["feasible"] is False and infeasible["makespan"] == 25
    assert infeasible["violations"] == [
        "J0-M1 op 2 of job 0 starts at 20, before op 1 (J0-M0) ends at 21",
        "M1: J0 op 2 starts at 20, while J1 op 2 runs there until 24",
    ]
    assert schedule_to_dict(example_instance, None)["feasible"] is False


# ------------------------------------------------------------------------------ verify and gantt read them all


def test_verify_and_gantt_read_every_instance_format_and_every_schedule_format_solve_writes(tmp_path, capsys):
    """``jssp-sft verify`` and ``jssp-sft gantt`` on the instance in each of the six formats, against each schedule
    format ``solve`` writes (json, csv, starjob text): feasible as solved (exit 0), infeasible once an operation is
    moved (exit 1), never "no instance found" nor "unparseable"."""
    from jssp_sft.cli.main import EXIT_NEGATIVE, EXIT_OK, main
    from jssp_sft.core.formats import SCHEDULE_FORMATS, read_solution_file

    instance = Instance((((2, 7), (0, 12), (1, 5)), ((0, 9), (2, 4), (1, 11)), ((1, 3), (2, 6), (0, 2))), 3)
    paths = {}
    for fmt in FORMATS:
        paths[fmt] = tmp_path / f"shop-{fmt}.{ {'json': 'json', 'csv': 'csv'}.get(fmt, 'txt') }"
        paths[fmt].write_text(write_instance(instance, fmt))
    suffixes = {"json": "json", "csv": "csv", "starjob": "txt"}
    schedules = {}
    for fmt, suffix in suffixes.items():  # solve's own outputs, from the standard file
        schedules[fmt] = tmp_path / f"solved.{suffix}"
        argv = ["solve", "--instance", str(paths["standard"]), "--method", "MWKR", "--output", str(schedules[fmt])]
        assert main(argv, exit_on_error=True) == EXIT_OK
    solved = read_solution_file(schedules["json"])
    last = solved.operations[-1]  # the last operation to start, moved to time 0: before its job's earlier ones
    moved = type(solved)(solved.operations[:-1] + (last._replace(start=0, end=last.duration),))
    assert not verify(instance, moved).feasible
    for fmt, suffix in suffixes.items():
        schedules[f"infeasible {fmt}"] = tmp_path / f"moved.{suffix}"
        schedules[f"infeasible {fmt}"].write_text(write_schedule(instance, moved, fmt, method="edited"))
    capsys.readouterr()
    for fmt, instance_path in paths.items():
        for name, schedule_path in schedules.items():
            feasible = not name.startswith("infeasible")
            argv = ["verify", "--instance", str(instance_path), "--solution", str(schedule_path)]
            status = main(argv, exit_on_error=True)
            out, err = capsys.readouterr()
            assert status == (EXIT_OK if feasible else EXIT_NEGATIVE), (fmt, name, out, err)
            assert out.startswith("feasible" if feasible else "INFEASIBLE") and "unparseable" not in out, (fmt, name)
            png = tmp_path / f"{fmt}-{name.replace(' ', '-')}.png"
            argv = ["gantt", "--instance", str(instance_path), "--solution", str(schedule_path), "--output", str(png)]
            assert main(argv, exit_on_error=True) == EXIT_OK, (fmt, name, capsys.readouterr().err)
            out = capsys.readouterr().out
            assert ("feasible" if feasible else "infeasible (") in out and png.read_bytes().startswith(b"\x89PNG")
    assert set(SCHEDULE_FORMATS) == set(suffixes)
