"""Charts for reports: a Gantt chart of a schedule, mean gap per size group of methods against controls and baselines,
and the best-of-N curve of each method against the random control at the same N.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global backend switch), so it works headless and
leaves a user's matplotlib state alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.instance import Instance
from ..core.schedule import Schedule
from ..core.verifier import Report


# Published rows drawn beside ours (the strongest learned methods; the PDR rows are in the table).
CHART_PUBLISHED = ("L2D", "LLM-FT")
# Bars are labelled with their job only in charts this small; larger ones would be a wall of text.
MAX_LABELLED_OPERATIONS = 400


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


# Twenty colours told apart at a glance (Sasha Trubetskoy's list), ordered so that neighbouring jobs contrast.
DISTINCT_COLORS = (
    "#4363d8",
    "#e6194b",
    "#3cb44b",
    "#ffe119",
    "#911eb4",
    "#f58231",
    "#42d4f4",
    "#800000",
    "#bfef45",
    "#f032e6",
    "#000075",
    "#9a6324",
    "#469990",
    "#fabed4",
    "#808000",
    "#dcbeff",
    "#a9a9a9",
    "#ffd8b1",
    "#aaffc3",
    "#fffac8",
)
# Above this many jobs the legend gives way to a colour bar over the job index.
MAX_LEGEND_JOBS = len(DISTINCT_COLORS)


def job_colors(num_jobs: int) -> list:
    """One colour per job: ``DISTINCT_COLORS`` for up to 20 jobs; beyond, the ``turbo`` colour map over the job
    index (job j's colour is read off the chart's colour bar), so neighbouring jobs still differ."""
    from matplotlib import colormaps
    from matplotlib.colors import to_rgba

    if num_jobs <= MAX_LEGEND_JOBS:
        return [to_rgba(c) for c in DISTINCT_COLORS[:num_jobs]]
    turbo = colormaps["turbo"]
    return [turbo(0.05 + 0.9 * j / (num_jobs - 1)) for j in range(num_jobs)]


def _text_color(rgba) -> str:
    """Black on light bars, white on dark ones (relative luminance)."""
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def gantt_chart(
    instance: Instance,
    solution: Schedule | str,
    path: str | Path,
    bound: float | None = None,
    title: str | None = None,
) -> Report:
    """Draw ``solution`` (a ``Schedule`` or a model's output text) for ``instance`` as a Gantt chart PNG at ``path``
    (``gantt_figure``); returns the verifier's report."""
    figure, report = gantt_figure(instance, solution, bound, title)
    figure.savefig(path, dpi=120)
    return report


def gantt_figure(
    instance: Instance, solution: Schedule | str, bound: float | None = None, title: str | None = None
) -> tuple:
    """The Gantt chart of ``solution`` for ``instance`` as a matplotlib ``Figure``, and the verifier's report.

    One row per machine (and one "other" row for operations on machines the instance lacks), one bar per operation
    coloured by job (``job_colors``; labelled with its job where the bar is wide enough), a job legend beside the
    chart (a colour bar beyond 20 jobs), and the makespan (and ``bound``) as vertical lines labelled above the
    chart, so no label covers a bar. Operations named in a violation are outlined in red and hatched, so an
    infeasible answer shows where it goes wrong. Raises ``ValueError`` when the text holds no schedule at all.
    """
    from ..core.codec import format_solution, parse_solution
    from ..core.scoring import verify_prediction

    text = solution if isinstance(solution, str) else format_solution(solution)
    report = verify_prediction(instance, text)
    if not report.parsed:
        raise ValueError(f"nothing to draw: {report.violations[0].message}")
    schedule = parse_solution(text)
    flagged = {(v.job, v.op_index) for v in report.violations if v.job is not None and v.op_index is not None}
    flagged_jobs = {v.job for v in report.violations if v.job is not None and v.op_index is None}
    known = instance.num_machines
    other = any(op.machine >= known for op in schedule.operations)
    rows = known + other
    makespan = schedule.makespan
    num_jobs = max(instance.num_jobs, 1 + max((op.job for op in schedule.operations), default=0))
    figure = _figure(min(4 + 0.02 * len(schedule) + 7, 24), max(3.0, 0.45 * rows + 1.8))
    axes = figure.add_subplot()
    colors = job_colors(num_jobs)
    # One broken_barh (one PolyCollection) per machine, and one more for its flagged operations: the draw calls grow
    # with the machines, not the operations, so a 200x50 schedule renders in about a second.
    by_machine: dict[int, tuple[list, list]] = {}
    for op in schedule.operations:
        bad = (op.job, op.op_index) in flagged or op.job in flagged_jobs
        by_machine.setdefault(min(op.machine, known), ([], []))[bad].append(op)
    for machine, groups in sorted(by_machine.items()):
        for bad, ops in enumerate(groups):
            if ops:
                axes.broken_barh(
                    [(op.start, op.duration) for op in ops],
                    (machine - 0.4, 0.8),
                    facecolors=[colors[op.job % len(colors)] for op in ops],
                    edgecolors="red" if bad else "black",
                    linewidth=2.0 if bad else 0.5,
                    hatch="//" if bad else None,
                )
    if makespan and len(schedule) <= MAX_LABELLED_OPERATIONS:
        for op in schedule.operations:
            if op.duration >= 0.03 * makespan:
                row = min(op.machine, known)
                color = _text_color(colors[op.job % len(colors)])
                axes.text(
                    op.start + op.duration / 2, row, f"J{op.job}", ha="center", va="center", fontsize=7, color=color
                )
    _mark_time(axes, makespan, f"makespan {makespan}", "black", "-")
    if bound:
        _mark_time(axes, bound, f"bound {bound:g}", "tab:green", "--")
    axes.set_yticks(range(rows), [f"M{m}" for m in range(known)] + ["other"] * other)
    axes.set_ylim(rows - 0.5, -0.5)
    axes.set_xlim(0, max(makespan, bound or 0) * 1.01 or 1)
    axes.set_xlabel("time")
    _job_key(figure, axes, colors)
    verdict = "feasible" if report.feasible else f"INFEASIBLE: {len(report.violations)} violation(s)"
    axes.set_title(f"{title or instance.name or instance.size} | makespan {makespan}, {verdict}", fontsize=10, pad=16)
    figure.tight_layout()
    return figure, report


def _mark_time(axes, x: float, label: str, color: str, style: str) -> None:
    """A vertical line at ``x`` across the chart, labelled just above the plotting area (never over a bar)."""
    axes.axvline(x, color=color, linestyle=style, linewidth=1.2)
    axes.annotate(
        label,
        (x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(0, 2),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=8,
        color=color,
    )


def _job_key(figure, axes, colors: list) -> None:
    """Which colour is which job: a legend beside the chart, or a colour bar over the job index beyond 20 jobs."""
    if len(colors) <= MAX_LEGEND_JOBS:
        from matplotlib.patches import Patch

        handles = [Patch(facecolor=c, edgecolor="black", linewidth=0.5, label=f"J{j}") for j, c in enumerate(colors)]
        columns = 1 if len(colors) <= 12 else 2
        axes.legend(
            handles=handles, title="job", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, ncols=columns
        )
        return
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    scale = ScalarMappable(Normalize(-0.5, len(colors) - 0.5), ListedColormap(colors))
    bar = figure.colorbar(scale, ax=axes, pad=0.01, fraction=0.04)
    bar.set_label("job")


def gap_bar_chart(report: dict, path: str | Path, baselines: Sequence[str] | None = None) -> None:
    """Mean gap % per size group: every method (gap over answered instances, answered rate printed above), the
    baselines (default: the controls, the best dispatching rule and CP-SAT) and the published L2D and LLM-FT rows."""
    import numpy as np

    groups = report["groups"]
    figure = _figure(12, 3.8 * max(len(groups), 1))
    for index, (group, entry) in enumerate(groups.items()):
        axes = figure.add_subplot(len(groups), 1, index + 1)
        sizes = entry["sizes"]
        series: list[tuple[str, list[float | None], list[str] | None, str | None]] = []
        for label, data in entry["methods"].items():
            by_size = data["sizes"]
            gaps = [_percent(by_size.get(s, {}).get("mean_gap")) for s in sizes]
            notes = [_answered_note(by_size.get(s, {}).get("answered_rate")) for s in sizes]
            series.append((label, gaps, notes, None))
        chosen = baselines if baselines is not None else _default_baselines(entry)
        for name in chosen:
            if name in entry["baselines"]:
                series.append((name, [_percent(entry["baselines"][name][s]["mean_gap"]) for s in sizes], None, None))
        for row in entry["published"]:
            if row["method"] in CHART_PUBLISHED:
                series.append((f"{row['method']} (published)", [row["gaps"].get(s) for s in sizes], None, "//"))
        width = 0.8 / max(len(series), 1)
        x = np.arange(len(sizes))
        for k, (label, values, notes, hatch) in enumerate(series):
            heights = [v if v is not None else 0.0 for v in values]
            bars = axes.bar(x + (k - (len(series) - 1) / 2) * width, heights, width, label=label, hatch=hatch)
            for bar, value, note in zip(bars, values, notes or [None] * len(values)):
                if value is None:
                    bar.set_visible(False)
                elif note:
                    top = (bar.get_x() + bar.get_width() / 2, bar.get_height())
                    axes.annotate(note, top, ha="center", va="bottom", fontsize=6, rotation=90)
        axes.set_xticks(x, sizes)
        axes.margins(y=0.2)  # room for the answered-rate notes above the bars
        axes.set_ylabel("mean gap %")
        axes.set_title(f"{group}: mean gap to the bound per size group (lower is better)", fontsize=10)
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def lift_chart(report: dict, path: str | Path) -> None:
    """Mean gap % against N (best of the first N samples, over all of a group's instances the method answered):
    every method beside the random control at the same N, on the same instances; the lift is the distance."""
    groups = report["groups"]
    figure = _figure(8, 3.5 * max(len(groups), 1))
    for index, (group, entry) in enumerate(groups.items()):
        axes = figure.add_subplot(len(groups), 1, index + 1)
        for label, data in entry["methods"].items():
            curve = [p for p in data["curve"].get("all", []) if p.get("lift") is not None]
            if not curve:
                continue
            (line,) = axes.plot([p["n"] for p in curve], [100 * p["mean_gap"] for p in curve], "o-", label=label)
            random_gaps = [100 * p["random_gap"] for p in curve]
            label = f"random control, same N and instances as {label}"
            axes.plot([p["n"] for p in curve], random_gaps, "o--", color=line.get_color(), alpha=0.6, label=label)
        axes.set_xscale("log", base=2)
        axes.set_xlabel("N (best of the first N samples)")
        axes.set_ylabel("mean gap %")
        axes.set_title(f"{group}: best of N against the random control (lower is better)", fontsize=10)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def _default_baselines(entry: dict) -> list[str]:
    """The controls, the best dispatching rule and CP-SAT of a group."""
    names = list(entry["baselines"])
    chosen = list(entry.get("controls", []))
    if entry.get("best_rule"):
        chosen.append(entry["best_rule"])
    return chosen + [n for n in names if n.startswith("CP-SAT")]


def _percent(value: float | None) -> float | None:
    return None if value is None else 100 * value


def _answered_note(value: float | None) -> str | None:
    return None if value is None else f"{100 * value:.0f}% ans."


def loss_curve(log_history: list[dict], path: str | Path, title: str | None = None) -> Path:
    """Train and eval loss against the step (a ``Trainer``'s ``log_history``), as a PNG."""
    train = [(e["step"], e["loss"]) for e in log_history if "loss" in e]
    evals = [(e["step"], e["eval_loss"]) for e in log_history if "eval_loss" in e]
    figure = _figure(6, 4)
    axes = figure.add_subplot()
    if train:
        axes.plot(*zip(*train), label="train loss")
    if evals:
        axes.plot(*zip(*evals), "o-", label="eval loss")
    axes.set_xlabel("step")
    axes.set_ylabel("loss (completion tokens)")
    if title:
        axes.set_title(title)
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return Path(path)


def rounds_chart(rows: Sequence[dict], path: str | Path, num_samples: int) -> Path:
    """Mean gap to CP-SAT per round (greedy and best of N) against the controls, as a PNG."""
    figure = _figure(6.4, 4.0)
    axes = figure.add_subplot()
    rounds = [row["round"] for row in rows]
    for key, label, style in (
        ("greedy_gap", "model, greedy", "o-"),
        ("best_of_n_gap", f"model, best of {num_samples}", "s-"),
        ("random_1_gap", "random policy, one sample", "-."),
        ("random_n_gap", f"random policy, best of {num_samples}", "--"),
        ("best_rule_gap", "best dispatching rule", ":"),
    ):
        values = [None if row.get(key) is None else 100 * row[key] for row in rows]
        axes.plot(rounds, values, style, label=label)
    axes.axhline(0.0, color="black", linewidth=0.8, label="CP-SAT (reference)")
    axes.set_xlabel("round (0: starting model)")
    axes.set_ylabel("mean gap to CP-SAT on the held-out set (%)")
    axes.set_xticks(rounds)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return Path(path)
