"""CSV instances, one operation a row, as a spreadsheet exports them:

    job,operation,machine,duration
    0,0,2,7
    0,1,0,12
    ...

The header names the columns, in any order: ``job``, ``operation`` (or ``position``: the operation's place in its
job's route, from 0), ``machine`` (from 0) and ``duration``. Other columns (``start``, ``end``: a schedule written by
``jssp-sft solve --output x.csv`` reads back as its instance) are ignored. Rows may come in any order, but jobs must be
0..N-1 and each job's operations 0..L-1, each once. The delimiter is the header's: ``,``, ``;`` or a tab. M is the
largest machine id plus one.
"""

from __future__ import annotations

import csv
import io

from ..instance import Instance
from .base import InstanceFormatError, csv_rows, whole_number


NAME = "csv"
COLUMNS = ("job", "operation", "machine", "duration")
ALIASES = {"position": "operation"}


def read(text: str, source: str) -> Instance:
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = next((d for d in (",", ";", "\t") if d in first), ",")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    names = [ALIASES.get(name.strip().lower(), name.strip().lower()) for name in header or []]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise InstanceFormatError(
            source,
            1,
            "header",
            f"missing the column(s) {', '.join(missing)}; the header must name {', '.join(COLUMNS)}",
        )
    for column in COLUMNS:
        if names.count(column) > 1:
            raise InstanceFormatError(source, 1, "header", f"the column {column!r} appears twice")
    position = {column: names.index(column) for column in COLUMNS}
    cells: dict[tuple[int, int], tuple[int, int, int]] = {}  # (job, op) -> (machine, duration, line)
    for line, values in csv_rows(reader, len(names), position, source):
        job = whole_number(values["job"], source, line, "job")
        op = whole_number(values["operation"], source, line, f"job {job} operation")
        field = f"job {job} operation {op}"
        machine = whole_number(values["machine"], source, line, f"{field} machine")
        duration = whole_number(values["duration"], source, line, f"{field} duration")
        if (job, op) in cells:
            raise InstanceFormatError(source, line, field, f"listed twice (first on line {cells[job, op][2]})")
        cells[job, op] = (machine, duration, line)
    if not cells:
        raise InstanceFormatError(source, None, None, "no operation rows after the header")
    num_jobs = 1 + max(job for job, _ in cells)
    jobs = []
    for j in range(num_jobs):
        length = 1 + max((op for job, op in cells if job == j), default=-1)
        if length == 0:
            raise InstanceFormatError(source, None, f"job {j}", f"no rows, but there are jobs up to {num_jobs - 1}")
        gap = next((k for k in range(length) if (j, k) not in cells), None)
        if gap is not None:
            later = cells[j, length - 1][2]
            raise InstanceFormatError(
                source, later, f"job {j} operation {gap}", f"missing (the job has operations up to {length - 1})"
            )
        jobs.append(tuple(cells[j, k][:2] for k in range(length)))
    num_machines = 1 + max(m for job in jobs for m, _ in job)
    return Instance(tuple(jobs), num_machines)


def write(instance: Instance) -> str:
    rows = [",".join(COLUMNS)]
    rows += [f"{j},{k},{m},{d}" for j, job in enumerate(instance.jobs) for k, (m, d) in enumerate(job)]
    return "\n".join(rows) + "\n"
