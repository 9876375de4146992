"""``jssp-sft solve``: schedule instance files, benchmarks or Starjob records with a model, CP-SAT, a rule or chance.

    jssp-sft solve --instance examples/instances/workshop.taillard.txt --method cpsat --gantt outputs/workshop.png
    jssp-sft solve --instance shop.txt other.json --method fdd/mwkr --output outputs/schedules/  # one file each
    cat shop.csv | jssp-sft solve --method MWKR --instance - --output_format csv --output -
    jssp-sft solve --benchmark ta:15x15 --method fdd/mwkr --output outputs/rule.jsonl   # no model needed
    jssp-sft solve --model outputs/tiny-sft --instance shop.txt --output outputs/shop.json  # guaranteed decoding
    jssp-sft solve --model outputs/tiny-sft --benchmark ft06,la01 --num_samples 20 --output outputs/results.jsonl
    jssp-sft solve --model outputs/run --dataset data/starjob.json --dataset_split test --output outputs/test.jsonl

``--method``: ``model`` (``--model``'s sampled answers, every one verified, the best kept), ``cpsat``, ``random``
(the seeded random control, best of ``--num_samples``) or a dispatching rule (``--rule_variant``); every method but
the model runs through ``jssp_sft.solvers.methods.solve_by_method``, as the service's do. ``--instance`` reads any
format of ``jssp_sft.core.formats`` and writes each schedule with ``--output`` exactly there (JSON, Starjob text or
CSV by ``--output_format`` or the suffix; a directory gets ``<name>.<format>``), ``--gantt`` as a PNG; without
``--output`` it prints the schedule. ``--benchmark``/``--dataset`` write a JSON-lines results file for
``jssp-sft evaluate``, continued where it stopped when re-run. Every summary line names the method.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..core.formats import FORMATS, SCHEDULE_FORMATS, read_instance_file, schedule_format_for, write_schedule
from ..core.instance import Instance
from ..solve import (
    DATASET_SPLITS,
    JSSPSolver,
    Problem,
    SolveConfig,
    SolverResult,
    benchmark_problems,
    dataset_problems,
    solve_to_jsonl,
)
from ..solve.config import SolverModelArguments
from ..solve.method_solver import MethodSolver
from ..solvers.methods import METHODS, MethodOptions, method_name


logger = logging.getLogger(__name__)

MODEL = "model"
SUFFIXES = {"json": ".json", "starjob": ".txt", "csv": ".csv"}


@dataclass
class SolveArguments:
    """What to solve, by which method, and where the answers go."""

    _argument_group_name = "what to solve and where the answers go"

    instance: list[str] | None = field(
        default=None,
        metadata={"help": f"Instance files to schedule ('-' reads stdin), in any of: {', '.join(FORMATS)}."},
    )
    benchmark: str | None = field(
        default=None,
        metadata={"help": "Benchmark instances: names and/or groups, comma-separated (ft06,la01 / ta / dmu:20x15)."},
    )
    dataset: str | None = field(
        default=None, metadata={"help": "Starjob records: a .json/.jsonl/.parquet file, a directory or a Hub id."}
    )
    method: str = field(
        default=MODEL,
        metadata={
            "help": "model (needs --model), cpsat, random (the seeded random control, best of --num_samples) or a "
            f"dispatching rule ({', '.join(m for m in METHODS if m.isupper())}; any case)."
        },
    )
    output: str | None = field(
        default=None,
        metadata={
            "help": "--instance: the schedule file, written exactly as named (a directory, or several instances: "
            "<name>.<format> inside it; '-': stdout). --benchmark/--dataset: the results file (JSON lines), "
            "continued if it exists."
        },
    )
    output_format: str | None = field(
        default=None,
        metadata={
            "help": "Schedule format of --output; when not given, its suffix (.json/.txt/.csv), or json.",
            "choices": list(SCHEDULE_FORMATS),
        },
    )
    gantt: str | None = field(
        default=None, metadata={"help": "--instance: draw the schedule as a PNG here (a directory for several)."}
    )
    format: str | None = field(
        default=None,
        metadata={"help": "Format of the --instance files; when not given, detected.", "choices": list(FORMATS)},
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
    quiet: bool = field(default=False, metadata={"help": "Print only errors and the schedule itself."})

    def check(self, model: str | None) -> None:
        """A ``ValueError`` saying what is missing or contradictory (``model``: ``--model``, if given)."""
        if sum(x is not None for x in (self.benchmark, self.dataset, self.instance)) != 1:
            raise ValueError(
                "give exactly one of --instance (your own files), --benchmark (e.g. ft06,la01 or ta or dmu:20x15) "
                "and --dataset (Starjob records)"
            )
        if self.method == MODEL:
            if not model:
                raise ValueError(
                    "--method model (the default) needs --model (a training run's directory, a base model or a Hub "
                    "id); without a model, choose --method cpsat, random or a rule (e.g. fdd/mwkr)"
                )
        else:
            try:
                method_name(self.method)
            except ValueError as err:
                raise ValueError(f"{err} (or model, with --model)") from None
        if self.instance is not None:
            if not self.instance:
                raise ValueError("--instance needs at least one file ('-' reads stdin)")
            return
        if not self.output:
            raise ValueError(
                "--output is required with --benchmark/--dataset (a .jsonl file; an existing one is continued)"
            )
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1, got {self.limit}")


class ModelArguments(SolverModelArguments):
    """``SolverModelArguments`` under their own heading in ``--help``."""

    _argument_group_name = "the model (--method model)"


class MethodArguments(MethodOptions):
    """``MethodOptions`` under their own heading in ``--help``."""

    _argument_group_name = "CP-SAT and the rules (--method cpsat or a rule)"


class SamplingArguments(SolveConfig):
    """``SolveConfig`` under its own heading in ``--help``."""

    _argument_group_name = "sampling (--method model; --num_samples and --seed also for random and CP-SAT)"


PARSED = (SolveArguments, ModelArguments, MethodArguments, SamplingArguments)


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser(PARSED, prog=prog)


def make_solver(args: SolveArguments, model_args: SolverModelArguments, options: MethodOptions, config: SolveConfig):
    """The model's ``JSSPSolver``, or a ``MethodSolver`` for the other methods: one interface for both."""
    if args.method == MODEL:
        logger.info("loading %s", model_args.model)
        return JSSPSolver.from_arguments(model_args, config)
    return MethodSolver(args.method, options, config)


