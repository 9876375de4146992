"""Strict schedule verification: every violation of a Starjob solution, with a message naming the operation.

A vectorized pass (numpy) accepts a correct schedule in a few array operations; only a schedule that fails it goes
through the slower pass that finds and describes each violation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from .codec import parse_instance, scan_solution
from .instance import Instance
from .schedule import Schedule


UNPARSEABLE = "unparseable"
UNKNOWN_JOB = "unknown_job"
UNKNOWN_MACHINE = "unknown_machine"
WRONG_MACHINE = "wrong_machine"
WRONG_DURATION = "wrong_duration"
WRONG_END = "wrong_end"
NEGATIVE_START = "negative_start"
PRECEDENCE = "precedence"
MACHINE_OVERLAP = "machine_overlap"
MISSING_OPERATION = "missing_operation"
DUPLICATE_OPERATION = "duplicate_operation"
EXTRA_OPERATION = "extra_operation"
MAKESPAN_MISMATCH = "makespan_mismatch"

VIOLATION_KINDS = (UNPARSEABLE, UNKNOWN_JOB, UNKNOWN_MACHINE, WRONG_MACHINE, WRONG_DURATION, WRONG_END)
VIOLATION_KINDS += (NEGATIVE_START, PRECEDENCE, MACHINE_OVERLAP, MISSING_OPERATION, DUPLICATE_OPERATION)
VIOLATION_KINDS += (EXTRA_OPERATION, MAKESPAN_MISMATCH)
# Reported, but a schedule that only declares the wrong makespan is still feasible.
NON_BLOCKING_KINDS = frozenset({MAKESPAN_MISMATCH})


@dataclass(frozen=True)
class Violation:
    """One broken rule. ``job``/``op_index``/``machine`` locate it when it concerns one operation."""

    kind: str
    message: str
    job: int | None = None
    op_index: int | None = None
    machine: int | None = None


@dataclass(frozen=True)
class Report:
    """The verdict on one solution.

    ``makespan`` is computed from the listed operations (largest start + duration); ``declared_makespan`` is what
    the text claimed; ``makespan_matches`` is ``None`` when nothing was declared. ``valid`` is the Starjob paper's
    criterion: feasible and declaring the right makespan.
    """

    feasible: bool
    makespan: int | None
    declared_makespan: int | float | None
    makespan_matches: bool | None
    violations: tuple[Violation, ...] = ()
    num_operations: int = 0

    @property
    def parsed(self) -> bool:
        return not any(v.kind == UNPARSEABLE for v in self.violations)

    @property
    def valid(self) -> bool:
        return self.feasible and self.makespan_matches is True

    def counts(self) -> Counter:
        """Violations per kind."""
        return Counter(v.kind for v in self.violations)

    def to_dict(self) -> dict:
        """JSON-ready fields (violations as dicts)."""
        out = asdict(self)
        out["parsed"] = self.parsed
        return out


def unparseable_report(message: str) -> Report:
    """The report of an output that could not be read as a solution at all."""
    return Report(False, None, None, None, (Violation(UNPARSEABLE, message),), 0)


def schedule_entries(schedule: Schedule) -> np.ndarray:
    """A schedule as the ``(job, machine, start, duration, end)`` rows the verifier checks."""
    rows = [(op.job, op.machine, op.start, op.duration, op.end) for op in schedule.operations]
    return np.array(rows, dtype=np.int64).reshape(-1, 5)


def verify(instance: Instance | str, solution: Schedule | str) -> Report:
    """Check a schedule (or a model's output text) against an instance (or its ``input`` text / prompt).

    Every violation is reported, not only the first. Output text that cannot be read gives a report with one
    ``unparseable`` violation; this function raises only on a malformed *instance*.
    """
    if isinstance(instance, str):
        instance = parse_instance(instance)
    if isinstance(solution, Schedule):
        entries, declared = schedule_entries(solution), solution.declared_makespan
    elif isinstance(solution, str):
        try:
            scan = scan_solution(solution)
        except ValueError as err:
            return unparseable_report(str(err))
        entries, declared = scan.entries, scan.declared_makespan
    else:
        raise TypeError(f"verify expects a Schedule or the output text, got {type(solution).__name__}")
    return verify_entries(instance, entries, declared)


def verify_entries(instance: Instance, entries: np.ndarray, declared: int | float | None = None) -> Report:
    """``verify`` on the ``(job, machine, start, duration, end)`` array of a scanned solution."""
    violations = [] if _passes_fast_checks(instance, entries) else _find_violations(instance, entries)
    feasible = not violations
    known = entries[entries[:, 0] < instance.num_jobs] if len(entries) else entries
    makespan = int((known[:, 2] + known[:, 3]).max()) if len(known) else None
    matches = None
    if declared is not None:
        matches = makespan is not None and declared == makespan
        if not matches:
            violations.append(
                Violation(MAKESPAN_MISMATCH, f"declared makespan {declared} but the schedule ends at {makespan}")
            )
    return Report(feasible, makespan, declared, matches, tuple(violations), len(entries))


def _passes_fast_checks(instance: Instance, entries: np.ndarray) -> bool:
    """True when the schedule is certainly feasible; False means: look closer."""
    if len(entries) != instance.num_operations or len(entries) == 0:
        return False
    job, machine, start, duration, end = entries.T
    if job.max() >= instance.num_jobs or machine.max() >= instance.num_machines:
        return False
    if not np.array_equal(np.bincount(job, minlength=instance.num_jobs), instance.job_lengths):
        return False
    if start.min() < 0 or not np.array_equal(end, start + duration):
        return False
    # Entries by job, then start (stable): their rank inside a job is the op index (see `assign_op_indices`).
    order = np.lexsort((start, job))
    job_sorted = job[order]
    lengths = instance.job_lengths
    op_index = np.arange(len(order)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if not (
        np.array_equal(instance.machine_table[job_sorted, op_index], machine[order])
        and np.array_equal(instance.duration_table[job_sorted, op_index], duration[order])
    ):
        return False
    # Consecutive entries of one job (start order) and of one machine must not overlap; checking neighbours is
    # enough, since an interval that ends after its successor starts is itself such a neighbour pair.
    if np.any((start[order][1:] < end[order][:-1]) & (job_sorted[1:] == job_sorted[:-1])):
        return False
    order = np.lexsort((start, machine))
    machine_sorted = machine[order]
    if np.any((start[order][1:] < end[order][:-1]) & (machine_sorted[1:] == machine_sorted[:-1])):
        return False
    return True


def _find_violations(instance: Instance, entries: np.ndarray) -> list[Violation]:
    """The slow, descriptive pass: every violation, each naming its operation."""
    n, m_count = instance.num_jobs, instance.num_machines
    violations: list[Violation] = []
    rows = entries.tolist()
    by_job: dict[int, list[int]] = {}
    for i, (j, m, s, d, e) in enumerate(rows):
        name = f"J{j}-M{m} ({s}+{d} -> {e})"
        if j >= n:
            violations.append(Violation(UNKNOWN_JOB, f"{name}: there is no job {j} (jobs are 0..{n - 1})", j, None, m))
            continue
        if m >= m_count:
            violations.append(
                Violation(
                    UNKNOWN_MACHINE, f"{name}: there is no machine {m} (machines are 0..{m_count - 1})", j, None, m
                )
            )
        by_job.setdefault(j, []).append(i)

    kept_by_job: dict[int, list[int]] = {}
    for j in range(n):
        route = instance.jobs[j]
        # The same entry written again is a duplicate, dropped before numbering the job's entries; unless the job
        # really has that many (machine, duration) operations (zero-length operations may share a start).
        allowed = Counter(route)
        seen: Counter = Counter()
        kept = []
        for i in sorted(by_job.get(j, []), key=lambda i: rows[i][2]):
            _, m, s, d, e = rows[i]
            seen[(m, s, d)] += 1
            if seen[(m, s, d)] > max(1, allowed[(m, d)]):
                violations.append(
                    Violation(DUPLICATE_OPERATION, f"J{j}-M{m} ({s}+{d} -> {e}) is listed more than once", j, None, m)
                )
                continue
            kept.append(i)
        for k, i in enumerate(kept):
            _, m, s, d, e = rows[i]
            name = f"J{j}-M{m} ({s}+{d} -> {e}), op {k} of job {j}"
            if k >= len(route):
                violations.append(
                    Violation(EXTRA_OPERATION, f"{name}: job {j} has only {len(route)} operations", j, k, m)
                )
                continue
            want_m, want_d = route[k]
            if m != want_m and m < m_count:
                violations.append(Violation(WRONG_MACHINE, f"{name}: op {k} of job {j} runs on M{want_m}", j, k, m))
            if d != want_d:
                violations.append(
                    Violation(WRONG_DURATION, f"{name}: op {k} of job {j} takes {want_d}, not {d}", j, k, m)
                )
        for k in range(len(kept), len(route)):
            want_m, want_d = route[k]
            message = f"op {k} of job {j} (M{want_m}, duration {want_d}) is not scheduled"
            violations.append(Violation(MISSING_OPERATION, message, j, k, want_m))
        kept_by_job[j] = kept

    position = {i: (j, k) for j, kept in kept_by_job.items() for k, i in enumerate(kept)}
    for i, (j, k) in position.items():
        _, m, s, d, e = rows[i]
        if e != s + d:
            violations.append(
                Violation(WRONG_END, f"J{j}-M{m} op {k} of job {j}: {s}+{d} ends at {s + d}, not {e}", j, k, m)
            )
        if s < 0:
            violations.append(Violation(NEGATIVE_START, f"J{j}-M{m} op {k} of job {j} starts at {s} < 0", j, k, m))
    for j, kept in kept_by_job.items():
        for k in range(1, len(kept)):
            _, pm, ps, pd, _ = rows[kept[k - 1]]
            _, m, s, _, _ = rows[kept[k]]
            if s < ps + pd:
                message = (
                    f"J{j}-M{m} op {k} of job {j} starts at {s}, before op {k - 1} (J{j}-M{pm}) ends at {ps + pd}"
                )
                violations.append(Violation(PRECEDENCE, message, j, k, m))

    on_machine: dict[int, list[int]] = {}
    for i in position:
        if rows[i][1] < m_count:
            on_machine.setdefault(rows[i][1], []).append(i)
    for m, items in sorted(on_machine.items()):
        items.sort(key=lambda i: (rows[i][2], i))
        last = items[0]
        for i in items[1:]:
            lj, _, ls, ld, _ = rows[last]
            j, _, s, d, _ = rows[i]
            if s < ls + ld and d > 0 and ld > 0:
                k, last_k = position[i][1], position[last][1]
                message = f"M{m}: J{j} op {k} starts at {s}, while J{lj} op {last_k} runs there until {ls + ld}"
                violations.append(Violation(MACHINE_OVERLAP, message, j, k, m))
            if s + d > ls + ld:
                last = i
    return violations
