"""``jssp-sft data-report PATH``: what a Starjob data source holds and how sound it is, before training on it.

Prints the record count, the size distribution, every validation problem (up to a limit), the feasibility and
makespan-match rate of the data's own solutions, and, given a tokenizer, the training length in tokens of each
formatted example. Exits 1 when some record is invalid or some solution is infeasible or declares a wrong makespan.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field

from ..data.quality import check_outputs
from ..data.records import LINE_COLUMN, PROBLEM_COLUMN
from ..data.sources import describe_index, load_source
from ..data.templates import TEMPLATES, PromptFormat
from ..data.tokenization import token_lengths
from ..data.validation import find_invalid_records, problem_lines


logger = logging.getLogger(__name__)


@dataclass
class DataReportArguments:
    """Arguments of ``jssp-sft data-report``."""

    path: str | None = field(
        default=None,
        metadata={"help": "A Starjob .json/.jsonl/.parquet file, a directory of them, or a Hub dataset id."},
    )
    split: str = field(default="train", metadata={"help": "Split of a Hub dataset to read."})
    tokenizer: str | None = field(
        default=None, metadata={"help": "Tokenizer (name or path) to measure the training length in tokens."}
    )
    template: str = field(
        default=PromptFormat.template,
        metadata={"help": "Template the examples are formatted with for token counts.", "choices": list(TEMPLATES)},
    )
    system_prompt: str | None = field(default=None, metadata={"help": "System prompt (template=messages)."})
    max_length: int | None = field(
        default=None, metadata={"help": "Count the examples longer than this many tokens (needs --tokenizer)."}
    )
    verify_outputs: bool = field(
        default=True, metadata={"help": "Verify each record's output (feasibility and makespan-match rate)."}
    )
    max_problems: int = field(default=20, metadata={"help": "How many validation problems to list."})
    num_proc: int | None = field(default=None, metadata={"help": "Processes for validation and tokenization."})
    cache_dir: str | None = field(default=None, metadata={"help": "datasets cache directory."})
    json: bool = field(default=False, metadata={"help": "Print the report as JSON."})


def make_parser(prog: str | None = None):
    from trl import TrlParser

    from .main import add_positional

    parser = TrlParser((DataReportArguments,), prog=prog)
    add_positional(parser, "path", help="same as --path")
    return parser


def _percentile(sorted_values: list[int], fraction: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def build_report(args: DataReportArguments) -> dict:
    """The report as a JSON-ready dict (see the module docstring)."""
    dataset, parts = load_source(args.path, split=args.split, cache_dir=args.cache_dir, num_proc=args.num_proc)
    problems = find_invalid_records(dataset, num_proc=args.num_proc)
    lines = problem_lines(dataset, problems, args.max_problems)
    dataset = dataset.remove_columns([c for c in (PROBLEM_COLUMN, LINE_COLUMN) if c in dataset.column_names])
    unsolved = sum("holds no parseable solution" in problem for _, problem in problems)
    report: dict = {
        "source": args.path,
        "num_records": len(dataset),
        "num_invalid": len(problems),
        "num_unsolved": unsolved,
        "problems": [
            {"index": i, "line": lines.get(i), "record": describe_index(i, parts, lines.get(i)), "problem": problem}
            for i, problem in problems[: args.max_problems]
        ],
    }
    kept = None
    if problems:
        bad = {i for i, _ in problems}
        kept = [i for i in range(len(dataset)) if i not in bad]
        dataset = dataset.select(kept)
    sizes = Counter(zip(dataset["num_jobs"], dataset["num_machines"])) if len(dataset) else Counter()
    report["sizes"] = {f"{n}x{m}": count for (n, m), count in sorted(sizes.items())}
    report["output_quality"] = (
        check_outputs(dataset, args.num_proc, source_indices=kept).to_dict() if args.verify_outputs else None
    )
    report["token_lengths"] = None
    if args.tokenizer is not None and len(dataset):
        from ..modeling.loading import load_tokenizer

        tokenizer = load_tokenizer(args.tokenizer)
        prompt_format = PromptFormat(args.template, args.system_prompt)
        lengths = sorted(token_lengths(dataset, tokenizer, prompt_format, num_proc=args.num_proc))
        report["token_lengths"] = {
            "template": args.template,
            "count": len(lengths),
            "min": lengths[0],
            "mean": sum(lengths) / len(lengths),
            "median": _percentile(lengths, 0.5),
            "p95": _percentile(lengths, 0.95),
            "max": lengths[-1],
            "max_length": args.max_length,
            "num_over_max_length": None if args.max_length is None else sum(n > args.max_length for n in lengths),
        }
    return report


def _print_text(report: dict) -> None:
    unsolved = f" ({report['num_unsolved']} without a parseable solution)" if report["num_unsolved"] else ""
    print(f"{report['source']}: {report['num_records']} records, {report['num_invalid']} invalid{unsolved}")
    for problem in report["problems"]:
        print(f"  {problem['record']}: {problem['problem']}")
    if report["num_invalid"] > len(report["problems"]):
        print(f"  ... and {report['num_invalid'] - len(report['problems'])} more")
    print("sizes (jobs x machines: records):")
    for size, count in report["sizes"].items():
        print(f"  {size:>7}: {count}")
    quality = report["output_quality"]
    if quality is not None and quality["num_records"]:
        print(
            f"solutions: feasible: {100 * quality['feasible_rate']:.2f}%, "
            f"declared makespan matches: {100 * quality['makespan_match_rate']:.2f}% "
            f"(over {quality['num_records']} valid records)"
        )
        for kind, count in quality["violations"].items():
            print(f"  {kind}: {count}")
        for index, message in quality["examples"]:
            print(f"  record {index}: {message}")
    tokens = report["token_lengths"]
    if tokens is not None:
        print(
            f"tokens ({tokens['template']}): min {tokens['min']}, median {tokens['median']}, "
            f"mean {tokens['mean']:.1f}, "
            f"p95 {tokens['p95']}, max {tokens['max']}"
        )
        if tokens["max_length"] is not None:
            print(f"  {tokens['num_over_max_length']} examples are longer than max_length={tokens['max_length']}")


def main(args: DataReportArguments) -> int:
    if args.path is None:
        raise SystemExit("jssp-sft data-report: give the data source: jssp-sft data-report PATH")
    if args.max_length is not None and args.tokenizer is None:
        raise SystemExit("jssp-sft data-report: --max_length needs --tokenizer")
    report = build_report(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_text(report)
    quality = report["output_quality"]
    unsound = quality is not None and (
        quality["num_feasible"] < quality["num_records"] or quality["num_makespan_matches"] < quality["num_records"]
    )
    return 1 if report["num_invalid"] or unsound else 0
