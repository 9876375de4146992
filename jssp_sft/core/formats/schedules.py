"""A solved instance written for people and programs: JSON (``jssp-sft solve --output x.json``, the HTTP API),
Starjob solution text, or CSV (one operation a row, readable back as the instance)."""

from __future__ import annotations

import json

from ..codec import format_solution
from ..instance import Instance
from ..schedule import Schedule
from ..verifier import verify


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
