"""``jssp-sft data-convert SOURCE --output OUT``: Starjob records in today's six fields, from any source the loader
reads, the authors' earlier verbose release included (``prompt_jobs_first``/``prompt_machines_first``, ``Job 5
Operation 0 on Machine 2 : 0 + 8 -> 8``, ``Makespan:  566.0, as it is ...``; see ``jssp_sft.core.starjob_v1``).

    jssp-sft data-convert jssp_llm_format_120k.json --output data/starjob-v1.jsonl
    jssp-sft data-convert old.json --output new.json --skip_invalid

Every record is validated (a legacy one only converts when its answer passes the verifier); an invalid record stops the
conversion with its index and problem, unless ``--skip_invalid``, which drops it and reports the count. ``OUT`` is
``.jsonl``, ``.json`` (a list) or ``.parquet``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..data.loading import SPEC_FIELDS, find_invalid_records, format_problems, load_source


logger = logging.getLogger(__name__)
OUTPUT_SUFFIXES = (".jsonl", ".json", ".parquet")


@dataclass
class DataConvertArguments:
    """Arguments of ``jssp-sft data-convert``."""

    path: str | None = field(
        default=None, metadata={"help": "Starjob records (.json/.jsonl/.parquet, a directory, or a Hub dataset id)."}
    )
    output: str | None = field(default=None, metadata={"help": "Where to write them: .jsonl, .json or .parquet."})
    split: str = field(default="train", metadata={"help": "Split of a Hub dataset to read."})
    skip_invalid: bool = field(default=False, metadata={"help": "Drop invalid records (counted) instead of stopping."})
    overwrite: bool = field(default=False, metadata={"help": "Replace --output if it exists."})
    num_proc: int | None = field(default=None, metadata={"help": "Processes for conversion and validation."})
    cache_dir: str | None = field(default=None, metadata={"help": "datasets cache directory."})

    def __post_init__(self):
        if self.output is not None and Path(self.output).suffix.lower() not in OUTPUT_SUFFIXES:
            raise ValueError(f"--output {self.output}: the suffix must be one of {', '.join(OUTPUT_SUFFIXES)}")


def make_parser(prog: str | None = None):
    from trl import TrlParser

    from .main import add_positional

    parser = TrlParser((DataConvertArguments,), prog=prog)
    add_positional(parser, "path", help="same as --path")
    return parser


def convert(args: DataConvertArguments) -> dict:
    """Read, validate and write; returns the counts (``num_read``, ``num_invalid``, ``num_written``)."""
    if not args.path or not args.output:
        raise ValueError("give the source (PATH or --path) and --output")
    output = Path(args.output)
    if output.exists() and not args.overwrite:
        raise ValueError(f"{output} exists; pass --overwrite to replace it")
    dataset, parts = load_source(args.path, split=args.split, cache_dir=args.cache_dir, num_proc=args.num_proc)
    problems = find_invalid_records(dataset, num_proc=args.num_proc)
    if problems and not args.skip_invalid:
        raise ValueError(
            f"{len(problems)} of {len(dataset)} records are invalid (--skip_invalid drops them):\n"
            + format_problems(problems, parts)
        )
    num_read = len(dataset)
    if problems:
        bad = {i for i, _ in problems}
        logger.warning("dropped %d invalid records; first: %s", len(bad), format_problems(problems[:3], parts, 3))
        dataset = dataset.select([i for i in range(num_read) if i not in bad])
    dataset = dataset.select_columns(list(SPEC_FIELDS))
    output.parent.mkdir(parents=True, exist_ok=True)
    suffix = output.suffix.lower()
    if suffix == ".parquet":
        dataset.to_parquet(str(output))
    else:
        with output.open("w") as handle:
            rows = (json.dumps(record) for record in dataset)
            if suffix == ".jsonl":
                handle.writelines(row + "\n" for row in rows)
            else:
                handle.write("[\n" + ",\n".join(rows) + "\n]\n")
    return {"num_read": num_read, "num_invalid": len(problems), "num_written": len(dataset)}


def main(args: DataConvertArguments) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    counts = convert(args)
    skipped = f", {counts['num_invalid']} invalid dropped" if counts["num_invalid"] else ""
    print(f"{args.output}: {counts['num_written']} records of {counts['num_read']} in today's Starjob format{skipped}")
    return 0
