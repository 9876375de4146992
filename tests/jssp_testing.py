"""Test helpers that do not go through the package's own schedulers, so tests can check the package against them."""

from __future__ import annotations

import random

from jssp_sft import Instance, Operation, Schedule


def random_instance(rng: random.Random, max_jobs: int = 6, max_machines: int = 6, ragged: bool = False) -> Instance:
    """A random instance; with ``ragged`` jobs may skip machines or revisit one."""
    n, m = rng.randint(1, max_jobs), rng.randint(1, max_machines)
    jobs = []
    for _ in range(n):
        if ragged:
            route = [rng.randrange(m) for _ in range(rng.randint(1, m + 1))]
        else:
            route = rng.sample(range(m), m)
        jobs.append(tuple((machine, rng.randint(1, 99)) for machine in route))
    return Instance(tuple(jobs), m)


def random_feasible_schedule(instance: Instance, rng: random.Random, slack: int = 0) -> Schedule:
    """Dispatch jobs in a random order, each op at the later of its job's and machine's end (plus random idle time)."""
    job_ready = [0] * instance.num_jobs
    machine_ready = [0] * instance.num_machines
    next_op = [0] * instance.num_jobs
    pending = [j for j, job in enumerate(instance.jobs) for _ in job]
    rng.shuffle(pending)
    ops = []
    for j in pending:
        k = next_op[j]
        machine, duration = instance.jobs[j][k]
        start = max(job_ready[j], machine_ready[machine]) + (rng.randint(0, slack) if slack else 0)
        ops.append(Operation(j, k, machine, start, duration, start + duration))
        job_ready[j] = machine_ready[machine] = start + duration
        next_op[j] += 1
    ops.sort(key=lambda op: (op.start, op.end, op.job))
    return Schedule(tuple(ops))


def naive_is_feasible(instance: Instance, ops: list[tuple[int, int, int, int, int]]) -> bool:
    """An independent oracle over ``(job, machine, start, duration, end)`` rows: identifies each entry by its
    machine (valid when no job visits a machine twice) and checks every pair of operations."""
    expected = {(j, m): (k, d) for j, job in enumerate(instance.jobs) for k, (m, d) in enumerate(job)}
    seen = {}
    for j, m, s, d, e in ops:
        if (j, m) not in expected or (j, m) in seen or expected[(j, m)][1] != d or e != s + d or s < 0:
            return False
        seen[(j, m)] = (expected[(j, m)][0], s, e)
    if len(seen) != len(expected):
        return False
    placed = list(seen.items())
    for a, ((ja, ma), (ka, sa, ea)) in enumerate(placed):
        for (jb, mb), (kb, sb, eb) in placed[a + 1 :]:
            overlap = sa < eb and sb < ea
            if ja == jb and ((ka < kb and sb < ea) or (kb < ka and sa < eb)):
                return False
            if ma == mb and overlap:
                return False
    return True
