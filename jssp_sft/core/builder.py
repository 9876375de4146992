"""Schedule construction: build a schedule one operation at a time, or rebuild one from machine orders.

``ScheduleBuilder`` is shared by the dispatching-rule baselines and a constrained decoder that writes a solution
operation by operation; ``left_justify`` and ``schedule_from_machine_orders`` turn a machine order (a solver's, or
the ``matrix`` field's) into the unique schedule where every operation starts as early as that order allows.
Plain Python: the domain core imports no torch.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import NamedTuple

from .instance import Instance
from .schedule import Operation, Schedule


# Where an appended operation starts:
# - "append":   the later of its job's previous end and its machine's last end;
# - "monotone": like "append", and never before the previously appended operation's start, so that operations
#               appended in text order come out sorted by start time (the order a Starjob ``output`` lists them);
# - "insert":   the earliest idle gap on its machine, after its job's previous end, where it fits (the placement of
#               active-schedule generation, as in L2D's environment).
START_RULES = ("append", "monotone", "insert")


class NextOperation(NamedTuple):
    """The next unscheduled operation of a job."""

    job: int
    op_index: int
    machine: int
    duration: int


class ScheduleBuilder:
    """Incremental schedule construction: append operations job by job, each at the earliest start of a rule.

    Every method is O(1) except ``remaining_jobs`` (O(jobs)) and the "insert" rule (O(operations on the machine)).
    """

    def __init__(self, instance: Instance):
        self.instance = instance
        self._jobs = instance.jobs
        self._next = [0] * instance.num_jobs
        self._job_end = [0] * instance.num_jobs
        self._machine_end = [0] * instance.num_machines
        # Per machine: the (start, end) of its operations, sorted; "append"/"monotone" only ever add at the end.
        self._busy: list[list[tuple[int, int]]] = [[] for _ in range(instance.num_machines)]
        self._last_start = 0
        self._operations: list[Operation] = []
        self._remaining = instance.num_operations
        # Unscheduled processing time per job and per machine (candidate features, work-remaining rules).
        self._job_work = [sum(d for _, d in job) for job in instance.jobs]
        self._machine_work = [0] * instance.num_machines
        for job in instance.jobs:
            for machine, duration in job:
                self._machine_work[machine] += duration

    # ----- state

    @property
    def done(self) -> bool:
        """True once every operation of every job is scheduled."""
        return self._remaining == 0

    @property
    def num_scheduled(self) -> int:
        return len(self._operations)

    @property
    def operations(self) -> tuple[Operation, ...]:
        """The operations appended so far, in the order they were appended."""
        return tuple(self._operations)

    @property
    def makespan(self) -> int:
        """The latest end so far (0 before the first operation)."""
        return max(self._machine_end, default=0)

    def remaining_jobs(self) -> list[int]:
        """The jobs that still have operations to schedule, in increasing order."""
        return [j for j, k in enumerate(self._next) if k < len(self._jobs[j])]

    def next_operation(self, job: int) -> NextOperation | None:
        """The job's next unscheduled operation, or ``None`` when the job is finished."""
        self._check_job(job)
        k = self._next[job]
        route = self._jobs[job]
        if k >= len(route):
            return None
        machine, duration = route[k]
        return NextOperation(job, k, machine, duration)

    def job_end(self, job: int) -> int:
        """When the job's last scheduled operation ends (0 before its first)."""
        return self._job_end[job]

    def machine_end(self, machine: int) -> int:
        """When the machine's last operation ends (0 before its first)."""
        return self._machine_end[machine]

    def job_work_left(self, job: int) -> int:
        """The processing time of the job's unscheduled operations."""
        return self._job_work[job]

    def job_operations_left(self, job: int) -> int:
        """How many of the job's operations are not scheduled yet."""
        return len(self._jobs[job]) - self._next[job]

    def machine_work_left(self, machine: int) -> int:
        """The processing time of the unscheduled operations (of every job) that run on the machine."""
        return self._machine_work[machine]

    # ----- placement

    def earliest_start(self, job: int, rule: str = "append") -> int:
        """Where the job's next operation would start under ``rule`` (see ``START_RULES``)."""
        return self._placement(job, rule)[0]

    def append(self, job: int, rule: str = "append") -> Operation:
        """Schedule the job's next operation at its earliest start under ``rule`` and return it."""
        start, gap = self._placement(job, rule)
        k = self._next[job]
        machine, duration = self._jobs[job][k]
        end = start + duration
        operation = Operation(job, k, machine, start, duration, end)
        busy = self._busy[machine]
        if gap == len(busy):
            busy.append((start, end))
        else:
            busy.insert(gap, (start, end))
        self._next[job] = k + 1
        self._job_end[job] = end
        self._job_work[job] -= duration
        self._machine_work[machine] -= duration
        if end > self._machine_end[machine]:
            self._machine_end[machine] = end
        if start > self._last_start:
            self._last_start = start
        self._operations.append(operation)
        self._remaining -= 1
        return operation

    def _placement(self, job: int, rule: str) -> tuple[int, int]:
        """``(start, position among the machine's busy intervals)`` of the job's next operation."""
        self._check_job(job)
        k = self._next[job]
        route = self._jobs[job]
        if k >= len(route):
            raise ValueError(f"job {job} has no operation left to schedule (it has {len(route)})")
        machine, duration = route[k]
        ready = self._job_end[job]
        busy = self._busy[machine]
        if rule == "append":
            return max(ready, self._machine_end[machine]), len(busy)
        if rule == "monotone":
            return max(ready, self._machine_end[machine], self._last_start), len(busy)
        if rule == "insert":
            # First interval that ends after `ready`: every gap before it closes too early to hold the operation.
            i = bisect.bisect_right(busy, ready, key=lambda interval: interval[1])
            start = max(ready, busy[i - 1][1]) if i > 0 else ready
            while i < len(busy):
                if start + duration <= busy[i][0]:
                    return start, i
                start = max(start, busy[i][1])
                i += 1
            return start, len(busy)
        raise ValueError(f"unknown start rule {rule!r}; choose one of {', '.join(START_RULES)}")

    def _check_job(self, job: int) -> None:
        if not 0 <= job < len(self._jobs):
            raise ValueError(f"there is no job {job} (jobs are 0..{len(self._jobs) - 1})")

    # ----- output

    def to_schedule(self, declare_makespan: bool = True) -> Schedule:
        """The operations so far as a ``Schedule`` (sorted by start; ties keep append order).

        With ``declare_makespan`` the schedule declares its computed makespan, as a Starjob ``output`` does.
        """
        schedule = Schedule(tuple(self._operations))
        return schedule.with_declared_makespan() if declare_makespan else schedule

    def copy(self) -> ScheduleBuilder:
        """An independent copy (for search that branches on the next operation)."""
        other = ScheduleBuilder.__new__(ScheduleBuilder)
        other.instance = self.instance
        other._jobs = self._jobs
        other._next = list(self._next)
        other._job_end = list(self._job_end)
        other._machine_end = list(self._machine_end)
        other._busy = [list(b) for b in self._busy]
        other._last_start = self._last_start
        other._operations = list(self._operations)
        other._remaining = self._remaining
        other._job_work = list(self._job_work)
        other._machine_work = list(self._machine_work)
        return other


