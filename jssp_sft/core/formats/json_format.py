"""JSON instances, in two shapes:

    {"num_machines": 3, "jobs": [[{"machine": 2, "duration": 7}, {"machine": 0, "duration": 12}, ...], ...]}
    [[[2, 7], [0, 12], [1, 5]], [[0, 9], [2, 4], [1, 11]]]

In the object form, ``num_machines`` (default: the largest machine id plus one), ``num_jobs`` (checked) and ``name``
are optional and no other key is allowed. An operation is ``{"machine": m, "duration": d}`` or ``[m, d]`` in either
shape. Errors name the line of the offending value: the decoder records where each array and object starts.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner

from ..instance import Instance
from .base import InstanceFormatError


NAME = "json"
OBJECT_KEYS = ("name", "num_jobs", "num_machines", "jobs")


class _Located(list):
    """A JSON array that knows the character offset where it started."""

    offset = 0


class _LocatedDict(dict):
    """A JSON object that knows the character offset where it started."""

    offset = 0


def _decoder() -> json.JSONDecoder:
    """A ``JSONDecoder`` whose arrays and objects carry their start offset (the pure-Python scanner, wrapped)."""
    decoder = json.JSONDecoder()
    parse_array, parse_object = decoder.parse_array, decoder.parse_object

    def located_array(state, scan_once):
        value, end = parse_array(state, scan_once)
        located = _Located(value)
        located.offset = state[1] - 1
        return located, end

    def located_object(state, *args):
        value, end = parse_object(state, *args)
        located = _LocatedDict(value)
        located.offset = state[1] - 1
        return located, end

    decoder.parse_array, decoder.parse_object = located_array, located_object
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    return decoder


def _whole(value, source: str, line: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < 0:
        raise InstanceFormatError(source, line, field, f"expected a whole number >= 0, got {json.dumps(value)[:40]}")
    return int(value)


def read(text: str, source: str) -> Instance:
    text = text.removeprefix("\ufeff")
    try:
        data = _decoder().decode(text)
    except json.JSONDecodeError as err:
        raise InstanceFormatError(
            source, err.lineno, None, f"not valid JSON: {err.msg} (column {err.colno})"
        ) from None

    def line_of(value) -> int:
        return text.count("\n", 0, getattr(value, "offset", 0)) + 1

    declared_jobs = num_machines = name = None
    if isinstance(data, dict):
        unknown = [key for key in data if key not in OBJECT_KEYS]
        if unknown:
            raise InstanceFormatError(
                source, line_of(data), repr(unknown[0]), f"unknown key; expected {', '.join(OBJECT_KEYS)}"
            )
        if "jobs" not in data:
            raise InstanceFormatError(source, line_of(data), "jobs", "missing: the object needs a 'jobs' list")
        if data.get("num_machines") is not None:
            num_machines = _whole(data["num_machines"], source, line_of(data), "num_machines")
        if data.get("num_jobs") is not None:
            declared_jobs = _whole(data["num_jobs"], source, line_of(data), "num_jobs")
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            raise InstanceFormatError(source, line_of(data), "name", f"expected a string, got {json.dumps(name)[:40]}")
        jobs_value = data["jobs"]
    else:
        jobs_value = data
    if not isinstance(jobs_value, list) or not jobs_value:
        raise InstanceFormatError(source, line_of(jobs_value), "jobs", "expected a non-empty list of jobs")
    jobs = []
    for j, job in enumerate(jobs_value):
        if not isinstance(job, list) or not job:
            raise InstanceFormatError(
                source,
                line_of(job) if isinstance(job, list) else line_of(jobs_value),
                f"job {j}",
                "expected a non-empty list of operations",
            )
        ops = []
        for k, op in enumerate(job):
            field, line = f"job {j} operation {k}", line_of(op) if isinstance(op, list | dict) else line_of(job)
            if isinstance(op, dict):
                if set(op) != {"machine", "duration"}:
                    raise InstanceFormatError(
                        source,
                        line,
                        field,
                        f"expected the keys 'machine' and 'duration', got {', '.join(map(repr, op))}",
                    )
                machine, duration = op["machine"], op["duration"]
            elif isinstance(op, list) and len(op) == 2:
                machine, duration = op
            else:
                raise InstanceFormatError(
                    source, line, field, f"expected [machine, duration] or an object, got {json.dumps(op)[:40]}"
                )
            ops.append(
                (
                    _whole(machine, source, line, f"{field} machine"),
                    _whole(duration, source, line, f"{field} duration"),
                )
            )
        jobs.append(tuple(ops))
    if declared_jobs is not None and declared_jobs != len(jobs):
        raise InstanceFormatError(
            source, line_of(data), "num_jobs", f"says {declared_jobs} jobs but 'jobs' lists {len(jobs)}"
        )
    largest = max(m for job in jobs for m, _ in job)
    if num_machines is None:
        num_machines = largest + 1
    for j, job in enumerate(jobs):
        for k, (machine, _) in enumerate(job):
            if machine >= num_machines:
                raise InstanceFormatError(
                    source,
                    line_of(jobs_value[j][k]) if isinstance(jobs_value[j][k], list | dict) else line_of(jobs_value[j]),
                    f"job {j} operation {k} machine",
                    f"machine {machine} is outside 0..{num_machines - 1} (the instance has {num_machines} machines)",
                )
    return Instance(tuple(jobs), num_machines, name)


def write(instance: Instance) -> str:
    """The object form, one job per line."""
    head = {"name": instance.name} if instance.name else {}
    head |= {"num_jobs": instance.num_jobs, "num_machines": instance.num_machines}
    jobs = ",\n".join(
        "    [" + ", ".join(json.dumps({"machine": m, "duration": d}) for m, d in job) + "]" for job in instance.jobs
    )
    fields = "".join(f"  {json.dumps(key)}: {json.dumps(value)},\n" for key, value in head.items())
    return "{\n" + fields + '  "jobs": [\n' + jobs + "\n  ]\n}\n"
