"""A schedule: where and when each operation runs, as written in a Starjob ``output``.

An operation is identified by its job and its position among that job's entries in start order (op 0, 1, ...),
the convention of the Starjob authors' checker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple


class Operation(NamedTuple):
    """One scheduled operation. ``end`` is stored as written, so a verifier can catch ``end != start + duration``."""

    job: int
    op_index: int
    machine: int
    start: int
    duration: int
    end: int


@dataclass(frozen=True)
class Schedule:
    """Scheduled operations, kept sorted by start time (stable: ties keep their given order).

    ``declared_makespan`` is the makespan a text claimed (``None`` when it stated none); ``makespan`` is computed.
    """

    operations: tuple[Operation, ...]
    declared_makespan: int | float | None = None

    def __post_init__(self):
        ops = tuple(op if isinstance(op, Operation) else Operation(*op) for op in self.operations)
        object.__setattr__(self, "operations", tuple(sorted(ops, key=lambda op: op.start)))

    @classmethod
    def from_starts(cls, instance, starts: Iterable[tuple[int, int, int]]) -> Schedule:
        """Build a schedule from ``(job, op_index, start)`` triples, taking machine and duration from the instance."""
        ops = []
        for job, k, start in starts:
            machine, duration = instance.jobs[job][k]
            ops.append(Operation(job, k, machine, int(start), duration, int(start) + duration))
        ops.sort(key=lambda op: (op.start, op.end, op.job, op.op_index))
        return cls(tuple(ops))

    @property
    def makespan(self) -> int:
        """The largest ``start + duration``; 0 for an empty schedule."""
        return max((op.start + op.duration for op in self.operations), default=0)

    def __len__(self) -> int:
        return len(self.operations)

    def machine_orders(self, num_machines: int) -> list[list[tuple[int, int]]]:
        """For each machine, the ``(job, op_index)`` it processes, in start order."""
        orders: list[list[tuple[int, int]]] = [[] for _ in range(num_machines)]
        for op in self.operations:
            orders[op.machine].append((op.job, op.op_index))
        return orders

    def with_declared_makespan(self, makespan: int | float | None = None) -> Schedule:
        """A copy declaring ``makespan`` (the computed one by default)."""
        return Schedule(self.operations, self.makespan if makespan is None else makespan)
