"""The arguments of ``jssp-sft evaluate`` (with ``--benchmark``/``--dataset`` it first runs ``jssp-sft solve``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..solvers.controls import MAX_EXHAUSTIVE_ORDERS
from ..solvers.dispatching import DEFAULT_VARIANT, VARIANTS


DEFAULT_RULES = ("SPT", "MWKR", "FDD/MWKR", "MOPNR")
DEFAULT_RULE_VARIANTS = ("insertion", "non_delay")


@dataclass
class EvaluateArguments:
    """Arguments of ``jssp-sft evaluate`` (with ``--benchmark``/``--dataset`` it first runs ``jssp-sft solve``)."""

    _argument_group_name = "the report"

    results: list[str] = field(
        default_factory=list, metadata={"help": "Results files of jssp-sft solve, one per method (space-separated)."}
    )
    labels: list[str] = field(
        default_factory=list, metadata={"help": "A name per results file (default: model, decoding, repair, N)."}
    )
    output_dir: str = field(
        default="outputs/evaluation", metadata={"help": "Where report.md, report.json and the PNGs go."}
    )
    rules: list[str] = field(
        default_factory=lambda: list(DEFAULT_RULES), metadata={"help": "Dispatching rules run as baselines."}
    )
    rule_variants: list[str] = field(
        default_factory=lambda: list(DEFAULT_RULE_VARIANTS),
        metadata={"help": f"Variants of the baseline rules' rows: {', '.join(VARIANTS)}."},
    )
    fallback_rule: str = field(
        default="MWKR", metadata={"help": "Rule whose makespan stands in for an instance without a feasible answer."}
    )
    fallback_variant: str = field(
        default=DEFAULT_VARIANT, metadata={"help": "Variant of the fallback rule.", "choices": list(VARIANTS)}
    )
    cpsat_baseline: bool = field(
        default=True,
        metadata={
            "help": "A CP-SAT row beside the methods, run with --deterministic_time, --time_limit and --workers "
            "(seed 0)."
        },
    )
    control_seed: int = field(
        default=0,
        metadata={
            "help": "Seed of the random control (a uniform pick among the unfinished jobs, placed as guaranteed "
            "decoding places operations), sampled as many times as each method: its lift is measured against it."
        },
    )
    fixed_order_samples: int = field(
        default=MAX_EXHAUSTIVE_ORDERS,
        metadata={
            "help": "Best fixed job order per size: exhaustive up to this many distinct orders, else round robin "
            "plus this many seeded random orders."
        },
    )
    gantt_instance: str | None = field(
        default=None,
        metadata={"help": "Id of the instance whose best schedule is drawn (default: the largest answered)."},
    )
    published: bool = field(default=True, metadata={"help": "Show the published rows (PDRs, L2D, LLM-FT)."})
    compare_decodings: bool = field(
        default=False,
        metadata={
            "help": "Rows for free decoding, free decoding with repair and guaranteed decoding: with --model, "
            "solve twice (free with repair, guaranteed); a results file made with repair also gets a row "
            "without it (same samples)."
        },
    )

    def __post_init__(self):
        if self.labels and len(self.labels) != len(self.results):
            raise ValueError(f"{len(self.labels)} labels for {len(self.results)} results files")
        if self.fixed_order_samples < 1:
            raise ValueError("fixed_order_samples must be >= 1")
