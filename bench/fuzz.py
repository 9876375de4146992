"""Fuzz counts: generated instances and solution texts, mutated by every violation kind, separators, whitespace,
preambles, trailing text, huge and negative numbers and unicode, checked by ``verify``, by the ``evaluate`` metric and
by the deliberately simple reference reader and checker of tests/fuzz_jssp.py. Prints how many of each, and how many
agree (every count of disagreements must be 0; the exit status is 1 otherwise).

    python bench/fuzz.py [--cases 20000] [--seed 0]
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser


sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz_jssp import Unreadable, check, fuzz_case, mutate_instance_text, read_instance  # noqa: E402

from jssp_sft import Instance, parse_instance, verify  # noqa: E402
from jssp_sft.core.codec import scan_solution  # noqa: E402
from jssp_sft.core.verifier import _find_violations, _passes_fast_checks  # noqa: E402


@dataclass
class FuzzArguments:
    cases: int = field(default=20000, metadata={"help": "Solution texts to generate (each with its instance)."})
    metric_batch: int = field(default=200, metadata={"help": "Texts per evaluate metric call."})
    seed: int = field(default=0)


def main(args: FuzzArguments) -> int:
    import evaluate

    import jssp_sft.metrics

    metric = evaluate.load(jssp_sft.metrics.path("jssp_makespan"))
    rng = random.Random(args.seed)
    counts: Counter = Counter()
    kinds: Counter = Counter()
    batch: list = []
    start = time.perf_counter()

    def flush() -> None:
        result = metric.compute(
            predictions=[c.solution for c in batch], references=[c.instance_text for c in batch], return_details=True
        )
        for case, detail in zip(batch, result["details"]):
            report = verify(parse_instance(case.instance_text), case.solution)
            same = (detail["parsed"], detail["feasible"], detail["makespan"], detail["declared_makespan"]) == (
                report.parsed,
                report.feasible,
                report.makespan,
                report.declared_makespan,
            )
            counts["metric vs verify: agree" if same else "metric vs verify: DISAGREE"] += 1
        batch.clear()

    for _ in range(args.cases):
        case = fuzz_case(rng)
        counts["generated"] += 1
        kinds[case.kind or "(none)"] += 1
        counts["mutated"] += case.kind is not None
        instance = Instance(tuple(tuple(job) for job in case.jobs), case.num_machines)
        report = verify(instance, case.solution)
        expected = check(case.jobs, case.num_machines, case.solution)
        counts["parsed by the reference"] += expected.parsed
        counts["feasible by the reference"] += expected.feasible
        agree = report.parsed == expected.parsed and (
            not expected.parsed
            or (report.feasible, report.makespan, report.declared_makespan)
            == (expected.feasible, expected.makespan, expected.declared)
        )
        counts["verify vs reference: agree" if agree else "verify vs reference: DISAGREE"] += 1
        if report.parsed and len(entries := scan_solution(case.solution).entries):
            if _passes_fast_checks(instance, entries):
                sound = _find_violations(instance, entries) == []
                counts[
                    "fast pass accepted, slow pass agrees" if sound else "fast pass accepted: slow pass DISAGREES"
                ] += 1
        text = case.instance_text if rng.random() < 0.5 else mutate_instance_text(case.instance_text, rng)
        try:
            ours = parse_instance(text)
            ours = (ours.jobs, ours.num_machines)
        except ValueError:
            ours = None
        try:
            jobs, machines = read_instance(text)
            theirs = (tuple(tuple(job) for job in jobs), machines)
        except Unreadable:
            theirs = None
        counts["instance texts"] += 1
        counts[
            "instance reader vs reference: agree" if ours == theirs else "instance reader vs reference: DISAGREE"
        ] += 1
        batch.append(case)
        if len(batch) == args.metric_batch:
            flush()
    if batch:
        flush()
    elapsed = time.perf_counter() - start
    print(f"fuzz: {args.cases} cases, seed {args.seed}, {elapsed:.0f} s")
    for name, value in counts.items():
        print(f"  {name:45} {value:>7}")
    print("  mutations: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())))
    return 1 if any("DISAGREE" in name for name in counts) else 0


if __name__ == "__main__":
    sys.exit(main(*HfArgumentParser(FuzzArguments).parse_args_into_dataclasses()))
