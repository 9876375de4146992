"""Evaluation reports from solve results: per benchmark group and size group, beside controls, baselines and papers.

Input: one or more results files of ``jssp-sft solve`` (each a "method": a model with a decoding mode, repair or not).
For every method and group of instances: the numbers of ``jssp_sft.evaluation.summaries`` and the best-of-N curve
(the same numbers from the first N samples, N = 1, 2, 4, ...). Beside them, on the same instances, run in the same
command: the random control at every N of the curves, round robin and the best fixed job order per size
(``jssp_sft.evaluation.baselines``), dispatching rules and CP-SAT; and the published rows
(``jssp_sft.benchmarks.published``). The headline of each method is its lift: the random control's mean gap minus the
method's, from the same number of samples, on the instances the method answered.

Everything is computed from the samples' stored verdicts, so the numbers equal the ``jssp_makespan`` metric's on the
same texts (on the best texts of a method with repair, the metric's feasible rate is the report's answered rate: a
repaired text is feasible). Plain Python: no torch (matplotlib only for the charts, in ``jssp_sft.evaluation.plots``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from ..core.codec import parse_instance
from ..solvers.methods import MethodOptions
from .arguments import EvaluateArguments
from .baselines import BaselineRuns, best_rule, rule_name, run_baselines, run_controls
from .markdown import render_markdown
from .methods import Method, instance_table, load_methods, size_key, with_repair_twins
from .summaries import baseline_summary, curve_points, lift, outcome, summarize


logger = logging.getLogger(__name__)

ALL = "all"


def build_report(
    methods: Sequence[Method],
    baselines: BaselineRuns,
    fallback: tuple[str, str],
    include_published: bool = True,
) -> dict:
    """The whole report as JSON-ready data: per group and size, every method, control and baseline; curves with the
    random control at the same N; each method's lift; published rows."""
    instances = instance_table(methods)
    groups: dict[str, dict[str, list[str]]] = {}
    for key, line in instances.items():
        groups.setdefault(line["group"], {}).setdefault(line["size"], []).append(key)
    report_groups = {
        group: _group_entry(group, sizes, methods, instances, baselines, fallback) for group, sizes in groups.items()
    }
    if not include_published:
        for entry in report_groups.values():
            entry["published"] = []
    fallback_name = rule_name(*fallback)
    best_by_method = {m.label: {line["id"]: outcome(line).makespan for line in m.lines} for m in methods}
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
        ],
        "headline": [
            {"group": group, "method": label, **point}
            for group, entry in report_groups.items()
            for label, data in entry["methods"].items()
            for point in data["lift"]
        ],
        "bounds": sorted({str(line.get("bound_source")) for line in instances.values()}),
        "fallback": {"name": fallback_name, "description": baselines.descriptions.get(fallback_name, "")},
        "baselines": baselines.descriptions,
        "controls": baselines.controls,
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
        },
    }


def _group_entry(group, sizes, methods, instances, baselines: BaselineRuns, fallback) -> dict:
    """One group's part of the report: per size and over all, every method (with curve and lift) and baseline."""
    ordered = sorted(sizes, key=lambda s: _published_size_order(group, s))
    keys_of = {**{size: sizes[size] for size in ordered}, ALL: [k for s in ordered for k in sizes[s]]}
    fallback_makespans = baselines.makespans[rule_name(*fallback)]
    entry = {"sizes": ordered, "methods": {}, "baselines": {}, "controls": [], "best_rule": None, "published": []}
    for method in methods:
        mine = {line["id"]: line for line in method.lines if line["group"] == group}
        by_size, curve = {}, {}
        for size, keys in keys_of.items():
            lines = [mine[k] for k in keys if k in mine]
            if not lines:
                continue
            by_size[size] = summarize(lines, fallback_makespans).to_dict()
            curve[size] = [
                {"n": n, **_curve_point(lines, fallback_makespans, n, baselines)}
                for n in curve_points(min(len(line["samples"]) for line in lines))
            ]
        headline = []
        if ALL in curve and baselines.random_names:
            ends = {curve[ALL][0]["n"], curve[ALL][-1]["n"]}
            lines = [mine[k] for k in keys_of[ALL] if k in mine]
            headline = [lift(lines, baselines.makespans[baselines.random_names[n]], n) for n in sorted(ends)]
        entry["methods"][method.label] = {"sizes": by_size, "curve": curve, "lift": headline}
    for name, makespans in baselines.makespans.items():
        entry["baselines"][name] = {
            size: baseline_summary([instances[k] for k in keys], makespans) for size, keys in keys_of.items()
        }
    entry["controls"] = [name for name in baselines.controls if name in entry["baselines"]]
    entry["best_rule"] = best_rule(entry["baselines"], baselines, ALL)
    entry["published"] = _published_for(group)
    return entry


