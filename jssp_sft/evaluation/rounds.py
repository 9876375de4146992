"""The report of ``jssp-sft improve``: each round's model on a fixed held-out set beside the controls (the random
policy at the same N, the best dispatching rule, CP-SAT as the reference), as rows in ``rounds.json``, a Markdown
table (``rounds.md``), a chart (``gap_per_round.png``) and the ``report_to`` trackers."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..core.scoring import gap
from ..solve import Problem
from ..solve.self_labeling import write_atomic


logger = logging.getLogger(__name__)

ROWS_FILE = "rounds.json"
TABLE_FILE = "rounds.md"
PLOT_FILE = "gap_per_round.png"
CONTROLS_FILE = "controls.json"


# ---------------------------------------------------------------------------------------------------- controls


@dataclass
class HeldOutControls:
    """The controls on the held-out set, per instance: the random policy's best of 1 and of N (same placement as
    guaranteed decoding), the best dispatching rule, and CP-SAT (the reference: its makespan and whether optimal)."""

    num_samples: int
    seed: int
    ids: list[str]
    reference: list[float]
    reference_optimal: list[bool | None]
    random_1: list[int]
    random_n: list[int]
    best_rule: list[int]

    def summary(self) -> dict:
        """Mean gaps to the reference (CP-SAT), and CP-SAT's share of proven optima."""
        optimal = [o for o in self.reference_optimal if o is not None]

        def mean_gap(makespans):
            return sum(gap(m, b) for m, b in zip(makespans, self.reference)) / len(self.reference)

        return {
            "random_1_gap": mean_gap(self.random_1),
            f"random_{self.num_samples}_gap": mean_gap(self.random_n),
            "best_rule_gap": mean_gap(self.best_rule),
            "cpsat_gap": 0.0,
            "cpsat_optimal_rate": sum(optimal) / len(optimal) if optimal else None,
        }


def held_out_controls(problems: Sequence[Problem], num_samples: int, seed: int = 0) -> HeldOutControls:
    """Run the controls on the held-out problems (each needs a ``bound``: its CP-SAT makespan)."""
    from ..solvers.controls import best_dispatching_rule, random_control

    missing = [p.id for p in problems if not p.bound]
    if missing:
        raise ValueError(f"held-out problems need a reference makespan; none for {', '.join(missing[:5])}")
    random_1, random_n, rule = [], [], []
    for problem in problems:
        random_1.append(random_control(problem.instance, 1, seed).makespan)
        random_n.append(random_control(problem.instance, num_samples, seed).makespan)
        rule.append(best_dispatching_rule(problem.instance)[1].makespan)
    return HeldOutControls(
        num_samples,
        seed,
        [p.id for p in problems],
        [float(p.bound) for p in problems],
        [p.bound_optimal for p in problems],
        random_1,
        random_n,
        rule,
    )


def load_or_run_controls(path: str | Path, problems: Sequence[Problem], num_samples: int, seed: int):
    """The controls cached in ``path`` when they were run on the same problems with the same N and seed."""
    path = Path(path)
    if path.is_file():
        names = {f.name for f in fields(HeldOutControls)}
        cached = HeldOutControls(**{k: v for k, v in json.loads(path.read_text()).items() if k in names})
        if cached.ids == [p.id for p in problems] and (cached.num_samples, cached.seed) == (num_samples, seed):
            return cached
    controls = held_out_controls(problems, num_samples, seed)
    write_atomic(path, json.dumps(asdict(controls)) + "\n")
    return controls


# -------------------------------------------------------------------------------------------------- evaluation


