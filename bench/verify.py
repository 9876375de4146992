"""Verifier speed: operations and schedules verified per second, against a naive reference verifier, in one run.

A fixed corpus of correct and corrupted Starjob outputs for instances from 15x15 to 50x20 is verified by
``jssp_sft.verify`` (instance text parsed every time, as a metric does) and by a naive verifier written here (a regex
per operation, sorting, pairwise checks). Every verdict and makespan must agree. Floors (issue 2): 1,000,000
operations/s for feasible 30x20 outputs and at least 2x the naive reference. The Starjob authors' checker does about
440,000 operations/s on this machine.

    python bench/verify.py [--repeats 5]
"""

from __future__ import annotations

import random
import re
import sys
import time
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from jssp_sft import Instance, Schedule, format_instance, format_solution, parse_instance, verify
from jssp_sft.core.builder import ScheduleBuilder


SIZES = [(15, 15), (20, 15), (20, 20), (30, 15), (30, 20), (50, 15), (50, 20)]


@dataclass
class BenchArguments:
    instances_per_size: int = field(default=10, metadata={"help": "Instances per size in the corpus."})
    repeats: int = field(default=5, metadata={"help": "Timed passes over the corpus; the best is reported."})
    seed: int = field(default=0)


# ------------------------------------------------------------------------------------------------------ corpus


def random_instance(rng: random.Random, n: int, m: int) -> Instance:
    return Instance(tuple(tuple((mach, rng.randint(1, 99)) for mach in rng.sample(range(m), m)) for _ in range(n)), m)


def random_schedule(instance: Instance, rng: random.Random) -> Schedule:
    builder = ScheduleBuilder(instance)
    while not builder.done:
        builder.append(rng.choice(builder.remaining_jobs()))
    return builder.to_schedule().with_declared_makespan()


def corrupt(text: str, rng: random.Random) -> str:
    """One corruption of a correct output: a moved start, a dropped, duplicated or retimed operation."""
    ops = text.split("\n")[1].split(", ")
    i = rng.randrange(len(ops))
    kind = rng.choice(["move", "drop", "duplicate", "duration"])
    job_machine, times = ops[i].split(": ")
    start, rest = times.split("+")
    duration, end = (int(x) for x in rest.split(" -> "))
    if kind == "move":
        new_start = max(0, int(start) - rng.randint(1, 40))
        ops[i] = f"{job_machine}: {new_start}+{duration} -> {new_start + duration}"
    elif kind == "drop":
        del ops[i]
    elif kind == "duplicate":
        ops.insert(i, ops[i])
    else:
        ops[i] = f"{job_machine}: {start}+{duration + 1} -> {end + 1}"
    lines = text.split("\n")
    return "\n".join([lines[0], ", ".join(ops), lines[2]])


@dataclass
class Case:
    size: str
    instance_text: str
    output: str
    num_operations: int
    feasible: bool


def build_corpus(args: BenchArguments) -> list[Case]:
    rng = random.Random(args.seed)
    cases = []
    for n, m in SIZES:
        for _ in range(args.instances_per_size):
            instance = random_instance(rng, n, m)
            good = format_solution(random_schedule(instance, rng))
            text = format_instance(instance)
            cases.append(Case(f"{n}x{m}", text, good, n * m, True))
            cases.append(Case(f"{n}x{m}", text, corrupt(good, rng), n * m, False))
    return cases


# ------------------------------------------------------------------------------------------ naive reference


OP = re.compile(r"J(\d+)-M(\d+): (-?\d+)\+(-?\d+) -> (-?\d+)")
JOB = re.compile(r"J(\d+):\n([^\n]*)")
MACHINE_OP = re.compile(r"M(\d+):(\d+)")
MAKESPAN = re.compile(r"Makespan: (\d+)")


