"""A solved instance written for people and programs: JSON (``jssp-sft solve --output x.json``, the HTTP API),
Starjob solution text, or CSV (one operation a row, readable back as the instance); and each read back for the
verifier (``read_solution``): the JSON and CSV as a ``Schedule``, the Starjob text as the text the verifier reads."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..codec import format_solution, number_problem
from ..instance import Instance, InstanceFormatError
from ..schedule import Operation, Schedule
from ..verifier import verify
from . import json_format
from .base import csv_rows, read_text


SCHEDULE_FORMATS = ("json", "starjob", "csv")
SCHEDULE_SUFFIXES = {".json": "json", ".txt": "starjob", ".csv": "csv"}
CSV_COLUMNS = ("job", "operation", "machine", "start", "end", "duration")


def schedule_to_dict(instance: Instance, schedule: Schedule | None, **metadata) -> dict:
    """The JSON shape of a solved instance: ``instance`` (name), ``num_jobs``, ``num_machines``, ``makespan``,
    ``feasible`` (the verifier's verdict), ``violations`` (messages; empty when feasible), ``operations`` (``job``,
    ``operation`` (index in its job), ``machine``, ``start``, ``end``, ``duration``, in start order), then
    ``metadata`` as given (``method``, ``model``, ``model_revision``, ``seconds``, ...).

    ``schedule=None`` (no answer) gives ``feasible: false``, no operations and a null makespan.
    """
    out = {"instance": instance.name, "num_jobs": instance.num_jobs, "num_machines": instance.num_machines}
    if schedule is None:
        out |= {"makespan": None, "feasible": False, "violations": ["no schedule was found"], "operations": []}
    else:
        report = verify(instance, Schedule(schedule.operations))  # the makespan reported is the computed one
        out |= {
            "makespan": schedule.makespan,
            "feasible": report.feasible,
            "violations": [v.message for v in report.violations],
            "operations": [
                {
                    "job": op.job,
                    "operation": op.op_index,
                    "machine": op.machine,
                    "start": op.start,
                    "end": op.end,
                    "duration": op.duration,
                }
                for op in _ordered(schedule)
            ],
        }
    return out | metadata


def schedule_to_json(instance: Instance, schedule: Schedule | None, **metadata) -> str:
    """``schedule_to_dict`` as JSON text, one field a line and one operation a line."""
    data = schedule_to_dict(instance, schedule, **metadata)
    lines = []
    for key, value in data.items():
        if key == "operations" and value:
            ops = ",\n".join(f"    {json.dumps(op)}" for op in value)
            lines.append(f'  "operations": [\n{ops}\n  ]')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def schedule_to_starjob(schedule: Schedule) -> str:
    """The canonical Starjob ``output`` text, declaring the schedule's makespan."""
    return format_solution(schedule.with_declared_makespan()) + "\n"


def schedule_to_csv(schedule: Schedule) -> str:
    """``job,operation,machine,start,end,duration``, one operation a row in start order."""
    rows = [",".join(CSV_COLUMNS)]
    rows += [f"{op.job},{op.op_index},{op.machine},{op.start},{op.end},{op.duration}" for op in _ordered(schedule)]
    return "\n".join(rows) + "\n"


def write_schedule(instance: Instance, schedule: Schedule | None, format: str, **metadata) -> str:
    """A schedule in one of ``SCHEDULE_FORMATS`` (metadata goes into JSON only)."""
    if format not in SCHEDULE_FORMATS:
        raise ValueError(f"unknown schedule format {format!r}; choose one of {', '.join(SCHEDULE_FORMATS)}")
    if format == "json":
        return schedule_to_json(instance, schedule, **metadata)
    if schedule is None:
        raise ValueError(f"no schedule to write as {format}")
    return schedule_to_starjob(schedule) if format == "starjob" else schedule_to_csv(schedule)


def schedule_format_for(path: str, format: str | None = None) -> str:
    """``format`` if given, else the one ``path``'s suffix names (``.json``, ``.txt``, ``.csv``)."""
    if format is not None:
        if format not in SCHEDULE_FORMATS:
            raise ValueError(f"unknown schedule format {format!r}; choose one of {', '.join(SCHEDULE_FORMATS)}")
        return format
    suffix = "." + str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    if suffix not in SCHEDULE_SUFFIXES:
        raise ValueError(
            f"{path}: cannot tell the schedule format from the suffix; use "
            f"{', '.join(SCHEDULE_SUFFIXES)} or pass the format ({', '.join(SCHEDULE_FORMATS)})"
        )
    return SCHEDULE_SUFFIXES[suffix]


