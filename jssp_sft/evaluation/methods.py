"""The methods of a report: one results file of ``jssp-sft solve`` each, labelled, checked against the others."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..solve.results import read_results


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
    """A method's own label (``FDD/MWKR (non_delay)``, from ``jssp-sft solve --method``), or the model's name with
    its decoding, repair and N."""
    if config.get("label"):
        return config["label"]
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


def with_repair_twins(methods: Sequence[Method]) -> list[Method]:
    """``methods`` with a row without repair before each method made with repair (``--compare_decodings``)."""
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
    return expanded


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