def schedule_from_machine_orders(
    instance: Instance, orders: Sequence[Sequence[tuple[int, int] | int]], declare_makespan: bool = True
) -> Schedule:
    """The earliest schedule that processes each machine's operations in the given order.

    ``orders[m]`` lists machine m's operations as ``(job, op_index)`` pairs or as the ``matrix`` field's ids
    ``job * M + op_index``. Every operation starts at the later of its job's and its machine's previous end.
    Raises ``ValueError`` when the orders do not hold every operation exactly once on its own machine, or when they
    contradict the jobs' routes (a cycle: no operation can go first).
    """
    n, m_count = instance.num_jobs, instance.num_machines
    if len(orders) != m_count:
        raise ValueError(f"expected one order per machine ({m_count}), got {len(orders)}")
    seen: set[tuple[int, int]] = set()
    sequences: list[list[tuple[int, int]]] = []
    for m, order in enumerate(orders):
        sequence = []
        for item in order:
            j, k = divmod(int(item), m_count) if isinstance(item, int) else (int(item[0]), int(item[1]))
            if not (0 <= j < n and 0 <= k < len(instance.jobs[j])):
                raise ValueError(f"machine {m}: there is no operation {k} of job {j}")
            if instance.jobs[j][k][0] != m:
                raise ValueError(f"machine {m}: op {k} of job {j} runs on machine {instance.jobs[j][k][0]}, not {m}")
            if (j, k) in seen:
                raise ValueError(f"machine {m}: op {k} of job {j} appears more than once")
            seen.add((j, k))
            sequence.append((j, k))
        sequences.append(sequence)
    if len(seen) != instance.num_operations:
        j, k = next((j, k) for j, job in enumerate(instance.jobs) for k in range(len(job)) if (j, k) not in seen)
        raise ValueError(f"op {k} of job {j} (machine {instance.jobs[j][k][0]}) is in no machine order")

    # Schedule an operation once it heads its machine's order and is its job's next one; each such event can only
    # unblock its machine's new head and its job's next operation.
    head = [0] * m_count
    next_op = [0] * n
    job_end = [0] * n
    machine_end = [0] * m_count
    ops: list[Operation] = []
    ready = list(range(m_count))
    while ready:
        m = ready.pop()
        if head[m] >= len(sequences[m]):
            continue
        j, k = sequences[m][head[m]]
        if next_op[j] != k:
            continue
        duration = instance.jobs[j][k][1]
        start = max(job_end[j], machine_end[m])
        ops.append(Operation(j, k, m, start, duration, start + duration))
        job_end[j] = machine_end[m] = start + duration
        head[m] += 1
        next_op[j] = k + 1
        ready.append(m)
        if k + 1 < len(instance.jobs[j]):
            ready.append(instance.jobs[j][k + 1][0])
    if len(ops) != instance.num_operations:
        stuck = [
            f"M{m} waits for op {sequences[m][head[m]][1]} of job {sequences[m][head[m]][0]}"
            for m in range(m_count)
            if head[m] < len(sequences[m])
        ]
        raise ValueError(
            "the machine orders contradict the job routes (a cycle): "
            + "; ".join(stuck[:5])
            + ("; ..." if len(stuck) > 5 else "")
        )
    ops.sort(key=lambda op: (op.start, op.end, op.job, op.op_index))
    schedule = Schedule(tuple(ops))
    return schedule.with_declared_makespan() if declare_makespan else schedule


def left_justify(instance: Instance, schedule: Schedule, declare_makespan: bool = True) -> Schedule:
    """Keep each machine's order and start every operation at the later of its job's and its machine's previous end.

    For a feasible schedule no operation starts later than before, so the makespan never rises; and every start
    becomes a function of the machine orders alone. Raises ``ValueError`` when the schedule's machine orders are
    inconsistent (missing or repeated operations, or a cycle with the job routes).
    """
    orders: list[list[tuple[int, int]]] = [[] for _ in range(instance.num_machines)]
    # Zero-length operations sharing a start with another one go first: that order is always consistent.
    for op in sorted(schedule.operations, key=lambda op: (op.start, op.end)):
        if not 0 <= op.machine < instance.num_machines:
            raise ValueError(f"op {op.op_index} of job {op.job} names machine {op.machine}, which does not exist")
        orders[op.machine].append((op.job, op.op_index))
    return schedule_from_machine_orders(instance, orders, declare_makespan)
