"""Taillard's format: ``N M``, then N lines of M processing times, then N lines of M machines numbered from 1.

Taillard's own files (1993) have a title line before the size and label lines before each table; both are accepted:

    Nb of jobs, Nb of Machines, Time seed, Machine seed, Upper bound, Lower bound
               15          15   840612802   398197754        1231        1005
    Times
     94 66 10 ...
    Machines
      7 13  5 ...

The size line then holds up to six numbers, of which the first two count. Every job has M operations.
"""

from __future__ import annotations

from ..instance import Instance
from .base import InstanceFormatError, Line, check_machine, missing_line, no_trailing_data, size_line, whole_number
from .standard import require_rectangular


NAME = "taillard"
LABELS = ("times", "machines")


def _table(lines: list[Line], index: int, label: str, num_jobs: int, num_machines: int, source: str):
    """The rows of one N x M table starting at ``lines[index]`` (after an optional label line); and the next index."""
    if index < len(lines) and lines[index].text.lower() == label:
        index += 1
    rows = []
    for j in range(num_jobs):
        field = f"job {j} {label}"
        if index >= len(lines):
            raise missing_line(lines, source, field, f"the {label} of job {j} ({num_jobs} lines of {label})")
        line = lines[index]
        if line.text.lower() in LABELS:
            raise InstanceFormatError(
                source,
                line.number,
                field,
                f"found the label {line.text!r} after {j} of the {num_jobs} lines of {label}",
            )
        if len(line.tokens) != num_machines:
            raise InstanceFormatError(
                source, line.number, field, f"expected {num_machines} numbers, found {len(line.tokens)}"
            )
        rows.append((line, line.tokens))
        index += 1
    return rows, index


def read(lines: list[Line], source: str) -> Instance:
    index, num_jobs, num_machines = size_line(lines, source)
    size = lines[index]
    if len(size.tokens) not in (2, 6):
        raise InstanceFormatError(
            source,
            size.number,
            "size",
            f"expected 'jobs machines' (or Taillard's six numbers), got {len(size.tokens)} numbers",
        )
    for position, token in enumerate(size.tokens[2:], 3):
        whole_number(token, source, size.number, f"size (number {position})")
    times, index = _table(lines, index + 1, "times", num_jobs, num_machines, source)
    machines, index = _table(lines, index, "machines", num_jobs, num_machines, source)
    no_trailing_data(lines, index, source, "the two tables")
    jobs = []
    for j, ((time_line, durations), (machine_line, ids)) in enumerate(zip(times, machines)):
        job = []
        for k, (duration, machine) in enumerate(zip(durations, ids)):
            field = f"job {j} operation {k}"
            number = whole_number(machine, source, machine_line.number, f"{field} machine")
            machine_id = check_machine(number, num_machines, source, machine_line.number, f"{field} machine", base=1)
            job.append((machine_id, whole_number(duration, source, time_line.number, f"{field} duration")))
        jobs.append(tuple(job))
    return Instance(tuple(jobs), num_machines)


def write(instance: Instance) -> str:
    require_rectangular(instance, NAME)
    times = [" ".join(str(d) for _, d in job) for job in instance.jobs]
    machines = [" ".join(str(m + 1) for m, _ in job) for job in instance.jobs]
    return "\n".join([f"{instance.num_jobs} {instance.num_machines}", *times, *machines]) + "\n"
