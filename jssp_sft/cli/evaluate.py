"""``jssp-sft evaluate``: a report on solve results beside dispatching rules, CP-SAT and published rows.

    jssp-sft evaluate --results results.jsonl --output_dir eval/
    jssp-sft evaluate --results free.jsonl guaranteed.jsonl --labels free guaranteed --output_dir eval/
    jssp-sft evaluate --model outputs/run --benchmark ta:15x15 --num_samples 20 --output_dir eval/   # solve first
    jssp-sft evaluate --model outputs/run --benchmark ta:15x15 --compare_decodings --output_dir eval/  # free, +repair,
                                                                                                        # guaranteed

Writes ``report.md``, ``report.json``, ``gap_by_size.png``, ``lift.png`` and a Gantt chart of one best schedule.
Every method stands beside the random control at the same N (its lift is the headline), round robin, the best fixed
job order per size, the dispatching rules (the best one named) and CP-SAT.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from ..evaluation.arguments import EvaluateArguments
from ..evaluation.report import evaluate
from ..solve.config import SolveConfig
from .solve import SolveArguments, run_solve


logger = logging.getLogger(__name__)


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((EvaluateArguments, SolveArguments, SolveConfig), prog=prog)


def main(args: EvaluateArguments, solve_args: SolveArguments, config: SolveConfig) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if solve_args.model is not None and args.compare_decodings:
        # One free run with repair (its samples also give the row without repair) and one guaranteed run.
        stem = Path(solve_args.output or Path(args.output_dir) / "results.jsonl")
        for decoding, repair in (("free", True), ("guaranteed", False)):
            run_args = dataclasses.replace(solve_args, output=str(stem.with_name(f"{stem.stem}-{decoding}.jsonl")))
            run_solve(run_args, config.replace(decoding=decoding, repair=repair))
            args.results = [*args.results, run_args.output]
    elif solve_args.model is not None:
        solve_args.output = solve_args.output or str(Path(args.output_dir) / "results.jsonl")
        run_solve(solve_args, config)
        args.results = [*args.results, solve_args.output]
    report = evaluate(args)
    print(f"{args.output_dir}/report.md: {len(report['methods'])} method(s), {len(report['instances'])} instances")
    for group, entry in report["groups"].items():
        for label, data in entry["methods"].items():
            s = data["sizes"].get("all")
            if s:
                gap = "-" if s["mean_gap"] is None else f"{100 * s['mean_gap']:.2f}%"
                print(f"  {group} / {label}: feasible {100 * s['feasible_rate']:.0f}%, mean gap (answered) {gap}")
            for point in data["lift"]:
                print(f"    {lift_text(point)}")
        if entry["best_rule"]:
            best = entry["baselines"][entry["best_rule"]]["all"]["mean_gap"]
            print(f"  {group} / best dispatching rule {entry['best_rule']}: mean gap {100 * best:.2f}%")
    return 0


def lift_text(point: dict) -> str:
    """One headline line: the model's and the random control's gap at the same N, and the lift."""
    if point["lift"] is None:
        return f"N={point['n']}: no answered instance, no lift"
    return (
        f"N={point['n']}: gap {100 * point['model_gap']:.2f}% vs random control {100 * point['random_gap']:.2f}% "
        f"on {point['instances']}/{point['scored']} answered: lift {100 * point['lift']:+.2f} points"
    )
