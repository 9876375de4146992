"""Fuzz counts: generated instances and solution texts, mutated by every violation kind, separators, whitespace,
preambles, trailing text, junk lines, junction text, digits and spaces of other scripts, huge and negative numbers and
candidate lines, checked by ``verify``, by the ``evaluate`` metric and by the deliberately simple reference reader and
checker of tests/fuzz_jssp.py. Also the text rule's guarantees (issue 20): a line or junction text inserted into an
answer never turns an infeasible or incomplete answer feasible, one inserted into an instance never changes the
instance, well-formed candidate lines never change a verdict and a malformed one makes the answer unreadable.

Prints how many texts of each kind were checked and how many agree; every count of disagreements must be 0 (the exit
status is 1 otherwise).

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

from fuzz_jssp import (  # noqa: E402
    BAD_CANDIDATE_LINES,
    INSTANCE_MUTATIONS,
    JUNCTION_TEXTS,
    ROW_MUTATIONS,
    Unreadable,
    candidate_line,
    check,
    fuzz_case,
    insert_junction,
    insert_line,
    inserted_line,
    instance_text,
    line_boundaries,
    mutate_instance_text,
    random_jobs,
    read_instance,
)

from jssp_sft import Instance, parse_instance, verify  # noqa: E402
from jssp_sft.core.codec import scan_solution  # noqa: E402
from jssp_sft.core.verifier import _find_violations, _passes_fast_checks  # noqa: E402


FAILURES = ("DISAGREE", "CHANGED", "TURNED FEASIBLE", "READ")


@dataclass
class FuzzArguments:
    cases: int = field(default=20000, metadata={"help": "Generated cases; each makes six texts (see the output)."})
    metric_batch: int = field(default=200, metadata={"help": "Texts per evaluate metric call."})
    seed: int = field(default=0)


def _agrees(jobs, num_machines: int, text: str) -> tuple[bool, object]:
    """Whether ``verify`` agrees with the reference checker on ``text``; and verify's report."""
    report = verify(Instance(tuple(tuple(job) for job in jobs), num_machines), text)
    expected = check(jobs, num_machines, text)
    same = report.parsed == expected.parsed and (
        not expected.parsed
        or (report.feasible, report.makespan, report.declared_makespan)
        == (expected.feasible, expected.makespan, expected.declared)
    )
    return same, report


def _instance_reading(text: str) -> tuple[object, object]:
    """``(the codec's reading, the reference's)`` of an instance text: ``(jobs, machines)`` or ``None``."""
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
    return ours, theirs


