"""How the data's own solutions fare under the verifier: feasibility and makespan-match rates, violation counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from ..core.codec import parse_instance
from ..core.scoring import verify_prediction
from .validation import MAX_PROBLEMS_SHOWN


if TYPE_CHECKING:
    from datasets import Dataset


@dataclass
class OutputQuality:
    """How the data's own solutions fare under the verifier (the Starjob records are CP-SAT solutions)."""

    num_records: int = 0
    num_parsed: int = 0
    num_feasible: int = 0
    num_declaring_makespan: int = 0
    num_makespan_matches: int = 0
    violations: dict[str, int] = field(default_factory=dict)
    # (index, first violation message) of the first infeasible or mismatching records
    examples: list[tuple[int, str]] = field(default_factory=list)

    @property
    def feasible_rate(self) -> float | None:
        return self.num_feasible / self.num_records if self.num_records else None

    @property
    def makespan_match_rate(self) -> float | None:
        """Records whose declared makespan equals the schedule's, over all records (as ``score_predictions``)."""
        return self.num_makespan_matches / self.num_records if self.num_records else None

    def to_dict(self) -> dict:
        return {**asdict(self), "feasible_rate": self.feasible_rate, "makespan_match_rate": self.makespan_match_rate}


_COLUMNS = ("parsed", "feasible", "declared", "matches", "kinds", "message")


def _verify_batch(batch: dict[str, list]) -> dict[str, list]:
    out: dict[str, list] = {name: [] for name in _COLUMNS}
    for text, output, num_machines in zip(batch["input"], batch["output"], batch["num_machines"]):
        report = verify_prediction(parse_instance(text, num_machines=num_machines), output)
        out["parsed"].append(report.parsed)
        out["feasible"].append(report.feasible)
        out["declared"].append(report.declared_makespan is not None)
        out["matches"].append(report.makespan_matches is True)
        out["kinds"].append([v.kind for v in report.violations])
        out["message"].append(report.violations[0].message if report.violations else None)
    return out


def check_outputs(
    dataset: Dataset,
    num_proc: int | None = None,
    source_indices: Sequence[int] | None = None,
    max_examples: int = MAX_PROBLEMS_SHOWN,
) -> OutputQuality:
    """Verify each (valid) record's ``output`` against its ``input`` and count feasibility and makespan matches.

    ``quality.examples`` name records by ``source_indices[i]`` when given (their index before invalid ones were
    dropped), else by their position in ``dataset``. An empty dataset gives zero counts.
    """
    quality = OutputQuality(num_records=len(dataset))
    if len(dataset) == 0:
        return quality
    checked = dataset.map(
        _verify_batch,
        batched=True,
        remove_columns=dataset.column_names,
        num_proc=num_proc,
        desc="Verifying outputs",
    )
    columns = checked.with_format("arrow")[:]
    quality.num_parsed = sum(columns["parsed"].to_pylist())
    quality.num_feasible = sum(columns["feasible"].to_pylist())
    quality.num_declaring_makespan = sum(columns["declared"].to_pylist())
    quality.num_makespan_matches = sum(columns["matches"].to_pylist())
    violations: Counter = Counter()
    for kinds in columns["kinds"].to_pylist():
        violations.update(kinds)
    quality.violations = dict(sorted(violations.items()))
    for i, message in enumerate(columns["message"].to_pylist()):
        if message is not None and len(quality.examples) < max_examples:
            quality.examples.append((i if source_indices is None else source_indices[i], message))
    return quality
