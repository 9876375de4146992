"""The Starjob ``matrix`` field as a file: ``N M``, N lines of ``machine duration`` pairs, then optionally the
solver's makespan (a float, ``29.0``) and M lines giving each machine's operations in order (ids ``job * M + op``).

    2 3
    2 7 0 12 1 5
    0 9 2 4 1 11
    29.0
    3 1
    5 2
    0 4

Without the last two parts the text is the standard format. The machine orders, when present, must name every
operation once, each on its own machine; the record is then read by ``codec.parse_matrix``.
"""

from __future__ import annotations

from ..codec import MatrixRecord, format_matrix, parse_decimal, parse_matrix
from ..instance import Instance
from ..schedule import Schedule
from .base import InstanceFormatError, Line, is_header, missing_line, whole_number
from .standard import read_jobs


NAME = "matrix"


def _read_makespan(line: Line, source: str) -> float:
    if len(line.tokens) != 1:
        raise InstanceFormatError(
            source,
            line.number,
            "makespan",
            f"expected one number (the solver's makespan) after the jobs, found {len(line.tokens)} (a count is wrong?)",
        )
    try:
        return float(parse_decimal(line.tokens[0]))
    except ValueError as err:
        raise InstanceFormatError(source, line.number, "makespan", str(err)) from None


def _check_orders(instance: Instance, lines: list[Line], start: int, source: str) -> None:
    """The M machine-order lines: every operation once, each on the machine whose line names it."""
    m = instance.num_machines
    seen: dict[tuple[int, int], int] = {}
    for machine in range(m):
        field = f"machine {machine} order"
        if start + machine >= len(lines):
            raise missing_line(lines, source, field, f"the order of machine {machine} ({m} machine lines)")
        line = lines[start + machine]
        for token in line.tokens:
            op_id = whole_number(token, source, line.number, field)
            job, k = divmod(op_id, m)
            if job >= instance.num_jobs or k >= len(instance.jobs[job]):
                raise InstanceFormatError(source, line.number, field, f"operation id {op_id} names no operation")
            if instance.jobs[job][k][0] != machine:
                raise InstanceFormatError(
                    source,
                    line.number,
                    field,
                    f"operation id {op_id} (job {job} operation {k}) runs on machine {instance.jobs[job][k][0]}",
                )
            if (job, k) in seen:
                raise InstanceFormatError(source, line.number, field, f"operation id {op_id} is listed twice")
            seen[(job, k)] = line.number
    if len(seen) != instance.num_operations:
        raise InstanceFormatError(
            source,
            lines[start].number,
            "machine orders",
            f"name {len(seen)} of the {instance.num_operations} operations",
        )
    if start + m < len(lines):
        line = lines[start + m]
        raise InstanceFormatError(source, line.number, None, f"unexpected line after the {m} machine orders")


def read_record(lines: list[Line], source: str) -> tuple[Instance, MatrixRecord | None]:
    """The instance, and the whole ``MatrixRecord`` when the makespan and machine orders are present."""
    index, jobs, num_machines = read_jobs(lines, source, at_most_m=NAME)
    instance = Instance(tuple(jobs), num_machines)
    rest = index + 1 + len(jobs)
    if rest == len(lines):
        return instance, None
    _read_makespan(lines[rest], source)
    if rest + 1 < len(lines):  # the machine orders are optional too, but all M of them when present
        _check_orders(instance, lines, rest + 1, source)
    body = "\n".join(line.text for line in lines[index:] if not is_header(line))
    return instance, parse_matrix(body)


def read(lines: list[Line], source: str) -> Instance:
    return read_record(lines, source)[0]


def write(instance: Instance, schedule: Schedule | None = None) -> str:
    """The matrix text; with ``schedule``, its makespan and machine orders too (``codec.format_matrix``)."""
    if schedule is not None:
        return format_matrix(instance, schedule) + "\n"
    if max(len(job) for job in instance.jobs) > instance.num_machines:
        raise ValueError("the matrix format numbers operations job * M + op: a job has more than M operations")
    rows = [" ".join(f"{m} {d}" for m, d in job) for job in instance.jobs]
    return "\n".join([f"{instance.num_jobs} {instance.num_machines}", *rows]) + "\n"
