"""Evaluation reports from solve results: per benchmark group and size group, beside baselines and published rows.

Input: one or more results files of ``jssp-sft solve`` (each a "method": a model with a decoding mode, repair or not).
For every method and group of instances: feasible rate (an instance counts when any sample is feasible as written),
repaired rate (answered only thanks to repair, counted apart), valid rate (the paper's criterion: feasible and the
declared makespan right), mean gap over answered instances, mean gap over all instances with a stated fallback for
the others (a dispatching rule's makespan), optimal rate (makespan <= bound), and the best-of-N curve (the same
numbers from the first N samples, N = 1, 2, 4, ...). Beside them, on the same instances: dispatching rules and CP-SAT
run in the same command (``jssp_sft.solvers.dispatching``), and the published rows (``jssp_sft.benchmarks.published``).

Everything is computed from the samples' stored verdicts, so the numbers equal the ``jssp_makespan`` metric's on the
same texts (on the best texts of a method with repair, the metric's feasible rate is the report's answered rate: a
repaired text is feasible). Plain Python: no torch (matplotlib only for the charts, in ``jssp_sft.evaluation.plots``).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core.codec import parse_instance
from ..core.scoring import gap
from ..solve.solver import REPAIRED, WRITTEN, read_results


logger = logging.getLogger(__name__)

DEFAULT_RULES = ("SPT", "MWKR", "FDD/MWKR", "MOPNR")
DEFAULT_RULE_VARIANTS = ("insertion", "non_delay")
ALL = "all"


# ------------------------------------------------------------------------------------------------- arguments


@dataclass
class EvaluateArguments:
    """Arguments of ``jssp-sft evaluate`` (with ``--model`` it first runs ``jssp-sft solve``: see its options)."""

    results: list[str] = field(
        default_factory=list, metadata={"help": "Results files of jssp-sft solve, one per method (space-separated)."}
    )
    labels: list[str] = field(
        default_factory=list, metadata={"help": "A name per results file (default: model, decoding, repair, N)."}
    )
    output_dir: str = field(default="evaluation", metadata={"help": "Where report.md, report.json and PNGs go."})
    rules: list[str] = field(
        default_factory=lambda: list(DEFAULT_RULES), metadata={"help": "Dispatching rules run as baselines."}
    )
    rule_variants: list[str] = field(
        default_factory=lambda: list(DEFAULT_RULE_VARIANTS),
        metadata={
            "help": "Variants of the rules (jssp_sft.solvers.dispatching.VARIANTS): insertion, semi_active, non_delay."
        },
    )
    fallback_rule: str = field(
        default="MWKR", metadata={"help": "Rule whose makespan stands in for an instance without a feasible answer."}
    )
    fallback_variant: str = field(default="insertion", metadata={"help": "Variant of the fallback rule."})
    cpsat_time_limit: float = field(
        default=10.0, metadata={"help": "CP-SAT baseline: seconds per instance (0: no CP-SAT row)."}
    )
    cpsat_workers: int = field(default=1, metadata={"help": "CP-SAT baseline: search workers."})
    gantt_instance: str | None = field(
        default=None,
        metadata={"help": "Id of the instance whose best schedule is drawn (default: the largest answered)."},
    )
    published: bool = field(default=True, metadata={"help": "Show the published rows (PDRs, L2D, LLM-FT)."})
    compare_decodings: bool = field(
        default=False,
        metadata={"help": "Rows for free decoding, free decoding with repair and guaranteed decoding: with --model, "
                  "solve twice (free with repair, guaranteed); a results file made with repair also gets a row "
                  "without it (same samples)."},
    )  # fmt: skip

    def __post_init__(self):
        if self.labels and len(self.labels) != len(self.results):
            raise ValueError(f"{len(self.labels)} labels for {len(self.results)} results files")
        if self.cpsat_time_limit < 0:
            raise ValueError("cpsat_time_limit must be >= 0")


# ------------------------------------------------------------------------------------------------- per instance


@dataclass(frozen=True)
class Outcome:
    """One instance under one method, from its first ``n`` samples."""

    feasible: bool  # some sample feasible as written
    valid: bool  # some sample feasible and declaring its makespan right
    makespan: int | None  # the best answer's (as written or repaired)
    source: str | None  # WRITTEN, REPAIRED or None


def outcome(line: dict, n: int | None = None) -> Outcome:
    """The best answer among the first ``n`` samples of a results line (all samples when ``n`` is None): the lowest
    makespan, feasible as written or repaired, ties to the written one (``jssp_sft.solve.solver.choose_best``'s rule)."""
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


# ------------------------------------------------------------------------------------------------- summaries


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


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _rate(count: int, total: int) -> float | None:
    return count / total if total else None


def summarize(lines: Sequence[dict], fallback: dict[str, int] | None = None, n: int | None = None) -> Summary:
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
    return Summary(
        instances=len(lines),
        feasible_rate=_rate(sum(o.feasible for o in outcomes), len(lines)),
        repaired_rate=_rate(sum(o.source == REPAIRED for o in outcomes), len(lines)),
        answered_rate=_rate(sum(o.makespan is not None for o in outcomes), len(lines)),
        valid_rate=_rate(sum(o.valid for o in outcomes), len(lines)),
        mean_gap=_mean(gaps),
        mean_gap_all=_mean(gaps_all) if gaps_all is not None else None,
        optimal_rate=_rate(
            sum(o.makespan is not None and o.makespan <= line["bound"] for line, o in bounded), len(bounded)
        ),  # fmt: skip
        sample_feasible_rate=_rate(sum(s["feasible"] for s in samples), len(samples)),
        mean_tokens=_mean([s["tokens"] for s in samples]),
        mean_seconds=_mean([sum(s["seconds"] for s in line["samples"][:n]) for line in lines]),
        num_samples=min((len(line["samples"]) for line in lines), default=0) if n is None else n,
    )


def baseline_summary(lines: Sequence[dict], makespans: dict[str, int]) -> dict:
    """A baseline's mean gap and optimal rate over ``lines`` (its makespans by instance id)."""
    bounded = [line for line in lines if line.get("bound") and line["id"] in makespans]
    return {
        "instances": len([line for line in lines if line["id"] in makespans]),
        "mean_gap": _mean([gap(makespans[line["id"]], line["bound"]) for line in bounded]),
        "optimal_rate": _rate(sum(makespans[line["id"]] <= line["bound"] for line in bounded), len(bounded)),
    }


# ------------------------------------------------------------------------------------------------- methods


@dataclass
class Method:
    """One results file: its label, its lines and the settings it was made with."""

    label: str
    path: str
    lines: list[dict]

    @property
    def config(self) -> dict:
        return self.lines[0].get("config", {}) if self.lines else {}

    @property
    def num_samples(self) -> int:
        return min((len(line["samples"]) for line in self.lines), default=0)


def default_label(path: str, config: dict) -> str:
    model = Path(str(config.get("model") or Path(path).stem)).name
    decoding = config.get("decoding", "free") + ("+repair" if config.get("repair") else "")
    return f"{model} ({decoding}, N={config.get('num_samples', '?')})"


def load_methods(paths: Sequence[str], labels: Sequence[str] = ()) -> list[Method]:
    """Read results files; an instance id must describe the same instance in every file."""
    methods = []
    for i, path in enumerate(paths):
        lines, _ = read_results(path)
        if not lines:
            raise ValueError(f"{path}: no results lines")
        label = labels[i] if labels else default_label(path, lines[0].get("config", {}))
        methods.append(Method(label, str(path), lines))
    seen_labels: dict[str, int] = {}
    for method in methods:  # make labels unique
        count = seen_labels.get(method.label, 0)
        seen_labels[method.label] = count + 1
        if count:
            method.label = f"{method.label} [{Path(method.path).stem}]"
    inputs: dict[str, tuple[str, str]] = {}
    for method in methods:
        for line in method.lines:
            known = inputs.setdefault(line["id"], (line["input"], method.path))
            if known[0] != line["input"]:
                raise ValueError(f"instance {line['id']!r} differs between {known[1]} and {method.path}")
    return methods


def without_repair(method: Method) -> Method:
    """The same samples as if repair had been off: a "free" row beside a "free+repair" one, from one sampling run."""
    lines = []
    for line in method.lines:
        samples = [{**s, "repaired": False, "repaired_makespan": None} for s in line["samples"]]
        config = {**line.get("config", {}), "repair": False}
        lines.append({**line, "samples": samples, "config": config})
    label = method.label.replace("+repair", "") if "+repair" in method.label else f"{method.label} (without repair)"
    return Method(label, method.path, lines)


def instance_table(methods: Sequence[Method]) -> dict[str, dict]:
    """Every instance of every method once, by id (first file's line), in order of appearance."""
    table: dict[str, dict] = {}
    for method in methods:
        for line in method.lines:
            table.setdefault(line["id"], line)
    return table


def size_key(size: str) -> tuple:
    jobs, _, machines = size.partition("x")
    return (int(jobs), int(machines)) if jobs.isdigit() and machines.isdigit() else (math.inf, size)


# ------------------------------------------------------------------------------------------------- baselines


@dataclass
class BaselineRuns:
    """Makespans of the baselines on every instance: ``makespans[name][instance id]``, with how they were made."""

    makespans: dict[str, dict[str, int]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    cpsat_status: dict[str, str] = field(default_factory=dict)


def rule_name(rule: str, variant: str) -> str:
    return f"{rule} ({variant})"


def run_baselines(
    instances: dict[str, dict],
    rules: Sequence[str],
    variants: Sequence[str],
    fallback: tuple[str, str],
    cpsat_time_limit: float,
    cpsat_workers: int = 1,
    show_progress: bool = True,
) -> BaselineRuns:
    """Dispatching rules (every rule in every variant, plus the fallback) and CP-SAT on every instance."""
    from tqdm.auto import tqdm

    from ..solvers.dispatching import RULE_DESCRIPTIONS, VARIANTS, dispatching_rule

    runs = BaselineRuns()
    pairs = list(dict.fromkeys([(r, v) for v in variants for r in rules] + [fallback]))
    for rule, variant in pairs:
        if variant not in VARIANTS:
            raise ValueError(f"unknown rule variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        name = rule_name(rule, variant)
        runs.descriptions[name] = f"{RULE_DESCRIPTIONS.get(rule.upper(), rule)}; {VARIANTS[variant].description}"
        runs.makespans[name] = {}
    parsed = {key: parse_instance(line["input"], num_machines=line["num_machines"]) for key, line in instances.items()}
    for key, instance in tqdm(parsed.items(), desc="baselines", unit="instance", disable=not show_progress):
        for rule, variant in pairs:
            runs.makespans[rule_name(rule, variant)][key] = dispatching_rule(instance, rule, variant).makespan
    if cpsat_time_limit > 0:
        from ..solvers.cpsat import solve_cpsat

        name = cpsat_name(cpsat_time_limit)
        runs.descriptions[name] = (
            f"OR-Tools CP-SAT, {cpsat_time_limit:g} s per instance, {cpsat_workers} worker(s), seed 0"
        )
        runs.makespans[name] = {}
        for key, instance in tqdm(parsed.items(), desc="CP-SAT", unit="instance", disable=not show_progress):
            result = solve_cpsat(instance, time_limit=cpsat_time_limit, num_workers=cpsat_workers, seed=0)
            runs.makespans[name][key] = result.makespan
            runs.cpsat_status[key] = result.status
    return runs


def cpsat_name(time_limit: float) -> str:
    return f"CP-SAT ({time_limit:g} s)"


# ------------------------------------------------------------------------------------------------- the report


def build_report(
    methods: Sequence[Method],
    baselines: BaselineRuns,
    fallback: tuple[str, str],
    include_published: bool = True,
) -> dict:
    """The whole report as JSON-ready data: per group and size, every method and baseline; curves; published rows."""
    instances = instance_table(methods)
    best_by_method = {m.label: {line["id"]: outcome(line).makespan for line in m.lines} for m in methods}
    fallback_name = rule_name(*fallback)
    fallback_makespans = baselines.makespans[fallback_name]
    groups: dict[str, dict[str, list[str]]] = {}
    for key, line in instances.items():
        groups.setdefault(line["group"], {}).setdefault(line["size"], []).append(key)
    report_groups = {}
    for group, sizes in groups.items():
        ordered = sorted(sizes, key=lambda s: _published_size_order(group, s))
        entry = {"sizes": ordered, "methods": {}, "baselines": {}, "published": []}
        for method in methods:
            by_size, curve = {}, {}
            mine = {line["id"]: line for line in method.lines if line["group"] == group}
            for size in [*ordered, ALL]:
                keys = sizes[size] if size != ALL else [k for s in ordered for k in sizes[s]]
                lines = [mine[k] for k in keys if k in mine]
                if not lines:
                    continue
                by_size[size] = summarize(lines, fallback_makespans).to_dict()
                curve[size] = [
                    {"n": n, **_curve_point(summarize(lines, fallback_makespans, n))}
                    for n in curve_points(min(len(line["samples"]) for line in lines))
                ]
            entry["methods"][method.label] = {"sizes": by_size, "curve": curve}
        for name, makespans in baselines.makespans.items():
            entry["baselines"][name] = {
                size: baseline_summary(
                    [instances[k] for k in (sizes[size] if size != ALL else [k for s in ordered for k in sizes[s]])],
                    makespans,
                )
                for size in [*ordered, ALL]
            }
        if include_published:
            entry["published"] = _published_for(group)
        report_groups[group] = entry
    return {
        "methods": [
            {
                "label": m.label,
                "path": m.path,
                "config": m.config,
                "instances": len(m.lines),
                "num_samples": m.num_samples,
            }
            for m in methods
        ],  # fmt: skip
        "bounds": sorted({str(line.get("bound_source")) for line in instances.values()}),
        "fallback": {"name": fallback_name, "description": baselines.descriptions.get(fallback_name, "")},
        "baselines": baselines.descriptions,
        "groups": report_groups,
        "published_notes": _published_notes() if include_published else {},
        "instances": {
            key: {
                "group": line["group"],
                "size": line["size"],
                "bound": line.get("bound"),
                "bound_optimal": line.get("bound_optimal"),
                "cpsat_status": baselines.cpsat_status.get(key),
                **{name: makespans.get(key) for name, makespans in baselines.makespans.items()},
                "methods": {label: best[key] for label, best in best_by_method.items() if key in best},
            }
            for key, line in instances.items()
        },  # fmt: skip
    }


def _curve_point(summary: Summary) -> dict:
    return {
        "feasible_rate": summary.feasible_rate,
        "answered_rate": summary.answered_rate,
        "mean_gap": summary.mean_gap,
        "mean_gap_all": summary.mean_gap_all,
        "optimal_rate": summary.optimal_rate,
    }


def _published_size_order(group: str, size: str) -> tuple:
    from ..benchmarks.published import SIZES

    order = SIZES.get(group, ())
    return (order.index(size), ()) if size in order else (len(order), size_key(size))


def _published_for(group: str) -> list[dict]:
    from ..benchmarks.published import SIZES, published_rows

    if group not in SIZES:
        return []
    return [
        {"method": row.method, "kind": row.kind, "gaps": dict(row.gaps), "average": row.average,
         "averaged_sizes": list(row.averaged_sizes), "source": row.source, "notes": row.notes}
        for row in published_rows(group)
    ]  # fmt: skip


def _published_notes() -> dict:
    from ..benchmarks.published import BOUNDS_NOTE

    return {"bounds": BOUNDS_NOTE}


# ------------------------------------------------------------------------------------------------- markdown


def _pct(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}"


def _rate_text(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return out


def render_markdown(report: dict) -> str:
    """``report.md``: the comparison table per group, each method's details, and its best-of-N curve."""
    fallback = report["fallback"]["name"]
    out = ["# Evaluation report", ""]
    out.append("Gap = (makespan - bound) / bound, in %. Bounds: " + "; ".join(report["bounds"]) + ".")
    out.append(
        f"An instance counts as feasible when any of its samples is feasible as written; repaired answers are counted "
        f"apart. `gap (answered)` averages over instances with an answer; `gap (all)` over every instance, with the "
        f"{fallback} dispatching rule's makespan standing in for an instance without an answer."
    )
    out += ["", "## Methods", ""]
    for method in report["methods"]:
        c = method["config"]
        out.append(
            f"- **{method['label']}**: `{method['path']}`, {method['instances']} instances; model `{c.get('model')}`, "
            f"template {c.get('template')}, backend {c.get('backend')}, decoding {c.get('decoding')}, repair "
            f"{c.get('repair')}, N={c.get('num_samples')}, temperature {c.get('temperature')}, top-p {c.get('top_p')}, "
            f"max new tokens {c.get('max_new_tokens') or 'auto'}, seed {c.get('seed')}"
        )
    out += ["", "Baselines, run on the same instances in the same command:", ""]
    out += [f"- **{name}**: {description}" for name, description in report["baselines"].items()]
    for group, entry in report["groups"].items():
        sizes = entry["sizes"]
        out += ["", f"## {group}", "", "### Mean gap % per size group", ""]
        header = ["method", *sizes, "all"]
        rows = []
        for label, data in entry["methods"].items():
            by_size = data["sizes"]
            rows.append(
                [f"{label}: gap (answered) [answered]"]
                + [
                    f"{_pct(by_size[s]['mean_gap'])} [{_rate_text(by_size[s]['answered_rate'])}]"
                    if s in by_size
                    else ""
                    for s in [*sizes, ALL]
                ]
            )
            rows.append(
                [f"{label}: gap (all, {fallback} fallback)"]
                + [_pct(by_size[s]["mean_gap_all"]) if s in by_size else "" for s in [*sizes, ALL]]
            )
        for name, by_size in entry["baselines"].items():
            rows.append([name] + [_pct(by_size[s]["mean_gap"]) for s in [*sizes, ALL]])
        for row in entry["published"]:
            values = [f"{row['gaps'][s]:.2f}" if s in row["gaps"] else "" for s in sizes]
            average = f"{row['average']:.2f}*" if row["average"] is not None else ""
            rows.append([f"published: {row['method']}", *values, average])
        out += _table(header, rows)
        if entry["published"]:
            out += ["", "Published rows (as published, not rerun; * = the source's average over sizes "
                    f"{', '.join(entry['published'][0]['averaged_sizes'])}, not over these instances):", ""]  # fmt: skip
            sources: dict[tuple[str, str], list[str]] = {}
            for row in entry["published"]:
                sources.setdefault((row["source"], row["notes"]), []).append(row["method"])
            out += [
                f"- {', '.join(methods)}: {source}" + (f" Note: {notes}" if notes else "")
                for (source, notes), methods in sources.items()
            ]
        for label, data in entry["methods"].items():
            out += ["", f"### {label}: details", ""]
            header = ["size", "instances", "feasible", "repaired", "valid", "gap (answered)", "gap (all)", "optimal",
                      "sample feasible", "tokens/sample", "s/instance"]  # fmt: skip
            rows = []
            for size, s in data["sizes"].items():
                rows.append([
                    size, s["instances"], _rate_text(s["feasible_rate"]), _rate_text(s["repaired_rate"]),
                    _rate_text(s["valid_rate"]), _pct(s["mean_gap"]), _pct(s["mean_gap_all"]),
                    _rate_text(s["optimal_rate"]), _rate_text(s["sample_feasible_rate"]),
                    "-" if s["mean_tokens"] is None else f"{s['mean_tokens']:.0f}",
                    "-" if s["mean_seconds"] is None else f"{s['mean_seconds']:.2f}",
                ])  # fmt: skip
            out += _table(header, rows)
            curve = data["curve"].get(ALL, [])
            if curve:
                out += ["", f"Best of N ({label}, all {group} instances, first N samples of each):", ""]
                out += _table(
                    ["N", "feasible", "answered", "gap (answered)", "gap (all)", "optimal"],
                    [[p["n"], _rate_text(p["feasible_rate"]), _rate_text(p["answered_rate"]), _pct(p["mean_gap"]),
                      _pct(p["mean_gap_all"]), _rate_text(p["optimal_rate"])] for p in curve],
                )  # fmt: skip
    if report.get("published_notes"):
        out += ["", "Note on bounds: " + report["published_notes"]["bounds"]]
    charts = report.get("charts", {})
    if charts:
        out += ["", "## Charts", ""]
        out += [f"![{name}]({path})" for name, path in charts.items()]
    for note in report.get("notes", []):
        out += ["", note]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------------- entry point


def pick_gantt_instance(methods: Sequence[Method], requested: str | None = None) -> tuple[Method, dict] | None:
    """The line whose best schedule to draw: ``requested`` (from the first method that answered it), else the
    answered instance with the most operations in the first method that has one."""
    for method in methods:
        answered = [line for line in method.lines if line.get("best_text")]
        if requested is not None:
            answered = [line for line in answered if line["id"] == requested]
        if answered:
            return method, max(answered, key=lambda line: line["num_jobs"] * line["num_machines"])
    return None


def evaluate(args: EvaluateArguments, show_progress: bool = True) -> dict:
    """Read the results, run the baselines, and write ``report.md``, ``report.json``, ``gap_by_size.png`` and a
    Gantt chart into ``args.output_dir``; returns the report."""
    from .plots import gantt_chart, gap_bar_chart

    if not args.results:
        raise ValueError("no results to evaluate: give --results FILE.jsonl (or --model and --benchmark to solve)")
    methods = load_methods(args.results, args.labels)
    if args.compare_decodings:
        labels = {method.label for method in methods}
        expanded = []
        for method in methods:
            if method.config.get("repair"):
                twin = without_repair(method)
                if twin.label in labels:
                    twin.label = f"{method.label} (without repair)"
                labels.add(twin.label)
                expanded.append(twin)
            expanded.append(method)
        methods = expanded
    fallback = (args.fallback_rule, args.fallback_variant)
    instances = instance_table(methods)
    logger.info("%d methods over %d instances; running the baselines", len(methods), len(instances))
    baselines = run_baselines(
        instances, args.rules, args.rule_variants, fallback, args.cpsat_time_limit, args.cpsat_workers, show_progress
    )
    report = build_report(methods, baselines, fallback, include_published=args.published)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    report["charts"] = {"gap per size group": "gap_by_size.png"}
    gap_bar_chart(report, output_dir / "gap_by_size.png")
    report["notes"] = []
    chosen = pick_gantt_instance(methods, args.gantt_instance)
    if chosen is None:
        what = f"instance {args.gantt_instance!r}" if args.gantt_instance else "any instance"
        report["notes"].append(f"No Gantt chart: no method has a feasible answer for {what}.")
        logger.warning(report["notes"][-1])
    else:
        method, line = chosen
        name = f"gantt_{_safe(line['id'])}.png"
        instance = parse_instance(line["input"], num_machines=line["num_machines"])
        gantt_chart(
            instance, line["best_text"], output_dir / name, bound=line.get("bound"),
            title=f"{line['id']} ({line['size']}): best of {method.label}",
        )  # fmt: skip
        report["charts"][f"best schedule of {line['id']}"] = name
    (output_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (output_dir / "report.md").write_text(render_markdown(report))
    return report


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