def evaluate_solver(
    solver, problems: Sequence[Problem], num_samples: int, temperature: float, decoding: str, seed: int
):
    """The model on the held-out problems: greedy (one answer) and best of ``num_samples`` sampled answers
    (``best_of_n_*``), with ``decoding``; mean gap to the reference over all problems (an instance with no feasible answer counts as
    unanswered: the gaps are then over the answered ones and ``*_feasible_rate`` says how many)."""
    out = {}
    for name, n, temp in (("greedy", 1, 0.0), ("best_of_n", num_samples, temperature)):
        results = solver.solve_many(
            problems, show_progress=True, num_samples=n, temperature=temp, decoding=decoding, seed=seed
        )
        gaps = [r.gap for r in results if r.gap is not None]
        out[f"{name}_gap"] = sum(gaps) / len(gaps) if gaps else None
        out[f"{name}_feasible_rate"] = sum(r.makespan is not None for r in results) / len(results)
        out[f"{name}_optimal_rate"] = sum(g <= 1e-9 for g in gaps) / len(results)
    return out


# ------------------------------------------------------------------------------------------------------- rows


ROW_COLUMNS = (
    ("round", "round"),
    ("train_records", "records"),
    ("replay_records", "replay"),
    ("train_steps", "steps"),
    ("feasible_sample_rate", "feasible samples"),
    ("label_vs_random", "label vs random@N"),
    ("greedy_gap", "greedy gap"),
    ("best_of_n_gap", "best-of-N gap"),
    ("random_1_gap", "random@1 gap"),
    ("random_n_gap", "random@N gap"),
    ("best_rule_gap", "best rule gap"),
    ("cpsat_gap", "CP-SAT gap"),
    ("sampling_seconds", "sampling s"),
    ("training_seconds", "training s"),
)


def _cell(key: str, value) -> str:
    if value is None:
        return "-"
    if key.endswith("_gap") or key in ("feasible_sample_rate", "label_vs_random"):
        return f"{100 * value:+.1f}%" if key == "label_vs_random" else f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


def rows_table(rows: Sequence[dict]) -> str:
    """The rounds as a Markdown table (gaps in %, to CP-SAT on the held-out set)."""
    header = "| " + " | ".join(title for _, title in ROW_COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in ROW_COLUMNS) + "|"
    lines = [header, rule]
    for row in rows:
        lines.append("| " + " | ".join(_cell(key, row.get(key)) for key, _ in ROW_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def write_rounds(output_dir: str | Path, rows: Sequence[dict], num_samples: int) -> None:
    """Every row so far as ``rounds.json``, ``rounds.md`` and ``gap_per_round.png`` in ``output_dir``."""
    from .plots import rounds_chart

    output_dir = Path(output_dir)
    write_atomic(output_dir / ROWS_FILE, json.dumps(list(rows), indent=2) + "\n")
    write_atomic(output_dir / TABLE_FILE, rows_table(rows))
    rounds_chart(rows, output_dir / PLOT_FILE, num_samples)


class RoundTrackers:
    """One row per round to the trackers ``report_to`` names (tensorboard, trackio, wandb, ...), through accelerate's
    tracker classes (``accelerate.tracking``), the round number standing as the step. No ``Accelerator`` is made, so
    the rounds' trainers set up accelerate's shared state as usual; a ``report_to`` name accelerate has no tracker for
    is named in a warning and skipped."""

    def __init__(self, training_args, project_name: str = "improve"):
        from accelerate.tracking import LOGGER_TYPE_TO_CLASS, filter_trackers

        names = [str(name) for name in training_args.report_to]
        unknown = [name for name in names if name not in LOGGER_TYPE_TO_CLASS]
        if unknown:
            logger.warning("improve's rows go to accelerate's trackers, which have none for %s", ", ".join(unknown))
        self.trackers = []
        for name in filter_trackers([n for n in names if n not in unknown], training_args.output_dir):
            tracker_class = LOGGER_TYPE_TO_CLASS[str(name)]
            if tracker_class.requires_logging_directory:
                tracker = tracker_class(project_name, training_args.output_dir)
            else:
                tracker = tracker_class(project_name)
            tracker.start()
            self.trackers.append(tracker)

    def log(self, row: dict) -> None:
        values = {f"improve/{k}": v for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        for tracker in self.trackers:
            tracker.log(values, step=int(row["round"]))

    def close(self) -> None:
        for tracker in self.trackers:
            tracker.finish()
