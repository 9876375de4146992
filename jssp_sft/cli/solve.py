"""``jssp-sft solve``: schedule your own instance files, or best-of-N answers on benchmarks or Starjob records.

    jssp-sft solve --model outputs/tiny-sft --instance shop.txt --decoding guaranteed --output shop.json --gantt shop.png
    jssp-sft solve --method cpsat --instance ta01.txt other.json --output schedules/      # one file per instance
    cat shop.csv | jssp-sft solve --method MWKR --instance - --output_format csv --output -
    jssp-sft solve --model outputs/tiny-sft --benchmark ft06,la01 --num_samples 20 --output results.jsonl
    jssp-sft solve --model user/model --benchmark ta --output ta.jsonl          # a group
    jssp-sft solve --model user/model --benchmark dmu:20x15 --output dmu.jsonl  # a group's size
    jssp-sft solve --model outputs/run --dataset data/starjob.json --dataset_split test --output test.jsonl

``--instance`` reads any format of ``jssp_sft.core.formats`` (detected, or ``--format``), solves each file with
``--method`` (``model``: the sampled answers, verified, the best kept; ``cpsat``; or a dispatching rule), prints the
schedule and a summary line, and writes it with ``--output`` as JSON, Starjob text or CSV (``--output_format``, else
the suffix) and ``--gantt`` as a PNG. With several files, ``--output``/``--gantt`` name directories.
With ``--benchmark``/``--dataset`` the results file is JSON lines, and re-running with the same ``--output``
continues where it stopped. A thin layer over ``jssp_sft.solve``.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core.formats import (
    FORMATS,
    SCHEDULE_FORMATS,
    InstanceFormatError,
    read_instance_file,
    schedule_format_for,
    write_schedule,
)
from ..core.instance import Instance
from ..core.schedule import Schedule
from ..solve import DATASET_SPLITS, JSSPSolver, Problem, SolveConfig, benchmark_problems, dataset_problems
from ..solve.config import SolverModelArguments


logger = logging.getLogger(__name__)


@dataclass
class SolveArguments(SolverModelArguments):
    """What to solve, with which model, and where to write the answers (sampling settings: ``SolveConfig``)."""

    output: str | None = field(
        default=None,
        metadata={
            "help": "--instance: the schedule file (.json/.txt/.csv, or a directory for several, '-' for stdout); "
            "--benchmark/--dataset: the results file (JSON lines), continued if it exists."
        },
    )
    instance: list[str] | None = field(
        default=None,
        metadata={"help": f"Instance files to schedule ('-' reads stdin), in any of: {', '.join(FORMATS)}."},
    )
    format: str | None = field(
        default=None,
        metadata={"help": "Format of the --instance files (default: detected).", "choices": list(FORMATS)},
    )
    method: str = field(
        default="model",
        metadata={
            "help": "--instance: model (the sampled answers, verified), cpsat, random (the seeded random "
            "policy, best of --num_samples) or a dispatching rule (SPT, MWKR, MOPNR, FDD/MWKR)."
        },
    )
    output_format: str | None = field(
        default=None,
        metadata={
            "help": "Schedule format of --output (default: from its suffix; json for a directory or stdout).",
            "choices": list(SCHEDULE_FORMATS),
        },
    )
    gantt: str | None = field(
        default=None, metadata={"help": "--instance: draw the schedule as a PNG (a directory for several)."}
    )
    time_limit: float = field(default=10.0, metadata={"help": "--method cpsat: seconds per instance."})
    benchmark: str | None = field(
        default=None,
        metadata={"help": "Benchmark instances: names and/or groups, comma-separated (ft06,la01 / ta / dmu:20x15)."},
    )
    dataset: str | None = field(
        default=None, metadata={"help": "Starjob records instead: a .json/.jsonl/.parquet file, directory or Hub id."}
    )
    dataset_split: str = field(
        default="all",
        metadata={
            "help": "all records, or the train/test split load_starjob makes (a training run's held-out 2%%).",
            "choices": list(DATASET_SPLITS),
        },
    )
    limit: int | None = field(default=None, metadata={"help": "Solve only the first N instances."})
    overwrite: bool = field(default=False, metadata={"help": "Start --output again instead of continuing it."})
    save_sample_texts: bool = field(
        default=False, metadata={"help": "Keep every sample's text in the results (large); the best one is kept."}
    )

    def check(self) -> None:
        if sum(x is not None for x in (self.benchmark, self.dataset, self.instance)) != 1:
            raise ValueError(
                "give exactly one of --benchmark (e.g. ft06,la01 or ta or dmu:20x15), --dataset and --instance "
                "(your own files)"
            )
        if self.instance is not None:
            if not self.instance:
                raise ValueError("--instance needs at least one file ('-' reads stdin)")
            if self.method == "model" and not self.model:
                raise ValueError(
                    "--method model needs --model (a base model, a training run's directory, or a Hub id)"
                )
            if self.method not in ("model", "cpsat", "random"):
                from ..solvers.dispatching import RULES

                if self.method.upper() not in RULES:
                    raise ValueError(
                        f"unknown --method {self.method!r}; choose model, cpsat, random or one of {', '.join(RULES)}"
                    )
            return
        if self.method != "model":
            raise ValueError("--method applies to --instance; --benchmark and --dataset are solved by the model")
        if not self.model:
            raise ValueError("--model is required (a base model, a training run's directory, or a Hub id)")
        if not self.output:
            raise ValueError("--output is required (a .jsonl file; an existing one is continued)")
        if (self.benchmark is None) == (self.dataset is None):
            raise ValueError("give exactly one of --benchmark (e.g. ft06,la01 or ta or dmu:20x15) and --dataset")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1, got {self.limit}")


def load_problems(args: SolveArguments) -> list[Problem]:
    """The problems ``args`` name, in order, cut to ``--limit``."""
    if args.benchmark is not None:
        problems = benchmark_problems(args.benchmark)
    else:
        problems = dataset_problems(args.dataset, args.dataset_split)
    return problems[: args.limit] if args.limit else problems


def run_solve(args: SolveArguments, config: SolveConfig) -> list[dict]:
    """Load the problems and the model, and solve into ``args.output``; returns every line of the file."""
    from ..solve.results import solve_to_jsonl

    args.check()
    problems = load_problems(args)
    logger.info("%d instances to solve with %s", len(problems), args.model)
    solver = JSSPSolver.from_arguments(args, config)
    return solve_to_jsonl(
        solver, problems, args.output, overwrite=args.overwrite, include_sample_texts=args.save_sample_texts
    )


# ------------------------------------------------------------------------------------------------ your instances


def read_instances(paths: list[str], format: str | None = None) -> list[Instance]:
    """The ``--instance`` files, named after their stems (stdin: ``stdin``), or after their whole file names where
    two stems are alike (``shop.json``, ``shop.csv``); the same file twice is an error."""
    instances = [read_instance_file(path, format) for path in paths]
    stems = [instance.name or "stdin" for instance in instances]
    names = [Path(path).name if stems.count(stem) > 1 and path != "-" else stem for path, stem in zip(paths, stems)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"two --instance files are named {repeated[0]!r}: their outputs would overwrite each other")
    return [dataclasses.replace(instance, name=name) for instance, name in zip(instances, names)]


def solve_instances(
    instances: list[Instance],
    method: str = "model",
    solver=None,
    time_limit: float = 10.0,
    model_revision: str | None = None,
    num_samples: int = 1,
    seed: int = 0,
) -> list[tuple[Schedule | None, dict]]:
    """``(schedule or None, metadata)`` for each instance, by ``method``: ``model`` (``solver``, a ``JSSPSolver``:
    best of its sampled answers, verified), ``cpsat`` (``time_limit`` seconds), ``random`` (the seeded random policy
    with the guaranteed decoder's placement, best of ``num_samples``: the control for a model) or a dispatching rule."""
    if method == "model":
        started = time.perf_counter()
        results = solver.solve_many(instances, show_progress=len(instances) > 1)
        elapsed = (time.perf_counter() - started) / len(instances)
        out = []
        for result in results:
            config = result.config
            meta = {
                "method": "model",
                "model": config.get("model"),
                "model_revision": model_revision,
                "decoding": config.get("decoding"),
                "num_samples": len(result.samples),
                "best_source": result.best_source,
                "seconds": round(elapsed, 3),
            }
            out.append((result.schedule, meta))
        return out
    out = []
    for instance in instances:
        started = time.perf_counter()
        if method == "cpsat":
            from ..solvers.cpsat import solve_cpsat

            solved = solve_cpsat(instance, time_limit=time_limit)
            schedule, extra = solved.schedule, {"status": solved.status, "lower_bound": solved.lower_bound}
        elif method == "random":
            from ..solvers.controls import random_control

            schedule = random_control(instance, num_samples, seed).schedule
            extra = {"num_samples": num_samples, "seed": seed}
        else:
            from ..solvers.dispatching import dispatching_rule

            schedule, extra = dispatching_rule(instance, method.upper()), {}
        out.append((schedule, {"method": method, **extra, "seconds": round(time.perf_counter() - started, 3)}))
    return out


def _target(path: str | None, instance: Instance, many: bool, suffix: str) -> Path | None:
    if path is None or path == "-":
        return None
    if many:
        Path(path).mkdir(parents=True, exist_ok=True)
        return Path(path) / f"{instance.name}{suffix}"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return Path(path)


def run_instances(args: SolveArguments, config: SolveConfig) -> int:
    """``--instance``: read, solve, print and write each schedule; 1 when some instance got no feasible schedule."""
    from ..core.formats import schedule_to_dict

    instances = read_instances(args.instance, args.format)
    many = len(instances) > 1
    if args.output in (None, "-") or many:
        output_format = args.output_format or "json"
    else:
        output_format = schedule_format_for(args.output, args.output_format)
    suffix = {"json": ".json", "starjob": ".txt", "csv": ".csv"}[output_format]
    solver = JSSPSolver.from_arguments(args, config) if args.method == "model" else None
    solved = solve_instances(
        instances, args.method, solver, args.time_limit, args.revision, config.num_samples, config.seed
    )
    failures = 0
    for instance, (schedule, metadata) in zip(instances, solved):
        summary = schedule_to_dict(instance, schedule, **metadata)
        text = (
            write_schedule(instance, schedule, output_format, **metadata)
            if schedule or output_format == "json"
            else ""
        )
        target = _target(args.output, instance, many, suffix)
        if target is not None:
            target.write_text(text)
        elif args.output == "-":
            sys.stdout.write(text)
        if schedule is not None and args.output != "-":
            print(write_schedule(instance, schedule, "starjob"), end="")
        gantt = _target(args.gantt, instance, many, ".png")
        if gantt is not None and schedule is not None:
            from ..evaluation.plots import gantt_chart

            gantt_chart(instance, schedule, gantt, title=f"{instance.name} ({metadata['method']})")
        failures += not summary["feasible"]
        status = f"makespan {summary['makespan']}, feasible" if summary["feasible"] else "no feasible schedule"
        written = ", ".join(str(p) for p in (target, gantt) if p is not None and (p != gantt or schedule))
        print(
            f"{instance.name}: {instance.size}, {status} ({metadata['method']}, {metadata['seconds']} s)"
            + (f" -> {written}" if written else ""),
            file=sys.stderr if args.output == "-" else sys.stdout,
        )
    return 1 if failures else 0


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((SolveArguments, SolveConfig), prog=prog)


def main(args: SolveArguments, config: SolveConfig) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args.check()
    if args.instance is not None:
        try:
            return run_instances(args, config)
        except (InstanceFormatError, FileNotFoundError) as err:  # the user's file: a clear message, no traceback
            print(f"jssp-sft solve: error: {err}", file=sys.stderr)
            return 2
    lines = run_solve(args, config)
    answered = [line for line in lines if line["best_makespan"] is not None]
    gaps = [line["gap"] for line in answered if line["gap"] is not None]
    mean_gap = f", mean gap {100 * sum(gaps) / len(gaps):.2f}%" if gaps else ""
    print(f"{args.output}: {len(lines)} instances, {len(answered)} with a feasible answer{mean_gap}")
    return 0
