"""``jssp-sft verify``: check one schedule against one instance and print the report.

The instance may be in any format ``solve`` reads (starjob, also inside a whole prompt; standard, taillard, matrix,
json, csv: detected, or ``--format``); the schedule in any format ``solve`` writes (a Starjob solution text or a
model's answer, or ``solve``'s ``.json`` / ``.csv``: detected, or ``--solution_format``). Exit status: 0 feasible,
1 infeasible or an answer that does not read (the report says why), 2 bad input (a missing or malformed file; one
line on stderr naming the file, line and field).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..core.formats import FORMATS, SCHEDULE_FORMATS, read_instance_file, read_solution_file
from ..core.verifier import verify
from .main import EXIT_NEGATIVE, EXIT_OK


INSTANCE_HELP = f"The instance file, in any format solve reads ({', '.join(FORMATS)}; detected); - for stdin."
SOLUTION_HELP = "The schedule: a Starjob solution text or a model's answer, or solve's .json/.csv output; - for stdin."


def instance_format_field():
    """``--format``: the instance file's format, of a command that reads one (verify, gantt)."""
    return field(
        default=None, metadata={"help": "The instance's format (default: detected).", "choices": list(FORMATS)}
    )


def solution_format_field():
    """``--solution_format``: the schedule file's format, of a command that reads one (verify, gantt)."""
    return field(
        default=None,
        metadata={"help": "The schedule's format (default: detected).", "choices": list(SCHEDULE_FORMATS)},
    )


@dataclass
class VerifyArguments:
    """Arguments of ``jssp-sft verify``."""

    instance: str = field(metadata={"help": INSTANCE_HELP})
    solution: str = field(default="-", metadata={"help": SOLUTION_HELP})
    format: str | None = instance_format_field()
    solution_format: str | None = solution_format_field()
    json: bool = field(default=False, metadata={"help": "Print the report as JSON."})


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((VerifyArguments,), prog=prog)


def main(args: VerifyArguments) -> int:
    instance = read_instance_file(args.instance, args.format)
    report = verify(instance, read_solution_file(args.solution, args.solution_format))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        status = "feasible" if report.feasible else "INFEASIBLE"
        operations = f"{report.num_operations}/{instance.num_operations} operations"
        print(f"{status}: makespan {report.makespan}, declared {report.declared_makespan}, {operations}")
        for violation in report.violations:
            print(f"  {violation.kind}: {violation.message}")
    return EXIT_OK if report.feasible else EXIT_NEGATIVE
