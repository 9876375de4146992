"""A job-shop instance: jobs, each an ordered route of (machine, duration) operations.

Also the two things every reader of instance and schedule text shares: the one integer limit (``MAX_DIGITS``) and the
error that names the source, line and field (``InstanceFormatError``). Plain Python and numpy only: the domain core
never imports torch or transformers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


# The one integer limit of every reader (text, JSON, CSV, the HTTP API): a number has at most this many ASCII digits,
# so every value is at most MAX_VALUE. An instance's durations must add up to at most MAX_VALUE too, so that every time
# of a schedule without idle stretches longer than the whole work fits the same limit (int64 holds 18 digits).
MAX_DIGITS = 15
MAX_VALUE = 10**MAX_DIGITS - 1


class InstanceFormatError(ValueError):
    """Malformed instance or schedule text: the message names the source, the 1-based line and the field that is wrong.

    ``source`` (a file name; ``None`` for text without one), ``line`` (``None`` when the problem concerns no single
    line), ``field`` and ``problem`` are kept as attributes so that callers (an HTTP API, a test) can use them apart.
    """

    def __init__(self, source: str | None, line: int | None, field: str | None, problem: str):
        self.source, self.line, self.field, self.problem = source, line, field, problem
        where = ", ".join(part for part in (source, None if line is None else f"line {line}", field) if part)
        super().__init__(f"{where}: {problem}" if where else problem)


@dataclass(frozen=True)
class Instance:
    """N jobs on M machines; ``jobs[j][k] == (machine, duration)`` is operation k of job j.

    A job need not visit every machine, nor visit each machine once: benchmark and user instances may not.
    ``name`` (e.g. ``"ta01"``) is carried along but is not part of equality.
    """

    jobs: tuple[tuple[tuple[int, int], ...], ...]
    num_machines: int
    name: str | None = field(default=None, compare=False)

    def __post_init__(self):
        jobs = tuple(tuple((int(m), int(d)) for m, d in job) for job in self.jobs)
        object.__setattr__(self, "jobs", jobs)
        if not jobs:
            raise ValueError("an instance needs at least one job")
        if self.num_machines < 1:
            raise ValueError(f"num_machines must be >= 1, got {self.num_machines}")
        for j, job in enumerate(jobs):
            if not job:
                raise ValueError(f"job {j} has no operations")
            for k, (m, d) in enumerate(job):
                if not 0 <= m < self.num_machines:
                    raise ValueError(f"job {j} op {k}: machine {m} is outside 0..{self.num_machines - 1}")
                if d < 0:
                    raise ValueError(f"job {j} op {k}: negative duration {d}")
        _check_total(sum(d for job in jobs for _, d in job))

    @classmethod
    def from_arrays(
        cls,
        machines: Sequence[Sequence[int]],
        durations: Sequence[Sequence[int]],
        num_machines: int | None = None,
        name: str | None = None,
    ) -> Instance:
        """Build from two job-by-operation tables (rows may differ in length); ``num_machines`` defaults to max+1."""
        if len(machines) != len(durations):
            raise ValueError(f"{len(machines)} machine rows but {len(durations)} duration rows")
        jobs = []
        for j, (ms, ds) in enumerate(zip(machines, durations)):
            if len(ms) != len(ds):
                raise ValueError(f"job {j}: {len(ms)} machines but {len(ds)} durations")
            jobs.append(tuple(zip((int(m) for m in ms), (int(d) for d in ds))))
        if num_machines is None:
            num_machines = 1 + max(m for job in jobs for m, _ in job)
        return cls(tuple(jobs), num_machines, name)

    @classmethod
    def from_flat(
        cls, pairs: np.ndarray, lengths: Sequence[int], num_machines: int, name: str | None = None
    ) -> Instance:
        """Build from a ``(K, 2)`` array of ``(machine, duration)`` rows, job after job, and each job's length.

        The fast path of the text parser: validation and the padded tables are done with numpy.
        """
        lengths = [int(x) for x in lengths]
        if not lengths or min(lengths) < 1 or sum(lengths) != len(pairs):
            raise ValueError(f"job lengths {lengths} do not add up to {len(pairs)} operations, or a job is empty")
        machines, durations = pairs[:, 0], pairs[:, 1]
        if machines.min() < 0 or machines.max() >= num_machines or durations.min() < 0:
            return cls.from_arrays(*_split(pairs.tolist(), lengths), num_machines=num_machines, name=name)  # explains
        bounds = np.cumsum([0, *lengths])
        m_list, d_list = machines.tolist(), durations.tolist()
        _check_total(sum(d_list))
        jobs = tuple(tuple(zip(m_list[a:b], d_list[a:b])) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()))
        instance = object.__new__(cls)
        object.__setattr__(instance, "jobs", jobs)
        object.__setattr__(instance, "num_machines", int(num_machines))
        object.__setattr__(instance, "name", name)
        width = max(lengths)
        if width == min(lengths):  # rectangular, as every Starjob instance is: the tables are reshapes
            instance.__dict__["machine_table"] = machines.reshape(len(lengths), width).copy()
            instance.__dict__["duration_table"] = durations.reshape(len(lengths), width).copy()
        else:
            rows = np.repeat(np.arange(len(lengths)), lengths)
            cols = np.arange(len(pairs)) - np.repeat(bounds[:-1], lengths)
            for attr, values in (("machine_table", machines), ("duration_table", durations)):
                table = np.full((len(lengths), width), -1, dtype=np.int64)
                table[rows, cols] = values
                instance.__dict__[attr] = table
        instance.__dict__["job_lengths"] = np.array(lengths, dtype=np.int64)
        return instance

    @property
    def num_jobs(self) -> int:
        return len(self.jobs)

    @property
    def num_operations(self) -> int:
        return sum(len(job) for job in self.jobs)

    @property
    def size(self) -> str:
        """The size group, written ``"{N}x{M}"`` as benchmark tables do."""
        return f"{self.num_jobs}x{self.num_machines}"

    @cached_property
    def job_lengths(self) -> np.ndarray:
        return np.array([len(job) for job in self.jobs], dtype=np.int64)

    @cached_property
    def machine_table(self) -> np.ndarray:
        """``(N, L)`` machine ids, ``L`` the longest route; ``-1`` pads shorter jobs."""
        return self._table(0, -1)

    @cached_property
    def duration_table(self) -> np.ndarray:
        """``(N, L)`` durations; ``-1`` pads shorter jobs."""
        return self._table(1, -1)

    def _table(self, column: int, pad: int) -> np.ndarray:
        table = np.full((self.num_jobs, int(self.job_lengths.max())), pad, dtype=np.int64)
        for j, job in enumerate(self.jobs):
            table[j, : len(job)] = [op[column] for op in job]
        return table

    def lower_bound(self) -> int:
        """The trivial makespan bound: the longest job or the busiest machine, whichever is larger."""
        job_bound = max(sum(d for _, d in job) for job in self.jobs)
        loads = [0] * self.num_machines
        for job in self.jobs:
            for m, d in job:
                loads[m] += d
        return max(job_bound, max(loads))


def _check_total(total: int) -> None:
    """An instance whose durations add up to more than ``MAX_VALUE`` is refused: its schedules' times would not fit."""
    if total > MAX_VALUE:
        raise ValueError(
            f"the durations add up to {total}, more than {MAX_VALUE}: a schedule's times must fit in {MAX_DIGITS} digits"
        )


def _split(pairs: list, lengths: list[int]) -> tuple[list, list]:
    """Per-job machine and duration lists from flat ``(machine, duration)`` rows."""
    machines, durations, i = [], [], 0
    for length in lengths:
        machines.append([m for m, _ in pairs[i : i + length]])
        durations.append([d for _, d in pairs[i : i + length]])
        i += length
    return machines, durations
