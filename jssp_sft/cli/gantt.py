"""``jssp-sft gantt``: draw a schedule as a Gantt chart PNG, from any Starjob output and its instance.

    jssp-sft gantt --instance input.txt --solution output.txt --output schedule.png
    jssp-sft gantt --instance shop.taillard.txt --solution shop.json --output shop.png  # any format solve reads/writes
    jssp-sft gantt --results results.jsonl --id ta01 --output ta01.png        # the best answer of a solve run
    jssp-sft gantt --record data/starjob.jsonl --index 7 --output rec7.png    # a Starjob record's own solution

An infeasible schedule is drawn too, with the operations named in violations outlined in red.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.codec import parse_instance
from ..core.formats import read_instance_file, read_solution_file
from ..evaluation.plots import gantt_chart
from .verify import INSTANCE_HELP, SOLUTION_HELP, instance_format_field, solution_format_field


@dataclass
class GanttArguments:
    """Where the instance and the schedule come from (one of three ways), and where the PNG goes."""

    output: str = field(default="gantt.png", metadata={"help": "The PNG to write."})
    instance: str | None = field(default=None, metadata={"help": INSTANCE_HELP})
    solution: str | None = field(default=None, metadata={"help": SOLUTION_HELP})
    format: str | None = instance_format_field()
    solution_format: str | None = solution_format_field()
    results: str | None = field(default=None, metadata={"help": "A jssp-sft solve results file (with --id)."})
    id: str | None = field(default=None, metadata={"help": "The instance id in --results."})
    record: str | None = field(default=None, metadata={"help": "A Starjob data file (with --index): its `output`."})
    index: int = field(default=0, metadata={"help": "The record's index in --record."})
    title: str | None = field(default=None, metadata={"help": "Chart title (default: the instance's id or size)."})


def load_drawing(args: GanttArguments) -> tuple:
    """``(instance, schedule or solution text, bound, title)`` from whichever source ``args`` name."""
    if args.results is not None:
        from ..solve.results import read_results

        if args.id is None:
            raise ValueError("--results needs --id (the instance to draw)")
        lines, _ = read_results(args.results)
        line = next((x for x in lines if x["id"] == args.id), None)
        if line is None:
            raise ValueError(f"{args.results}: no instance with id {args.id!r}")
        if not line.get("best_text"):
            raise ValueError(f"{args.results}: instance {args.id!r} has no feasible answer to draw")
        instance = parse_instance(line["input"], num_machines=line["num_machines"], name=line["id"])
        return instance, line["best_text"], line.get("bound"), args.title or f"{line['id']} ({line['size']})"
    if args.record is not None:
        from ..data.loading import load_records

        records = load_records(args.record)
        if not 0 <= args.index < len(records):
            raise ValueError(f"{args.record}: no record {args.index} (it has {len(records)})")
        record = records[args.index]
        instance = parse_instance(record["input"], num_machines=record["num_machines"])
        return instance, record["output"], None, args.title or f"{Path(args.record).name} record {args.index}"
    if args.instance is None or args.solution is None:
        raise ValueError("give --instance and --solution, or --results with --id, or --record with --index")
    instance = read_instance_file(args.instance, args.format)
    return instance, read_solution_file(args.solution, args.solution_format), None, args.title


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((GanttArguments,), prog=prog)


def main(args: GanttArguments) -> int:
    instance, text, bound, title = load_drawing(args)
    if not Path(args.output).resolve().parent.is_dir():
        raise FileNotFoundError(f"{args.output}: its directory does not exist")
    try:
        report = gantt_chart(instance, text, args.output, bound=bound, title=title)
    except ValueError as err:  # no schedule in the text
        source = args.solution or args.results or args.record
        raise ValueError(f"{source}: {err}") from None
    status = "feasible" if report.feasible else f"infeasible ({len(report.violations)} violations)"
    print(f"{args.output}: makespan {report.makespan}, {status}")
    return 0
