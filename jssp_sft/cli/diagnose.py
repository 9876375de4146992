"""``jssp-sft diagnose``: does a fine-tuned model read its instance, or only the answer format?

    jssp-sft diagnose --model outputs/tiny-sft                       # the run's own held-out records
    jssp-sft diagnose --model DIR --dataset records.jsonl --num_records 100 --output diagnostics.json

Prints per-decision accuracy against the optimal next job (teacher-forced) beside chance, prompt sensitivity (greedy
answers with another same-size instance's prompt), loss by token class and the fixed-order check
(``jssp_sft.evaluation.diagnostics``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..evaluation.diagnostics import dataset_records, diagnose, render
from ..training.run import run_held_out_records


logger = logging.getLogger(__name__)


@dataclass
class DiagnoseArguments:
    """Arguments of ``jssp-sft diagnose``."""

    model: str = field(metadata={"help": "A trained model directory (a jssp-sft train output) or a Hub model id."})
    dataset: str | None = field(
        default=None,
        metadata={
            "help": "Starjob records with optimal solutions (file, directory or Hub id); default: the held-out "
            "split of the model's own training run (read from its jssp_sft_run.json)."
        },
    )
    num_records: int = field(default=64, metadata={"help": "Records diagnosed (the first ones)."})
    batch_size: int = field(default=8, metadata={"help": "Sequences per forward pass."})
    output: str | None = field(default=None, metadata={"help": "Write the diagnostics as JSON here."})

    def __post_init__(self):
        if self.num_records < 1 or self.batch_size < 1:
            raise ValueError("num_records and batch_size must be >= 1")


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((DiagnoseArguments,), prog=prog)


def main(args: DiagnoseArguments) -> int:
    from ..data.templates import PromptFormat
    from ..modeling.loading import load_for_generation

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.dataset is None:
        records = run_held_out_records(args.model, args.num_records)
    else:
        records = dataset_records(args.dataset, args.num_records)
    model, tokenizer = load_for_generation(args.model)
    result = diagnose(model, tokenizer, records, PromptFormat.from_pretrained(args.model), args.batch_size)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    print(f"jssp-sft diagnose: {args.model} on {args.dataset or 'its held-out records'}")
    print(render(result))
    return 0
