"""``jssp-sft verify``: check one solution text against one instance and print the report.

Exit status: 0 feasible, 1 infeasible (the report says why), 2 bad input (a missing or malformed file; one line on
stderr naming the file and line).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..core.codec import parse_instance
from ..core.verifier import verify
from .main import EXIT_NEGATIVE, EXIT_OK, read_text_file


@dataclass
class VerifyArguments:
    """Arguments of ``jssp-sft verify``."""

    instance: str = field(
        metadata={"help": "File holding the instance: a Starjob `input`, or any prompt containing it."}
    )
    solution: str = field(
        default="-",
        metadata={"help": "File holding the solution text (a Starjob `output` or a model's answer); - for stdin."},
    )
    json: bool = field(default=False, metadata={"help": "Print the report as JSON."})


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((VerifyArguments,), prog=prog)


def read_instance(path: str):
    """The instance in ``path``; ``ValueError`` naming the file and line when it holds none."""
    try:
        return parse_instance(read_text_file(path))
    except ValueError as err:
        raise ValueError(str(err) if str(err).startswith(path) else f"{path}: {err}") from None


def main(args: VerifyArguments) -> int:
    instance = read_instance(args.instance)
    report = verify(instance, read_text_file(args.solution))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        status = "feasible" if report.feasible else "INFEASIBLE"
        operations = f"{report.num_operations}/{instance.num_operations} operations"
        print(f"{status}: makespan {report.makespan}, declared {report.declared_makespan}, {operations}")
        for violation in report.violations:
            print(f"  {violation.kind}: {violation.message}")
    return EXIT_OK if report.feasible else EXIT_NEGATIVE