def load_problems(args: SolveArguments) -> list[Problem]:
    """The ``--benchmark``/``--dataset`` problems, in order, cut to ``--limit``."""
    if args.benchmark is not None:
        problems = benchmark_problems(args.benchmark)
    else:
        problems = dataset_problems(args.dataset, args.dataset_split)
    return problems[: args.limit] if args.limit else problems


def run_solve(
    args: SolveArguments, model_args: SolverModelArguments, options: MethodOptions, config: SolveConfig
) -> list[dict]:
    """Solve the ``--benchmark``/``--dataset`` problems into ``args.output``; returns every line of the file."""
    args.check(model_args.model)
    problems = load_problems(args)
    solver = make_solver(args, model_args, options, config)
    return solve_to_jsonl(
        solver,
        problems,
        args.output,
        overwrite=args.overwrite,
        include_sample_texts=args.save_sample_texts,
        show_progress=not args.quiet,
    )


def run_label(config: dict) -> str:
    """How a results line's run is named: the method's label, or ``model, guaranteed decoding, best of 8``."""
    if config.get("label"):
        return config["label"]
    repair = " + repair" if config.get("repair") else ""
    return f"model, {config.get('decoding')} decoding{repair}, best of {config.get('num_samples')}"


# ------------------------------------------------------------------------------------------------ your instances


def read_instances(paths: list[str], format: str | None = None) -> list[Instance]:
    """The ``--instance`` files, named after their stems (stdin: ``stdin``); where two stems are alike
    (``shop.json``, ``shop.csv``) each is named with its suffix too (``shop-json``, ``shop-csv``)."""
    instances = [read_instance_file(path, format) for path in paths]
    stems = [instance.name or "stdin" for instance in instances]
    names = [
        f"{stem}-{Path(path).suffix.lstrip('.')}" if stems.count(stem) > 1 and path != "-" else stem
        for path, stem in zip(paths, stems)
    ]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"two --instance files are named {repeated[0]!r}: their outputs would overwrite each other")
    return [dataclasses.replace(instance, name=name) for instance, name in zip(instances, names)]


def output_target(path: str | None, name: str, suffix: str, many: bool) -> Path | None:
    """Where an instance's file goes: ``path`` exactly, or ``path/<name><suffix>`` when ``path`` is a directory
    (existing, ending in ``/``, or given for several instances); ``None`` for no file or stdout."""
    if path is None or path == "-":
        return None
    if many or path.endswith(("/", "\\")) or Path(path).is_dir():
        Path(path).mkdir(parents=True, exist_ok=True)
        return Path(path) / f"{name}{suffix}"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return Path(path)