def _ordered(schedule: Schedule):
    return sorted(schedule.operations, key=lambda op: (op.start, op.job, op.op_index))


# ------------------------------------------------------------------------------------------------------ reading


def detect_schedule_format(text: str) -> str:
    """``json`` when the text starts with ``{`` (after blanks), ``csv`` when its first line is a header with ``job``,
    ``start`` and ``end`` cells, else ``starjob`` (a solution text, a model's answer)."""
    stripped = text.removeprefix("\ufeff").lstrip()
    if stripped.startswith("{"):
        return "json"
    cells = {cell.strip(" \t\r").lower() for cell in stripped.split("\n", 1)[0].split(",")}
    return "csv" if {"job", "start", "end"} <= cells else "starjob"


def read_solution(text: str, format: str | None = None, source: str = "<text>") -> Schedule | str:
    """What ``verify`` takes for a schedule in ``format`` (``SCHEDULE_FORMATS``; detected when ``None``).

    JSON and CSV (as ``jssp-sft solve`` writes them) give a ``Schedule``; ``InstanceFormatError`` names the line and
    field of what does not read. A Starjob solution gives the text itself: the verifier reads it, so that an answer
    that does not read is a verdict (``unparseable``), not an error.
    """
    if format is None:
        format = detect_schedule_format(text)
    elif format not in SCHEDULE_FORMATS:
        raise ValueError(f"unknown schedule format {format!r}; choose one of {', '.join(SCHEDULE_FORMATS)}")
    if format == "json":
        return _read_json_schedule(text, source)
    if format == "csv":
        return _read_csv_schedule(text, source)
    return text


def read_solution_file(path: str | Path, format: str | None = None) -> Schedule | str:
    """``read_solution`` of a file (``-``: standard input); the format is ``format``, else detected from the text."""
    text, source = read_text(path)
    return read_solution(text, format, source)


def _schedule_operation(values: dict, source: str, line: int, row: str, read) -> Operation:
    """One operation from its six fields; job, operation and machine are >= 0, start, end and duration signed (a
    negative start is the verifier's violation, not a reading error)."""
    numbers = {}
    for name in CSV_COLUMNS:
        if name not in values:
            raise InstanceFormatError(source, line, f"{row} {name}", "missing")
        numbers[name] = read(values[name], f"{row} {name}", signed=name in ("start", "end", "duration"))
    return Operation(
        numbers["job"], numbers["operation"], numbers["machine"], numbers["start"], numbers["duration"], numbers["end"]
    )


def _read_json_schedule(text: str, source: str) -> Schedule:
    data, line_of = json_format.decode(text, source)
    if not isinstance(data, dict) or not isinstance(data.get("operations"), list):
        raise InstanceFormatError(
            source, 1, "operations", "expected an object with an 'operations' list (jssp-sft solve's JSON)"
        )
    ops = []
    for i, op in enumerate(data["operations"]):
        line = line_of(op) if isinstance(op, dict) else line_of(data["operations"])
        if not isinstance(op, dict):
            raise InstanceFormatError(source, line, f"operations[{i}]", "expected an object")
        unknown = sorted(set(op) - set(CSV_COLUMNS))
        if unknown:
            raise InstanceFormatError(source, line, f"operations[{i}]", f"unknown key {unknown[0]!r}")

        def read(value, field, signed, line=line):
            return json_format.whole(value, source, line, field, signed=signed)

        ops.append(_schedule_operation(op, source, line, f"operations[{i}]", read))
    declared = data.get("makespan")
    if declared is not None:
        declared = json_format.whole(declared, source, line_of(data), "makespan", signed=True)
    return Schedule(tuple(ops), declared)


def _read_csv_schedule(text: str, source: str) -> Schedule:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = [cell.strip(" \t\r").lower() for cell in next(reader, [])]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise InstanceFormatError(
            source, 1, "header", f"missing the column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}"
        )
    ops = []
    position = {name: header.index(name) for name in CSV_COLUMNS}
    for line, values in csv_rows(reader, len(header), position, source):

        def read(token, field, signed, line=line):
            problem = number_problem(token)
            if problem is None and not signed and token[0] in "+-":
                problem = f"expected a whole number >= 0, got {token!r}"
            if problem is not None:
                raise InstanceFormatError(source, line, field, problem)
            return int(token)

        ops.append(_schedule_operation(values, source, line, f"row {len(ops)}", read))
    return Schedule(tuple(ops))
