"""The Starjob ``input`` field as a file: ``J{j}:`` lines, each followed by the job's ``M{machine}:{duration}`` list.

    J0:
    M2:7 M0:12 M1:5
    J1:
    M0:9 M2:4 M1:11

The Starjob instruction sentence may come first (``Optimize schedule for 2 Jobs ... across 3 Machines ...``); it then
fixes M and the number of jobs, otherwise M is the largest machine id plus one. Read strictly, line by line, unlike
``codec.parse_instance`` (which also digs an instance out of a whole prompt): any other text is an error.
"""

from __future__ import annotations

import re

from ..codec import format_instance, parse_instruction
from ..instance import Instance
from .base import InstanceFormatError, Line, check_machine, whole_number


NAME = "starjob"
_HEADER_RE = re.compile(r"J[ \t]*(\S*?)[ \t]*:(.*)")
_OP_RE = re.compile(r"M(\S*?)[ \t]*:[ \t]*(\S+)")


def _operations(line: Line, text: str, job: int, source: str) -> list[tuple[int, int]]:
    ops = []
    for k, token in enumerate(text.split()):
        field = f"job {job} operation {k}"
        match = _OP_RE.fullmatch(token)
        if match is None:
            raise InstanceFormatError(source, line.number, field, f"expected 'M<machine>:<duration>', got {token!r}")
        machine = whole_number(match.group(1), source, line.number, f"{field} machine")
        ops.append((machine, whole_number(match.group(2), source, line.number, f"{field} duration")))
    if not ops:
        raise InstanceFormatError(source, line.number, f"job {job}", "no operations ('M<machine>:<duration> ...')")
    return ops


def read(lines: list[Line], source: str) -> Instance:
    declared = None
    index = 0
    while index < len(lines) and not lines[index].text.startswith("J"):
        stated = parse_instruction(lines[index].text)
        if stated is None:
            raise InstanceFormatError(
                source, lines[index].number, None, f"expected 'J0:' or the instruction, got {lines[index].text[:60]!r}"
            )
        declared = stated
        index += 1
    jobs: list[list[tuple[int, int]]] = []
    where: list[int] = []
    while index < len(lines):
        line = lines[index]
        header = _HEADER_RE.fullmatch(line.text)
        if header is None:
            raise InstanceFormatError(
                source, line.number, f"job {len(jobs)}", f"expected 'J{len(jobs)}:', got {line.text[:60]!r}"
            )
        if header.group(1) != str(len(jobs)):
            raise InstanceFormatError(
                source, line.number, f"job {len(jobs)}", f"expected 'J{len(jobs)}:', got 'J{header.group(1)}:'"
            )
        if header.group(2).strip():  # the operations on the header's own line
            ops_line, ops_text = line, header.group(2)
        elif index + 1 < len(lines) and not lines[index + 1].text.startswith("J"):
            index += 1
            ops_line, ops_text = lines[index], lines[index].text
        else:
            raise InstanceFormatError(
                source, line.number + 1, f"job {len(jobs)}", "missing the operations line after the job's header"
            )
        jobs.append(_operations(ops_line, ops_text, len(jobs), source))
        where.append(ops_line.number)
        index += 1
    if not jobs:
        raise InstanceFormatError(
            source, None, None, "no jobs: expected 'J0:' followed by 'M<machine>:<duration>' entries"
        )
    if declared is not None and declared[0] != len(jobs):
        raise InstanceFormatError(
            source, lines[-1].number, "jobs", f"the instruction says {declared[0]} jobs, the file lists {len(jobs)}"
        )
    num_machines = declared[1] if declared is not None else 1 + max(m for job in jobs for m, _ in job)
    for j, job in enumerate(jobs):
        for k, (machine, _) in enumerate(job):
            check_machine(machine, num_machines, source, where[j], f"job {j} operation {k} machine")
    return Instance(tuple(map(tuple, jobs)), num_machines)


def write(instance: Instance) -> str:
    return format_instance(instance)
