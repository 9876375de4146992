"""The standard format of OR-Library and JSPLIB: ``N M``, then one line per job of ``machine duration`` pairs.

Machines are numbered from 0 and every job has M operations. Comment and title lines before the size line
(``# ...`` in JSPLIB, `` instance ft06`` / ``+++`` / a description in OR-Library) are skipped; comment lines after
the jobs are allowed, any other extra line is an error.

    # ft06-like, 2 jobs on 3 machines
    2 3
    2 7 0 12 1 5
    0 9 2 4 1 11
"""

from __future__ import annotations

from ..instance import Instance
from .base import InstanceFormatError, Line, check_machine, missing_line, no_trailing_data, size_line, whole_number


NAME = "standard"


def read_job_pairs(line: Line, job: int, num_machines: int, source: str, width: int | None) -> list[tuple[int, int]]:
    """One job's ``machine duration`` pairs; ``width`` is the number of operations the format requires (or None)."""
    tokens = line.tokens
    if len(tokens) % 2 or (width is not None and len(tokens) != 2 * width):
        wanted = f"{2 * width} numbers ({width} 'machine duration' pairs)" if width else "'machine duration' pairs"
        raise InstanceFormatError(source, line.number, f"job {job}", f"expected {wanted}, found {len(tokens)} numbers")
    ops = []
    for k in range(len(tokens) // 2):
        field = f"job {job} operation {k}"
        machine = whole_number(tokens[2 * k], source, line.number, f"{field} machine")
        check_machine(machine, num_machines, source, line.number, f"{field} machine")
        ops.append((machine, whole_number(tokens[2 * k + 1], source, line.number, f"{field} duration")))
    return ops


def read_jobs(
    lines: list[Line], source: str, at_most_m: str | None = None
) -> tuple[int, list[tuple[tuple[int, int], ...]], int]:
    """The ``N M`` size line and the N job lines after it: ``(index of the size line, jobs, M)``.

    Every job has exactly M operations, or with ``at_most_m`` (the format's name) at most M.
    """
    index, num_jobs, num_machines = size_line(lines, source)
    if len(lines[index].tokens) != 2:
        raise InstanceFormatError(
            source, lines[index].number, "size", f"expected 'jobs machines', got {len(lines[index].tokens)} numbers"
        )
    jobs = []
    for j in range(num_jobs):
        if index + 1 + j >= len(lines):
            raise missing_line(lines, source, f"job {j}", f"job {j} of the {num_jobs} the size line announces")
        line = lines[index + 1 + j]
        ops = read_job_pairs(line, j, num_machines, source, None if at_most_m else num_machines)
        if at_most_m and len(ops) > num_machines:
            raise InstanceFormatError(
                source, line.number, f"job {j}", f"{len(ops)} operations, but the {at_most_m} format allows at most M"
            )
        jobs.append(tuple(ops))
    return index, jobs, num_machines


def read(lines: list[Line], source: str) -> Instance:
    index, jobs, num_machines = read_jobs(lines, source)
    no_trailing_data(lines, index + 1 + len(jobs), source, f"the {len(jobs)} jobs")
    return Instance(tuple(jobs), num_machines)


def write(instance: Instance) -> str:
    require_rectangular(instance, NAME)
    rows = [" ".join(f"{m} {d}" for m, d in job) for job in instance.jobs]
    return "\n".join([f"{instance.num_jobs} {instance.num_machines}", *rows]) + "\n"


def require_rectangular(instance: Instance, format_name: str) -> None:
    """The standard and Taillard formats give every job exactly M operations; other instances cannot be written."""
    for j, job in enumerate(instance.jobs):
        if len(job) != instance.num_machines:
            raise ValueError(
                f"the {format_name} format gives every job {instance.num_machines} operations (one per machine), "
                f"but job {j} has {len(job)}: write this instance as starjob, json or csv"
            )
