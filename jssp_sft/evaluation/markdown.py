"""``report.md``: a report (``jssp_sft.evaluation.report.build_report``) as Markdown, headline first.

The headline is each method's lift over the random control at the same N; then, per group, one table with every
method, the controls, the dispatching rules, CP-SAT and the published rows; then each method's details and its
best-of-N curve beside the random control's.
"""

from __future__ import annotations

from collections.abc import Sequence


ALL = "all"


def pct(value: float | None, digits: int = 2) -> str:
    """A fraction as a percentage without the sign (``0.1234`` -> ``12.34``), ``-`` for none."""
    return "-" if value is None else f"{100 * value:.{digits}f}"


def rate_text(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return out + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def render_markdown(report: dict) -> str:
    """The whole ``report.md``."""
    out = ["# Evaluation report", ""]
    out += _headline(report)
    out += _definitions(report)
    out += _methods(report)
    for group, entry in report["groups"].items():
        out += _group(group, entry, report["fallback"]["name"])
    if report.get("published_notes"):
        out += ["", "Note on bounds: " + report["published_notes"]["bounds"]]
    charts = report.get("charts", {})
    if charts:
        out += ["", "## Charts", ""] + [f"![{name}]({path})" for name, path in charts.items()]
    for note in report.get("notes", []):
        out += ["", note]
    return "\n".join(out) + "\n"


def _headline(report: dict) -> list[str]:
    rows = [
        [
            point["group"],
            point["method"],
            point["n"],
            f"{point['instances']}/{point['scored']}",
            pct(point["model_gap"]),
            pct(point["random_gap"]),
            pct(point["lift"]),
        ]
        for point in report.get("headline", [])
    ]
    if not rows:
        return []
    out = ["## Headline: lift over the random control", ""]
    out.append(
        "Lift = the random control's mean gap minus the method's, in points, from the same number N of samples "
        "(best of N each), on the instances the method answered (answered/scored). Positive: better than chance."
    )
    return out + [""] + table(["group", "method", "N", "answered", "gap %", "random gap %", "lift"], rows) + [""]


def _definitions(report: dict) -> list[str]:
    fallback = report["fallback"]["name"]
    return [
        "Gap = (makespan - bound) / bound, in %. Bounds: " + "; ".join(report["bounds"]) + ".",
        f"An instance counts as feasible when any of its samples is feasible as written; repaired answers are counted "
        f"apart. `gap (answered)` averages over instances with an answer; `gap (all)` over every instance, with the "
        f"{fallback} dispatching rule's makespan standing in for an instance without an answer.",
    ]


def _methods(report: dict) -> list[str]:
    out = ["", "## Methods", ""]
    for method in report["methods"]:
        c = method["config"]
        out.append(
            f"- **{method['label']}**: `{method['path']}`, {method['instances']} instances; model `{c.get('model')}`, "
            f"template {c.get('template')}, backend {c.get('backend')}, decoding {c.get('decoding')}, repair "
            f"{c.get('repair')}, N={c.get('num_samples')}, temperature {c.get('temperature')}, top-p {c.get('top_p')}, "
            f"max new tokens {c.get('max_new_tokens') or 'auto'}, seed {c.get('seed')}"
        )
    out += ["", "Controls and baselines, run on the same instances in the same command:", ""]
    return out + [f"- **{name}**: {description}" for name, description in report["baselines"].items()]


def _group(group: str, entry: dict, fallback: str) -> list[str]:
    out = ["", f"## {group}", "", "### Mean gap % per size group", ""]
    out += _comparison(entry, fallback)
    out += _published_sources(entry)
    for label, data in entry["methods"].items():
        out += _details(group, label, data)
    return out


def _comparison(entry: dict, fallback: str) -> list[str]:
    """Every method, then the controls, the best rule (named), every rule, CP-SAT and the published rows."""
    sizes = [*entry["sizes"], ALL]
    rows = []
    for label, data in entry["methods"].items():
        by_size = data["sizes"]
        rows.append(
            [f"{label}: gap (answered) [answered]"]
            + [
                f"{pct(by_size[s]['mean_gap'])} [{rate_text(by_size[s]['answered_rate'])}]" if s in by_size else ""
                for s in sizes
            ]
        )
        rows.append(
            [f"{label}: gap (all, {fallback} fallback)"]
            + [pct(by_size[s]["mean_gap_all"]) if s in by_size else "" for s in sizes]
        )
    baselines = entry["baselines"]
    controls = entry.get("controls", [])
    for name in controls:
        rows.append([f"control: {name}"] + [pct(baselines[name][s]["mean_gap"]) for s in sizes])
    if entry.get("best_rule"):
        best = baselines[entry["best_rule"]]
        rows.append(
            [f"best dispatching rule (over all sizes): {entry['best_rule']}"]
            + [pct(best[s]["mean_gap"]) for s in sizes]
        )
    for name, by_size in baselines.items():
        if name not in controls:
            rows.append([name] + [pct(by_size[s]["mean_gap"]) for s in sizes])
    for row in entry["published"]:
        values = [f"{row['gaps'][s]:.2f}" if s in row["gaps"] else "" for s in entry["sizes"]]
        average = f"{row['average']:.2f}*" if row["average"] is not None else ""
        rows.append([f"published: {row['method']}", *values, average])
    return table(["method", *sizes], rows)


def _published_sources(entry: dict) -> list[str]:
    if not entry["published"]:
        return []
    averaged = ", ".join(entry["published"][0]["averaged_sizes"])
    out = [
        "",
        f"Published rows (as published, not rerun; * = the source's average over sizes {averaged}, not over "
        "these instances):",
        "",
    ]
    sources: dict[tuple[str, str], list[str]] = {}
    for row in entry["published"]:
        sources.setdefault((row["source"], row["notes"]), []).append(row["method"])
    return out + [
        f"- {', '.join(methods)}: {source}" + (f" Note: {notes}" if notes else "")
        for (source, notes), methods in sources.items()
    ]


def _details(group: str, label: str, data: dict) -> list[str]:
    out = ["", f"### {label}: details", ""]
    header = [
        "size",
        "instances",
        "feasible",
        "repaired",
        "valid",
        "gap (answered)",
        "gap (all)",
        "optimal",
        "sample feasible",
        "tokens/sample",
        "s/instance",
    ]
    rows = [
        [
            size,
            s["instances"],
            rate_text(s["feasible_rate"]),
            rate_text(s["repaired_rate"]),
            rate_text(s["valid_rate"]),
            pct(s["mean_gap"]),
            pct(s["mean_gap_all"]),
            rate_text(s["optimal_rate"]),
            rate_text(s["sample_feasible_rate"]),
            "-" if s["mean_tokens"] is None else f"{s['mean_tokens']:.0f}",
            "-" if s["mean_seconds"] is None else f"{s['mean_seconds']:.2f}",
        ]
        for size, s in data["sizes"].items()
    ]
    out += table(header, rows)
    curve = data["curve"].get(ALL, [])
    if curve:
        out += [
            "",
            f"Best of N ({label}, all {group} instances, first N samples of each; the random control from "
            "the same N on the answered instances):",
            "",
        ]
        out += table(
            ["N", "feasible", "answered", "gap (answered)", "gap (all)", "optimal", "random control gap", "lift"],
            [
                [
                    p["n"],
                    rate_text(p["feasible_rate"]),
                    rate_text(p["answered_rate"]),
                    pct(p["mean_gap"]),
                    pct(p["mean_gap_all"]),
                    rate_text(p["optimal_rate"]),
                    pct(p.get("random_gap")),
                    pct(p.get("lift")),
                ]
                for p in curve
            ],
        )
    return out