def _curve_point(lines: Sequence[dict], fallback: dict, n: int, baselines: BaselineRuns) -> dict:
    summary = summarize(lines, fallback, n)
    point = {
        "feasible_rate": summary.feasible_rate,
        "answered_rate": summary.answered_rate,
        "mean_gap": summary.mean_gap,
        "mean_gap_all": summary.mean_gap_all,
        "optimal_rate": summary.optimal_rate,
    }
    if n in baselines.random_names:
        paired = lift(lines, baselines.makespans[baselines.random_names[n]], n)
        point.update(random_gap=paired["random_gap"], lift=paired["lift"])
    return point


def _published_size_order(group: str, size: str) -> tuple:
    from ..benchmarks.published import SIZES

    order = SIZES.get(group, ())
    return (order.index(size), ()) if size in order else (len(order), size_key(size))


def _published_for(group: str) -> list[dict]:
    from ..benchmarks.published import SIZES, published_rows

    if group not in SIZES:
        return []
    return [
        {
            "method": row.method,
            "kind": row.kind,
            "gaps": dict(row.gaps),
            "average": row.average,
            "averaged_sizes": list(row.averaged_sizes),
            "source": row.source,
            "notes": row.notes,
        }
        for row in published_rows(group)
    ]


def _published_notes() -> dict:
    from ..benchmarks.published import BOUNDS_NOTE

    return {"bounds": BOUNDS_NOTE}


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


def evaluate(args: EvaluateArguments, cpsat: MethodOptions | None = None, show_progress: bool = True) -> dict:
    """Read the results, run the controls and baselines (CP-SAT with ``cpsat``'s options, default ones when not
    given, when ``args.cpsat_baseline``), and write ``report.md``, ``report.json``, ``gap_by_size.png``, ``lift.png``
    and a Gantt chart into ``args.output_dir``; returns the report."""
    from .plots import gantt_chart, gap_bar_chart, lift_chart

    if not args.results:
        raise ValueError("no results to evaluate: give --results FILE.jsonl (or --model and --benchmark to solve)")
    methods = load_methods(args.results, args.labels)
    if args.compare_decodings:
        methods = with_repair_twins(methods)
    fallback = (args.fallback_rule, args.fallback_variant)
    instances = instance_table(methods)
    logger.info("%d methods over %d instances; running the controls and baselines", len(methods), len(instances))
    cpsat = (cpsat or MethodOptions()) if args.cpsat_baseline else None
    baselines = run_baselines(instances, args.rules, args.rule_variants, fallback, cpsat, show_progress)
    sample_counts = {n for method in methods for n in curve_points(method.num_samples)}
    run_controls(instances, sample_counts, args.control_seed, args.fixed_order_samples, baselines, show_progress)
    report = build_report(methods, baselines, fallback, include_published=args.published)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    report["charts"] = {"gap per size group": "gap_by_size.png", "best of N against the random control": "lift.png"}
    gap_bar_chart(report, output_dir / "gap_by_size.png")
    lift_chart(report, output_dir / "lift.png")
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
        title = f"{line['id']} ({line['size']}): best of {method.label}"
        gantt_chart(instance, line["best_text"], output_dir / name, bound=line.get("bound"), title=title)
        report["charts"][f"best schedule of {line['id']}"] = name
    (output_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (output_dir / "report.md").write_text(render_markdown(report))
    return report


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
