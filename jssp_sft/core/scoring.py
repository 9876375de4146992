"""Score model outputs against problems: the logic behind the ``jssp_makespan`` metric, rewards and callbacks.

One plain function, so the ``evaluate`` module, the training callback and the GRPO rewards share one definition.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .codec import parse_instance
from .instance import Instance
from .verifier import Report, unparseable_report, verify


def gap(makespan: float, reference: float) -> float:
    """Relative gap ``(makespan - reference) / reference`` (0.1 means 10% above the reference)."""
    return (makespan - reference) / reference


class InstanceCache:
    """Parses each distinct problem text once (a batch often repeats a prompt: best-of-N, GRPO groups)."""

    def __init__(self):
        self._cache: dict[str, Instance] = {}

    def get(self, text: str) -> Instance:
        instance = self._cache.get(text)
        if instance is None:
            instance = self._cache[text] = parse_instance(text)
        return instance


@dataclass(frozen=True)
class NotText:
    """Stands for a prediction that was not a string (the ``evaluate`` metric carries it as a marker string)."""

    type_name: str


def verify_prediction(instance: Instance, prediction) -> Report:
    """``verify`` for untrusted model output: never raises, whatever ``prediction`` is."""
    if not isinstance(prediction, str):
        name = prediction.type_name if isinstance(prediction, NotText) else type(prediction).__name__
        return unparseable_report(f"expected the output text, got {name}")
    try:
        return verify(instance, prediction)
    except Exception as err:  # noqa: BLE001 - a metric must survive any model output
        return unparseable_report(f"{type(err).__name__}: {err}")


def score_predictions(
    predictions: Sequence,
    references: Sequence[str | Instance],
    reference_makespans: Sequence[float | None] | None = None,
    return_details: bool = False,
) -> dict:
    """Verify each prediction against its problem and aggregate.

    ``references`` are the problems (a record's ``input``, a whole prompt, or an ``Instance``);
    ``reference_makespans`` (optional, per example, ``None`` allowed) enable ``mean_gap`` and ``optimal_rate``.
    Returns ``n``, ``parse_rate``, ``feasible_rate``, ``makespan_match_rate`` and ``valid_rate`` (over all examples),
    ``mean_makespan`` and ``mean_gap`` (over feasible examples; ``None`` when there are none), ``optimal_rate``
    (feasible with makespan <= reference, over examples that have a reference) and ``violations`` (kind -> count).
    Never raises on predictions; raises ``ValueError`` naming the index of a malformed reference.
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if reference_makespans is not None and (
        isinstance(reference_makespans, str) or not hasattr(reference_makespans, "__len__")
    ):
        raise ValueError(
            f"reference_makespans must be a list (one per example), got {type(reference_makespans).__name__}"
        )
    if reference_makespans is not None and len(reference_makespans) != len(references):
        raise ValueError(f"{len(reference_makespans)} reference_makespans but {len(references)} references")
    cache = InstanceCache()
    reports, refs = [], []
    for i, (prediction, reference) in enumerate(zip(predictions, references)):
        if not isinstance(reference, (str, Instance)):
            raise ValueError(f"references[{i}] must be the problem text, got {type(reference).__name__}")
        try:
            instance = reference if isinstance(reference, Instance) else cache.get(reference)
        except (ValueError, TypeError) as err:
            raise ValueError(f"references[{i}] is not a JSSP problem: {err}") from None
        ref = None if reference_makespans is None else check_reference_makespan(reference_makespans[i], i)
        reports.append(verify_prediction(instance, prediction))
        refs.append(ref)
    return summarize_reports(reports, refs, return_details)


def check_reference_makespan(value, index: int) -> float | None:
    """A reference makespan as given (``None``: no reference for this example); ``ValueError`` naming the index
    when it is not a finite positive number (a string, a bool, inf, nan, 0 or less)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"reference_makespans[{index}] must be positive and finite (or None), got {value!r} "
            f"({type(value).__name__})"
        )
    return value


def summarize_reports(reports: Sequence[Report], refs: Sequence[float | None], return_details: bool = False) -> dict:
    """Aggregate already computed reports (the metric's numbers, from any source of reports)."""
    n = len(reports)
    feasible = [r for r in reports if r.feasible]
    gaps = [gap(r.makespan, ref) for r, ref in zip(reports, refs) if r.feasible and ref is not None]
    with_ref = [(r, ref) for r, ref in zip(reports, refs) if ref is not None]
    violations = Counter()
    for report in reports:
        violations.update(report.counts())
    result = {
        "n": n,
        "parse_rate": rate(sum(r.parsed for r in reports), n),
        "feasible_rate": rate(len(feasible), n),
        "makespan_match_rate": rate(sum(r.makespan_matches is True for r in reports), n),
        "valid_rate": rate(sum(r.valid for r in reports), n),
        "mean_makespan": mean([r.makespan for r in feasible]),
        "mean_gap": mean(gaps),
        "optimal_rate": rate(sum(r.feasible and r.makespan <= ref for r, ref in with_ref), len(with_ref)),
        "violations": dict(sorted(violations.items())),
    }
    if return_details:
        result["details"] = [
            {**r.to_dict(), "reference_makespan": ref, "gap": gap(r.makespan, ref) if r.feasible and ref else None}
            for r, ref in zip(reports, refs)
        ]
    return result


def rate(count: int, total: int) -> float | None:
    """``count / total``, or ``None`` when there is nothing to count (one definition for every report)."""
    return count / total if total else None


def mean(values: Sequence[float]) -> float | None:
    """The mean, or ``None`` for no values (one definition for every report)."""
    return sum(values) / len(values) if values else None
