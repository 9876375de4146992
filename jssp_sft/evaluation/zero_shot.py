"""Size generalisation: a trained model on fresh instances of several sizes and on Taillard's, beside its controls.

Each test set (``TestSet``: instances and the makespans gaps are measured against) is scored with guaranteed decoding
in the run's answer format, greedy and best of N, beside, on the same instances:

- the seeded random policy of the same decoder (uniform among the choices the model is given: the ``top_k`` listed
  candidates in the candidates format, every unfinished job otherwise) at N=1 and N, and the uniform pick among
  every unfinished job;
- every dispatching rule in both variants (insertion, non-delay), the best one named, and the per-instance best of
  them all;
- the paired difference between the model's greedy gap and the best rule's, with two standard errors, so that a
  claim of "below the best rule" carries its spread over the instances.

Fresh sets are CP-SAT-labelled by the data generator with a deterministic budget (the same references on every
machine), cached in a directory; their gaps are to CP-SAT's makespan (optimal where it proved it, the count is
printed). Taillard's are to the best known makespans.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core.instance import Instance
from ..core.scoring import gap, mean


VARIANTS = ("insertion", "non_delay")


@dataclass
class TestSet:
    """Instances to score and the makespan each gap is measured against (``reference`` says what they are)."""

    name: str
    instances: list[Instance]
    references: list[int]
    reference: str

    def __post_init__(self):
        if not self.instances or len(self.instances) != len(self.references):
            raise ValueError(f"test set {self.name!r}: {len(self.instances)} instances, {len(self.references)} refs")


def generated_test_set(
    size: str,
    count: int,
    directory: str | Path,
    seed: int = 11,
    max_duration: int = 99,
    deterministic_time: float = 5.0,
    num_proc: int = 2,
) -> TestSet:
    """``count`` fresh ``size`` instances (durations 1..``max_duration``, generator ``seed``), solved by CP-SAT
    within ``deterministic_time`` deterministic seconds each; built once under ``directory`` and then reused."""
    import json

    from ..core.codec import parse_instance
    from ..data.generator import ensure_default_dataset

    path = ensure_default_dataset(
        directory,
        progress=True,
        sizes=size,
        num_instances=count,
        seed=seed,
        min_duration=1,
        max_duration=max_duration,
        instance_generator="taillard",
        time_limit=10 * deterministic_time,
        deterministic_time_limit=deterministic_time,
        num_proc=num_proc,
    )
    records = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    optimal = sum(r["solver_status"] == "OPTIMAL" for r in records)
    return TestSet(
        size,
        [parse_instance(r["input"], num_machines=r["num_machines"]) for r in records],
        [int(r["makespan"]) for r in records],
        f"CP-SAT within {deterministic_time:g} deterministic s (optimal on {optimal}/{len(records)})",
    )


def benchmark_test_set(names: Sequence[str], label: str | None = None) -> TestSet:
    """Benchmark instances (``ta01``, ...) with their best known makespans."""
    from ..benchmarks.instances import load_benchmark

    loaded = [load_benchmark(name) for name in names]
    return TestSet(
        label or f"{names[0]}-{names[-1]}",
        [instance for instance, _ in loaded],
        [info.upper_bound for _, info in loaded],
        "best known makespans",
    )


@dataclass
class SetScores:
    """Mean gaps (fractions) on one test set."""

    name: str
    size: str
    instances: int
    reference: str
    model_greedy: float
    model_best_of_n: float | None
    random_same_decoder: dict[int, float]
    random_any_job: float
    rules: dict[str, float]
    best_rule: str
    best_of_rules: float
    greedy_minus_best_rule: float  # paired, mean over instances
    greedy_minus_best_rule_2se: float
    best_of_n: int
    first_listed: float | None = None  # candidates format: always the line's first entry
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def paired_difference(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Mean of ``a - b`` and two standard errors of it."""
    diffs = [x - y for x, y in zip(a, b)]
    m = mean(diffs)
    if len(diffs) < 2:
        return m, float("nan")
    variance = sum((d - m) ** 2 for d in diffs) / (len(diffs) - 1)
    return m, 2 * math.sqrt(variance / len(diffs))


def every_rule_gaps(test_set: TestSet) -> dict[str, list[float]]:
    """Each dispatching rule in each variant (``"RULE (variant)"``) -> its gap on each instance of ``test_set``."""
    from ..solvers.dispatching import RULES, dispatching_rule
    from .baselines import rule_name

    pairs = list(zip(test_set.instances, test_set.references))
    return {
        rule_name(rule, variant): [gap(dispatching_rule(i, rule, variant).makespan, r) for i, r in pairs]
        for variant in VARIANTS
        for rule in RULES
    }


