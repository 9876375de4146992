"""JSON instances, in two shapes:

    {"num_machines": 3, "jobs": [[{"machine": 2, "duration": 7}, {"machine": 0, "duration": 12}, ...], ...]}
    [[[2, 7], [0, 12], [1, 5]], [[0, 9], [2, 4], [1, 11]]]

In the object form, ``num_machines`` (default: the largest machine id plus one), ``num_jobs`` (checked) and ``name``
are optional and no other key is allowed. An operation is ``{"machine": m, "duration": d}`` or ``[m, d]`` in either
shape. A number is a whole number of at most ``MAX_DIGITS`` digits (``3.0`` counts; ``1e3``, ``NaN``, ``Infinity``
and ``1e400`` do not). Errors name the line of the offending value: the decoder records where each array and object
starts, and keeps each number as written until it is checked.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner

from ..codec import number_problem
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


class _Number:
    """A JSON number or constant (``NaN``, ``Infinity``) as written: checked by ``_whole``, never rounded to a float."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _show(value) -> str:
    """A decoded value written back as JSON (its numbers as written), cut to 40 characters for a message."""

    def written(item) -> str:
        if isinstance(item, _Number):
            return item.text
        if isinstance(item, list):
            return "[" + ", ".join(written(x) for x in item) + "]"
        if isinstance(item, dict):
            return "{" + ", ".join(f"{json.dumps(k)}: {written(v)}" for k, v in item.items()) + "}"
        return json.dumps(item)

    return written(value)[:40]


def _decoder() -> json.JSONDecoder:
    """A ``JSONDecoder`` whose arrays and objects carry their start offset (the pure-Python scanner, wrapped)."""
    decoder = json.JSONDecoder(parse_int=_Number, parse_float=_Number, parse_constant=_Number)
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


def whole(value, source: str, line: int, field: str, signed: bool = False) -> int:
    """A decoded JSON number as an int: a whole number (>= 0 unless ``signed``) of at most ``MAX_DIGITS`` digits
    (``3.0`` allowed); ``InstanceFormatError`` naming the field otherwise."""
    if isinstance(value, _Number):
        integral, dot, fraction = value.text.partition(".")
        if not dot or set(fraction) == {"0"}:
            problem = number_problem(integral)
            if problem is None and (signed or integral[0] not in "+-"):
                return int(integral)
            if problem is not None and "longer than" in problem:
                raise InstanceFormatError(source, line, field, problem)
    wanted = "a whole number" if signed else "a whole number >= 0"
    raise InstanceFormatError(source, line, field, f"expected {wanted}, got {_show(value)}")


def decode(text: str, source: str) -> tuple:
    """``(data, line_of)``: ``text`` decoded with its numbers kept as written, and a function giving the 1-based line
    where a decoded array or object starts; ``InstanceFormatError`` when the text is not JSON."""
    text = text.removeprefix("\ufeff")
    try:
        data = _decoder().decode(text)
    except json.JSONDecodeError as err:
        raise InstanceFormatError(
            source, err.lineno, None, f"not valid JSON: {err.msg} (column {err.colno})"
        ) from None
    except RecursionError:
        raise InstanceFormatError(source, None, None, "not an instance: arrays or objects nested too deeply") from None

    def line_of(value) -> int:
        return text.count("\n", 0, getattr(value, "offset", 0)) + 1

    return data, line_of


def is_number(value) -> bool:
    """Whether a decoded value is a JSON number (or ``NaN``/``Infinity``)."""
    return isinstance(value, _Number)


def read(text: str, source: str) -> Instance:
    data, line_of = decode(text, source)

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
            num_machines = whole(data["num_machines"], source, line_of(data), "num_machines")
        if data.get("num_jobs") is not None:
            declared_jobs = whole(data["num_jobs"], source, line_of(data), "num_jobs")
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            raise InstanceFormatError(source, line_of(data), "name", f"expected a string, got {_show(name)}")
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
                    source, line, field, f"expected [machine, duration] or an object, got {_show(op)}"
                )
            ops.append(
                (
                    whole(machine, source, line, f"{field} machine"),
                    whole(duration, source, line, f"{field} duration"),
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