def instance_metadata(result: SolverResult, model_revision: str | None = None) -> dict:
    """What the schedule file records of how an instance's schedule was made."""
    config = result.config
    if "method" in config:
        return {**config, "seconds": round(result.seconds, 3)}
    return {
        "method": MODEL,
        "label": run_label({**config, "num_samples": len(result.samples)}),
        "model": config.get("model"),
        "model_revision": model_revision,
        "decoding": config.get("decoding"),
        "num_samples": len(result.samples),
        "feasible_samples": sum(s.report.feasible for s in result.samples),
        "best_source": result.best_source,
        "seconds": round(result.seconds, 3),
    }


def explain_no_schedule(result: SolverResult) -> str:
    """Why a model's run gave no feasible schedule: the closest sample's violations, and the options that help."""
    samples = result.samples
    closest = min(range(len(samples)), key=lambda i: (not samples[i].report.parsed, len(samples[i].report.violations)))
    report = samples[closest].report
    counts = ", ".join(f"{kind} x{count}" for kind, count in sorted(report.counts().items()))
    first = report.violations[0].message if report.violations else "no answer"
    decoding = result.config.get("decoding")
    hints = []
    if decoding != "guaranteed":
        hints.append("--decoding guaranteed (every answer feasible by construction)")
    if not result.config.get("repair"):
        hints.append("--repair true (a dispatching rule completes an infeasible answer)")
    hints.append(f"more samples (--num_samples {2 * len(samples)})")
    hints.append("a model trained longer or on this size")
    return (
        f"  none of the {len(samples)} samples is feasible; the closest (sample {closest}) has "
        f"{len(report.violations)} violation(s) ({counts}): {first}\n  try: " + "; ".join(hints)
    )


def run_instances(
    args: SolveArguments, model_args: SolverModelArguments, options: MethodOptions, config: SolveConfig
) -> int:
    """``--instance``: read, solve, write and report each schedule; 1 when some instance got no feasible one."""
    from ..core.formats import schedule_to_dict

    instances = read_instances(args.instance, args.format)
    many = len(instances) > 1
    to_stdout = args.output == "-"
    if args.output is None or to_stdout or many or Path(args.output).is_dir() or args.output.endswith("/"):
        output_format = args.output_format or "json"
    else:
        output_format = schedule_format_for(args.output, args.output_format)
    solver = make_solver(args, model_args, options, config)
    problems = [Problem.from_instance(instance) for instance in instances]
    results = solver.solve_many(problems, show_progress=not args.quiet and (many or args.method == MODEL))
    report_stream = sys.stderr if to_stdout else sys.stdout
    failures = 0
    for instance, result in zip(instances, results):
        schedule, metadata = result.schedule, instance_metadata(result, model_args.revision)
        summary = schedule_to_dict(instance, schedule, **metadata)
        target = output_target(args.output, instance.name, SUFFIXES[output_format], many)
        if schedule is not None or output_format == "json":
            text = write_schedule(instance, schedule, output_format, **metadata)
            if target is not None:
                target.write_text(text)
            elif to_stdout:
                sys.stdout.write(text)
        if schedule is not None and args.output is None:
            print(write_schedule(instance, schedule, "starjob"), end="")
        gantt = output_target(args.gantt, instance.name, ".png", many) if schedule is not None else None
        if gantt is not None:
            from ..evaluation.plots import gantt_chart

            gantt_chart(instance, schedule, gantt, title=f"{instance.name}: {metadata['label']}")
        failures += not summary["feasible"]
        if args.quiet:
            continue
        status = f"makespan {summary['makespan']}, feasible" if summary["feasible"] else "no feasible schedule"
        written = [str(p) for p in (target, gantt) if p is not None]
        print(
            f"{instance.name}: {instance.size}, {status} ({metadata['label']}, {metadata['seconds']} s)"
            + (f" -> {', '.join(written)}" if written else ""),
            file=report_stream,
        )
        if schedule is None and args.method == MODEL:
            print(explain_no_schedule(result), file=report_stream)
    return 1 if failures else 0


def main(args: SolveArguments, model_args: SolverModelArguments, options: MethodOptions, config: SolveConfig) -> int:
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    args.check(model_args.model)
    if args.instance is not None:
        return run_instances(args, model_args, options, config)
    lines = run_solve(args, model_args, options, config)
    answered = [line for line in lines if line["best_makespan"] is not None]
    gaps = [line["gap"] for line in answered if line["gap"] is not None]
    mean_gap = f", mean gap {100 * sum(gaps) / len(gaps):.2f}%" if gaps else ""
    label = run_label(lines[0]["config"]) if lines else args.method
    print(f"{args.output}: {len(lines)} instances, {len(answered)} with a feasible answer{mean_gap} ({label})")
    return 0