def score_test_set(
    model,
    tokenizer,
    prompt_format,
    test_set: TestSet,
    best_of: int = 8,
    seed: int = 0,
    batch_size: int = 16,
    show_progress: bool = False,
) -> SetScores:
    """The model (guaranteed decoding, greedy and best of ``best_of``) and every control on ``test_set``."""
    import time

    from ..solve.guaranteed import guaranteed_generate
    from ..solve.sampling import SamplingSettings
    from ..solvers.controls import first_listed_control, random_control

    started = time.perf_counter()
    instances, references = test_set.instances, test_set.references
    prompts = [prompt_format.prompt_text(instance, tokenizer) for instance in instances]
    decoding = prompt_format.decoding_options()
    greedy = guaranteed_generate(
        model,
        tokenizer,
        prompts,
        1,
        SamplingSettings(do_sample=False),
        batch_size,
        instances=instances,
        show_progress=show_progress,
        **decoding,
    )
    greedy_gaps = [gap(row[0].makespan, ref) for row, ref in zip(greedy.schedules, references)]
    best_gaps = None
    if best_of > 1:
        sampled = guaranteed_generate(
            model,
            tokenizer,
            prompts,
            best_of,
            SamplingSettings(temperature=1.0),
            batch_size,
            seed=seed,
            instances=instances,
            show_progress=show_progress,
            **decoding,
        )
        best_gaps = [gap(min(s.makespan for s in row), ref) for row, ref in zip(sampled.schedules, references)]
    top_k = prompt_format.choice_top_k
    counts = sorted({1, best_of})
    same_decoder = {n: [] for n in counts}
    for instance, ref in zip(instances, references):
        drawn = random_control(instance, counts[-1], seed=seed, top_k=top_k).makespans
        for n in counts:
            same_decoder[n].append(gap(min(drawn[:n]), ref))
    # without a top k the decoder's random pick is already among every unfinished job
    any_job = (
        [gap(random_control(i, 1, seed=seed).makespan, r) for i, r in zip(instances, references)]
        if top_k
        else same_decoder[1]
    )
    first_listed = None
    if prompt_format.candidates:
        fmt, placement = prompt_format.candidate_format, prompt_format.placement
        first_listed = mean(
            [gap(first_listed_control(i, fmt, placement).makespan, r) for i, r in zip(instances, references)]
        )
    rule_gaps = every_rule_gaps(test_set)
    means = {name: mean(values) for name, values in rule_gaps.items()}
    best_rule = min(means, key=means.get)
    per_instance_best = [min(values[k] for values in rule_gaps.values()) for k in range(len(instances))]
    difference, spread = paired_difference(greedy_gaps, rule_gaps[best_rule])
    return SetScores(
        name=test_set.name,
        size=_size(instances),
        instances=len(instances),
        reference=test_set.reference,
        model_greedy=mean(greedy_gaps),
        model_best_of_n=mean(best_gaps) if best_gaps else None,
        random_same_decoder={n: mean(values) for n, values in same_decoder.items()},
        random_any_job=mean(any_job),
        rules=means,
        best_rule=best_rule,
        best_of_rules=mean(per_instance_best),
        greedy_minus_best_rule=difference,
        greedy_minus_best_rule_2se=spread,
        best_of_n=best_of,
        first_listed=first_listed,
        seconds=time.perf_counter() - started,
    )


def _size(instances: Sequence[Instance]) -> str:
    sizes = sorted({f"{i.num_jobs}x{i.num_machines}" for i in instances})
    return sizes[0] if len(sizes) == 1 else ", ".join(sizes)


def _pct(value: float | None) -> str:
    return "-" if value is None or value != value else f"{100 * value:.1f}"


def panel_lines(scores: Sequence[SetScores], top_k: int = 0) -> list[str]:
    """The panel as text lines: one column per test set, mean gaps in percent."""
    if not scores:
        return []
    n = scores[0].best_of_n
    decoder = f"top-{top_k} candidates" if top_k else "any unfinished job"
    rows: list[tuple[str, list[str]]] = [
        ("mean gap %", [s.name for s in scores]),
        ("model, greedy", [_pct(s.model_greedy) for s in scores]),
    ]
    if n > 1:
        rows.append((f"model, best of {n}", [_pct(s.model_best_of_n) for s in scores]))
    rows.append((f"random ({decoder}), 1 sample", [_pct(s.random_same_decoder.get(1)) for s in scores]))
    if n > 1:
        rows.append((f"random ({decoder}), best of {n}", [_pct(s.random_same_decoder.get(n)) for s in scores]))
    if top_k:  # otherwise the same decoder's random pick is this one
        rows.append(("random (any unfinished job), 1 sample", [_pct(s.random_any_job) for s in scores]))
    if any(s.first_listed is not None for s in scores):
        rows.append(("first listed entry, always", [_pct(s.first_listed) for s in scores]))
    rows += [
        ("best single rule (per column)", [_pct(s.rules[s.best_rule]) for s in scores]),
        ("best of all rules, per instance", [_pct(s.best_of_rules) for s in scores]),
        (
            "model greedy - best rule (paired, +-2 s.e.)",
            [f"{100 * s.greedy_minus_best_rule:+.1f}+-{100 * s.greedy_minus_best_rule_2se:.1f}" for s in scores],
        ),
    ]
    width = max(len(name) for name, _ in rows)
    cells = [max(len(row[1][k]) for row in rows) for k in range(len(scores))]
    lines = [
        f"  {name:<{width}}  " + "  ".join(f"{value:>{cells[k]}}" for k, value in enumerate(values))
        for name, values in rows
    ]
    lines += [f"  {s.name}: best rule {s.best_rule}; {s.instances} instances, gaps to {s.reference}" for s in scores]
    return lines
