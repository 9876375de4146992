"""``jssp-sft evaluate``: a report on solve results beside dispatching rules, CP-SAT and published rows.

    jssp-sft evaluate --results outputs/rule.jsonl --output_dir outputs/eval
    jssp-sft evaluate --results free.jsonl guaranteed.jsonl --labels free guaranteed --output_dir outputs/eval
    jssp-sft evaluate --benchmark ta:15x15 --method fdd/mwkr --output_dir outputs/eval      # solve first, no model
    jssp-sft evaluate --model outputs/run --benchmark ta:15x15 --num_samples 20 --output_dir outputs/eval
    jssp-sft evaluate --model outputs/run --benchmark ta:15x15 --compare_decodings --output_dir outputs/eval

With ``--benchmark``/``--dataset`` it first runs ``jssp-sft solve`` (any ``--method``; its options apply) into
``--output``, else ``<output_dir>/results.jsonl`` (a model) or ``results-<method>.jsonl``. Writes ``report.md``,
``report.json``, ``gap_by_size.png``, ``lift.png`` and a Gantt chart of one best schedule. Every method stands beside
the random control at the same N (its lift is the headline), round robin, the best fixed job order per size, the
dispatching rules (the best one named) and CP-SAT.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

from ..evaluation.arguments import EvaluateArguments
from ..evaluation.report import evaluate
from ..solve.config import SolveConfig, SolverModelArguments
from ..solvers.methods import MethodOptions, method_name
from .solve import MODEL, PARSED, SolveArguments, run_solve


logger = logging.getLogger(__name__)


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((EvaluateArguments, *PARSED), prog=prog)


def results_path(args: EvaluateArguments, solve_args: SolveArguments) -> Path:
    """Where a solve run before the report writes: ``--output``, else a file in ``--output_dir`` named after the
    method (``results.jsonl`` for a model, ``results-fdd-mwkr.jsonl`` for a rule)."""
    if solve_args.output:
        return Path(solve_args.output)
    if solve_args.method == MODEL:
        return Path(args.output_dir) / "results.jsonl"
    slug = re.sub(r"[^a-z0-9]+", "-", method_name(solve_args.method).lower())
    return Path(args.output_dir) / f"results-{slug}.jsonl"


def main(
    args: EvaluateArguments,
    solve_args: SolveArguments,
    model_args: SolverModelArguments,
    options: MethodOptions,
    config: SolveConfig,
) -> int:
    logging.basicConfig(
        level=logging.WARNING if solve_args.quiet else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if solve_args.instance is not None:
        raise ValueError("evaluate reports on --benchmark or --dataset (or --results); for files use jssp-sft solve")
    if solve_args.benchmark is not None or solve_args.dataset is not None:
        stem = results_path(args, solve_args)
        if solve_args.method == MODEL and args.compare_decodings:
            # One free run with repair (its samples also give the row without repair) and one guaranteed run.
            for decoding, repair in (("free", True), ("guaranteed", False)):
                output = str(stem.with_name(f"{stem.stem}-{decoding}.jsonl"))
                run_args = dataclasses.replace(solve_args, output=output)
                run_solve(run_args, model_args, options, config.replace(decoding=decoding, repair=repair))
                args.results = [*args.results, output]
        else:
            run_solve(dataclasses.replace(solve_args, output=str(stem)), model_args, options, config)
            args.results = [*args.results, str(stem)]
    report = evaluate(args, options, show_progress=not solve_args.quiet)
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
