"""A method's numbers over a set of instances, from the samples' stored verdicts: outcomes, summaries, curves, lift.

An instance counts as feasible when any sample is feasible as written; repaired answers are counted apart; the valid
rate is the paper's criterion (feasible and the declared makespan right). Gaps are over answered instances, or over
all of them with a fallback makespan standing in for the unanswered ones. The lift compares a method with the random
control on the very instances the method answered, from the same number of samples.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from ..core.scoring import gap, mean, rate
from ..solve.results import REPAIRED, WRITTEN


@dataclass(frozen=True)
class Outcome:
    """One instance under one method, from its first ``n`` samples."""

    feasible: bool  # some sample feasible as written
    valid: bool  # some sample feasible and declaring its makespan right
    makespan: int | None  # the best answer's (as written or repaired)
    source: str | None  # WRITTEN, REPAIRED or None


def outcome(line: dict, n: int | None = None) -> Outcome:
    """The best answer among the first ``n`` samples of a results line (all samples when ``n`` is None): the lowest
    makespan, feasible as written or repaired, ties to the written one (``jssp_sft.solve.results.choose_best``'s rule)."""
    samples = line["samples"][:n]
    answers = []
    for s in samples:
        if s["feasible"]:
            answers.append((s["makespan"], 0))
        elif s.get("repaired_makespan") is not None:
            answers.append((s["repaired_makespan"], 1))
    best = min(answers) if answers else None
    return Outcome(
        feasible=any(s["feasible"] for s in samples),
        valid=any(s["feasible"] and s["makespan_matches"] is True for s in samples),
        makespan=None if best is None else best[0],
        source=None if best is None else (WRITTEN if best[1] == 0 else REPAIRED),
    )


def curve_points(num_samples: int) -> list[int]:
    """1, 2, 4, ... up to ``num_samples``, which is always included."""
    points = [2**k for k in range(int(math.log2(num_samples)) + 1)] if num_samples >= 1 else []
    return points if points and points[-1] == num_samples else [*points, num_samples]


@dataclass
class Summary:
    """A method's numbers over a set of instances (see the module docstring); rates are fractions, gaps too."""

    instances: int
    feasible_rate: float | None
    repaired_rate: float | None
    answered_rate: float | None
    valid_rate: float | None
    mean_gap: float | None  # over answered instances with a bound
    mean_gap_all: float | None  # over every instance with a bound, the fallback standing in for unanswered ones
    optimal_rate: float | None  # answered with makespan <= bound, over instances with a bound
    sample_feasible_rate: float | None
    mean_tokens: float | None
    mean_seconds: float | None
    num_samples: int

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(lines: Sequence[dict], fallback: Mapping[str, int] | None = None, n: int | None = None) -> Summary:
    """A method's numbers over ``lines`` using the first ``n`` samples; ``fallback`` maps id -> makespan."""
    fallback = fallback or {}
    outcomes = [outcome(line, n) for line in lines]
    bounded = [(line, o) for line, o in zip(lines, outcomes) if line.get("bound")]
    gaps = [gap(o.makespan, line["bound"]) for line, o in bounded if o.makespan is not None]
    gaps_all = []
    for line, o in bounded:
        makespan = o.makespan if o.makespan is not None else fallback.get(line["id"])
        if makespan is None:
            gaps_all = None
            break
        gaps_all.append(gap(makespan, line["bound"]))
    samples = [s for line in lines for s in line["samples"][:n]]
    optimal = sum(o.makespan is not None and o.makespan <= line["bound"] for line, o in bounded)
    return Summary(
        instances=len(lines),
        feasible_rate=rate(sum(o.feasible for o in outcomes), len(lines)),
        repaired_rate=rate(sum(o.source == REPAIRED for o in outcomes), len(lines)),
        answered_rate=rate(sum(o.makespan is not None for o in outcomes), len(lines)),
        valid_rate=rate(sum(o.valid for o in outcomes), len(lines)),
        mean_gap=mean(gaps),
        mean_gap_all=mean(gaps_all) if gaps_all is not None else None,
        optimal_rate=rate(optimal, len(bounded)),
        sample_feasible_rate=rate(sum(s["feasible"] for s in samples), len(samples)),
        mean_tokens=mean([s["tokens"] for s in samples]),
        mean_seconds=mean([sum(s["seconds"] for s in line["samples"][:n]) for line in lines]),
        num_samples=min((len(line["samples"]) for line in lines), default=0) if n is None else n,
    )


def baseline_summary(lines: Sequence[dict], makespans: Mapping[str, int]) -> dict:
    """A baseline's mean gap and optimal rate over ``lines`` (its makespans by instance id)."""
    bounded = [line for line in lines if line.get("bound") and line["id"] in makespans]
    return {
        "instances": len([line for line in lines if line["id"] in makespans]),
        "mean_gap": mean([gap(makespans[line["id"]], line["bound"]) for line in bounded]),
        "optimal_rate": rate(sum(makespans[line["id"]] <= line["bound"] for line in bounded), len(bounded)),
    }


def lift(lines: Sequence[dict], random_makespans: Mapping[str, int], n: int) -> dict:
    """The method's lift over the random control from ``n`` samples each: the random control's mean gap minus the
    method's, both over the instances the method answered (paired, so unanswered instances favour neither side)."""
    pairs = [
        (outcome(line, n).makespan, random_makespans[line["id"]], line["bound"])
        for line in lines
        if line.get("bound") and line["id"] in random_makespans
    ]
    answered = [(mine, control, bound) for mine, control, bound in pairs if mine is not None]
    model_gap = mean([gap(mine, bound) for mine, _, bound in answered])
    random_gap = mean([gap(control, bound) for _, control, bound in answered])
    return {
        "n": n,
        "instances": len(answered),
        "scored": len(pairs),
        "model_gap": model_gap,
        "random_gap": random_gap,
        "lift": None if model_gap is None else random_gap - model_gap,
    }