def naive_verify(instance_text: str, output: str) -> tuple[bool, int | None]:
    """The obvious verifier: a regex per operation, sorts, and pairwise overlap checks. Returns (feasible, makespan)."""
    jobs = [[(int(m), int(d)) for m, d in MACHINE_OP.findall(ops)] for _, ops in JOB.findall(instance_text)]
    entries = [tuple(int(x) for x in match.groups()) for match in OP.finditer(output)]
    if not entries:
        return False, None
    makespan = max(s + d for j, _, s, d, _ in entries if j < len(jobs)) if entries else None
    feasible = True
    by_job: dict[int, list] = {}
    for entry in entries:
        if entry[0] >= len(jobs):
            feasible = False
            continue
        by_job.setdefault(entry[0], []).append(entry)
    seen = set()
    for j, job in enumerate(jobs):
        listed = sorted(by_job.get(j, []), key=lambda e: e[2])
        unique = []
        for entry in listed:
            if entry[1:4] in seen:
                feasible = False
                continue
            seen.add(entry[1:4])
            unique.append(entry)
        if len(unique) != len(job):
            feasible = False
        for k, (_, m, s, d, e) in enumerate(unique):
            if k >= len(job) or job[k] != (m, d) or e != s + d or s < 0:
                feasible = False
        for a in range(len(unique)):
            for b in range(a + 1, len(unique)):
                if unique[b][2] < unique[a][2] + unique[a][3]:
                    feasible = False
        seen.clear()
    by_machine: dict[int, list] = {}
    for entry in entries:
        by_machine.setdefault(entry[1], []).append(entry)
    for listed in by_machine.values():
        for a in range(len(listed)):
            for b in range(a + 1, len(listed)):
                _, _, sa, da, _ = listed[a]
                _, _, sb, db, _ = listed[b]
                if sa < sb + db and sb < sa + da:
                    feasible = False
    return feasible, makespan


# -------------------------------------------------------------------------------------------------- timing


def ours(case: Case) -> tuple[bool, int | None]:
    report = verify(parse_instance(case.instance_text), case.output)
    return report.feasible, report.makespan


def best_time(fn, cases: list[Case], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for case in cases:
            fn(case)
        best = min(best, time.perf_counter() - start)
    return best


def main(args: BenchArguments) -> int:
    cases = build_corpus(args)
    mismatches = [(c.size, c.feasible) for c in cases if ours(c) != naive_verify(c.instance_text, c.output)]
    wrong = [c.size for c in cases if ours(c)[0] != c.feasible and c.feasible]
    print(
        f"corpus: {len(cases)} outputs ({args.instances_per_size} correct + {args.instances_per_size} corrupted per "
        f"size), {sum(c.num_operations for c in cases):,} operations"
    )
    print(f"verdicts and makespans identical to the naive reference: {not mismatches} ({len(mismatches)} differ)")
    print()
    print(f"{'subset':<22} {'ours ops/s':>13} {'naive ops/s':>13} {'ratio':>7} {'ours sched/s':>13}")
    rows = [("feasible 30x20", [c for c in cases if c.size == "30x20" and c.feasible])]
    rows += [(f"all {size}", [c for c in cases if c.size == size]) for size in dict.fromkeys(c.size for c in cases)]
    rows.append(("whole corpus", cases))
    floor_ok = True
    for name, subset in rows:
        ops = sum(c.num_operations for c in subset)
        t_ours = best_time(ours, subset, args.repeats)
        t_naive = best_time(lambda c: naive_verify(c.instance_text, c.output), subset, max(1, args.repeats // 2))
        ratio = t_naive / t_ours
        print(
            f"{name:<22} {ops / t_ours:>13,.0f} {ops / t_naive:>13,.0f} {ratio:>6.1f}x {len(subset) / t_ours:>13,.0f}"
        )
        if name == "feasible 30x20":
            floor_ok = ops / t_ours >= 1_000_000 and ratio >= 2
    print()
    print(f"floor (>= 1,000,000 ops/s on feasible 30x20 and >= 2x naive): {'met' if floor_ok else 'NOT MET'}")
    return 0 if floor_ok and not mismatches and not wrong else 1


if __name__ == "__main__":
    sys.exit(main(*HfArgumentParser(BenchArguments).parse_args_into_dataclasses()))