def main(args: FuzzArguments) -> int:
    import evaluate

    import jssp_sft.metrics

    metric = evaluate.load(jssp_sft.metrics.path("jssp_makespan"))
    rng = random.Random(args.seed)
    counts: Counter = Counter()
    kinds: Counter = Counter()
    instance_kinds: Counter = Counter()
    batch: list[tuple[str, str]] = []
    start = time.perf_counter()

    def flush() -> None:
        predictions, references = zip(*batch)
        result = metric.compute(predictions=list(predictions), references=list(references), return_details=True)
        for (prediction, reference), detail in zip(batch, result["details"]):
            report = verify(parse_instance(reference), prediction)
            same = (detail["parsed"], detail["feasible"], detail["makespan"], detail["declared_makespan"]) == (
                report.parsed,
                report.feasible,
                report.makespan,
                report.declared_makespan,
            )
            counts["metric vs verify: agree" if same else "metric vs verify: DISAGREE"] += 1
        batch.clear()

    for _ in range(args.cases):
        # 1. an answer, mutated by one of every kind
        case = fuzz_case(rng)
        instance = Instance(tuple(tuple(job) for job in case.jobs), case.num_machines)
        kinds[case.kind or "(none)"] += 1
        same, report = _agrees(case.jobs, case.num_machines, case.solution)
        counts["answers: verify vs reference: agree" if same else "answers: verify vs reference: DISAGREE"] += 1
        counts["answers read by the reference"] += check(case.jobs, case.num_machines, case.solution).parsed
        if report.parsed and len(entries := scan_solution(case.solution).entries):
            if _passes_fast_checks(instance, entries):
                sound = _find_violations(instance, entries) == []
                counts[
                    "fast pass accepted, slow pass agrees" if sound else "fast pass accepted: slow pass DISAGREES"
                ] += 1
        batch.append((case.solution, case.instance_text))

        # 2. an instance text, mutated by one of every kind (or not)
        kind = rng.choice(INSTANCE_MUTATIONS) if rng.random() < 0.5 else None
        instance_kinds[kind or "(none)"] += 1
        text = case.instance_text if kind is None else mutate_instance_text(case.instance_text, rng, kind)
        ours, theirs = _instance_reading(text)
        counts[
            "instances: reader vs reference: agree" if ours == theirs else "instances: reader vs reference: DISAGREE"
        ] += 1
        counts["instances read by the reference"] += theirs is not None

        # 3. a line or junction text inserted into a clean (feasible, infeasible or incomplete) answer
        clean = fuzz_case(rng, mutate_probability=0.8, kinds=ROW_MUTATIONS)
        before = verify(Instance(tuple(tuple(job) for job in clean.jobs), clean.num_machines), clean.solution)
        if rng.random() < 0.5:
            inserted = insert_line(clean.solution, inserted_line(rng), rng.choice(line_boundaries(clean.solution)))
        else:
            inserted = insert_junction(clean.solution, rng.choice(JUNCTION_TEXTS), rng)
        same, after = _agrees(clean.jobs, clean.num_machines, inserted)
        counts[
            "insertions into answers: verify vs reference: agree" if same else "insertions into answers: DISAGREE"
        ] += 1
        if before.parsed and not before.feasible:
            counts[
                "insertions into infeasible answers: still not feasible"
                if not after.feasible
                else "insertions into infeasible answers: TURNED FEASIBLE"
            ] += 1
        batch.append((inserted, clean.instance_text))

        # 4. a line or junction text inserted into an instance text
        jobs, num_machines = random_jobs(rng)
        original = instance_text(jobs, num_machines, rng)
        if rng.random() < 0.5:
            mutated = insert_line(original, inserted_line(rng), rng.choice(line_boundaries(original)))
        else:
            mutated = insert_junction(original, rng.choice(JUNCTION_TEXTS), rng)
        ours, theirs = _instance_reading(mutated)
        counts[
            "insertions into instances: reader vs reference: agree"
            if ours == theirs
            else "insertions into instances: DISAGREE"
        ] += 1
        unchanged = ours is None or ours == (tuple(map(tuple, jobs)), num_machines)
        counts[
            "insertions into instances: same instance or refused"
            if unchanged
            else "insertions into instances: instance CHANGED"
        ] += 1

        # 5. well-formed candidate lines inserted: the verdict stays; 6. a malformed one: the answer does not read
        with_lines = clean.solution
        for _ in range(rng.randint(1, 5)):
            with_lines = insert_line(with_lines, candidate_line(rng), rng.choice(line_boundaries(with_lines)))
        same, report = _agrees(clean.jobs, clean.num_machines, with_lines)
        kept = (report.parsed, report.feasible, report.makespan, report.declared_makespan, report.counts()) == (
            before.parsed,
            before.feasible,
            before.makespan,
            before.declared_makespan,
            before.counts(),
        )
        counts["candidate lines: verdict unchanged" if kept and same else "candidate lines: verdict CHANGED"] += 1
        bad = insert_line(with_lines, rng.choice(BAD_CANDIDATE_LINES), rng.choice(line_boundaries(with_lines)))
        same, report = _agrees(clean.jobs, clean.num_machines, bad)
        counts[
            "malformed candidate line: unparseable" if same and not report.parsed else "malformed candidate line: READ"
        ] += 1
        batch.append((with_lines, clean.instance_text))
        counts["texts"] += 6
        if len(batch) >= args.metric_batch:
            flush()
    if batch:
        flush()
    elapsed = time.perf_counter() - start
    print(f"fuzz: {args.cases} cases, {counts.pop('texts')} texts, seed {args.seed}, {elapsed:.0f} s")
    for name, value in sorted(counts.items()):
        print(f"  {name:60} {value:>7}")
    print("  answer mutations: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())))
    print("  instance mutations: " + ", ".join(f"{kind} {n}" for kind, n in sorted(instance_kinds.items())))
    failed = sum(value for name, value in counts.items() if any(word in name for word in FAILURES))
    print(f"  disagreements and broken guarantees: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*HfArgumentParser(FuzzArguments).parse_args_into_dataclasses()))
