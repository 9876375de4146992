"""Solve a job-shop instance with OR-Tools CP-SAT: the solver behind Starjob's solutions and our generator.

The model is OR-Tools' own job-shop example: one interval per operation, no overlap per machine, precedence along
each job, minimize the latest end. OR-Tools is an optional dependency (``pip install "jssp-sft[solver]"``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ..core.builder import left_justify
from ..core.instance import Instance
from ..core.schedule import Schedule


SOLVER_EXTRA_HINT = 'OR-Tools is needed for CP-SAT: pip install "jssp-sft[solver]"'


@dataclass(frozen=True)
class CPSATResult:
    """A CP-SAT solve.

    ``schedule`` is left-justified (each operation at the later of its job's and its machine's previous end, the
    solver's machine orders kept) and declares its makespan; ``status`` is ``"OPTIMAL"`` or ``"FEASIBLE"`` (stopped
    by the limit); ``lower_bound`` is the solver's ``best_objective_bound`` (rounded up: makespans are integers),
    equal to ``makespan`` when optimal; ``wall_time`` is in seconds.
    """

    schedule: Schedule
    status: str
    lower_bound: int
    wall_time: float

    @property
    def makespan(self) -> int:
        return self.schedule.makespan

    @property
    def optimal(self) -> bool:
        return self.status == "OPTIMAL"


def _import_cp_model():
    try:
        from ortools.sat.python import cp_model
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(SOLVER_EXTRA_HINT) from err
    return cp_model


def solve_cpsat(
    instance: Instance,
    time_limit: float = 10.0,
    num_workers: int = 1,
    seed: int = 0,
    deterministic_time_limit: float | None = None,
    hint: Schedule | None = None,
) -> CPSATResult:
    """Minimize the makespan of ``instance`` with CP-SAT within ``time_limit`` seconds.

    With a fixed ``seed`` a solve that finishes before its limit is reproducible; a solve stopped by the wall-clock
    limit depends on the machine's speed, so pass ``deterministic_time_limit`` (CP-SAT's deterministic time units) to
    stop at the same point on every run. With it, several workers search interleaved (``interleave_search``, one task
    at a time), which CP-SAT makes deterministic; without it they race. ``hint`` seeds the search with a schedule.
    Raises ``RuntimeError`` when no schedule was found within the limits.
    """
    cp_model = _import_cp_model()
    model = cp_model.CpModel()
    horizon = sum(d for job in instance.jobs for _, d in job)
    starts, ends = [], []
    by_machine: list[list] = [[] for _ in range(instance.num_machines)]
    for j, job in enumerate(instance.jobs):
        job_starts, job_ends = [], []
        for k, (machine, duration) in enumerate(job):
            start = model.new_int_var(0, horizon, f"start_{j}_{k}")
            end = model.new_int_var(0, horizon, f"end_{j}_{k}")
            by_machine[machine].append(model.new_interval_var(start, duration, end, f"interval_{j}_{k}"))
            if k:
                model.add(start >= job_ends[-1])
            job_starts.append(start)
            job_ends.append(end)
        starts.append(job_starts)
        ends.append(job_ends)
    for intervals in by_machine:
        if len(intervals) > 1:
            model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, [job_ends[-1] for job_ends in ends])
    model.minimize(makespan)
    if hint is not None:
        for op in hint.operations:
            model.add_hint(starts[op.job][op.op_index], op.start)
            model.add_hint(ends[op.job][op.op_index], op.end)
        model.add_hint(makespan, hint.makespan)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = int(num_workers)
    solver.parameters.random_seed = int(seed) % 2**31
    if deterministic_time_limit is not None:
        solver.parameters.max_deterministic_time = float(deterministic_time_limit)
        if num_workers > 1:
            solver.parameters.interleave_search = True
            solver.parameters.interleave_batch_size = 1
    began = time.perf_counter()
    status = solver.solve(model)
    wall_time = time.perf_counter() - began
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        name = instance.name or instance.size
        raise RuntimeError(
            f"CP-SAT found no schedule for {name} (status {solver.status_name(status)}) within {time_limit} s; "
            "raise the time limit"
        )
    solved = Schedule.from_starts(
        instance,
        ((j, k, solver.value(start)) for j, job_starts in enumerate(starts) for k, start in enumerate(job_starts)),
    )
    return CPSATResult(
        schedule=left_justify(instance, solved),
        status=solver.status_name(status),
        lower_bound=math.ceil(solver.best_objective_bound - 1e-6),
        wall_time=wall_time,
    )
