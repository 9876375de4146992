"""``jssp-sft verify``: check one solution text against one instance and print the report."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..core.codec import parse_instance
from ..core.verifier import verify


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


def main(args: VerifyArguments) -> int:
    instance = parse_instance(Path(args.instance).read_text())
    text = sys.stdin.read() if args.solution == "-" else Path(args.solution).read_text()
    report = verify(instance, text)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        status = "feasible" if report.feasible else "INFEASIBLE"
        print(f"{status}: makespan {report.makespan}, declared {report.declared_makespan}, "
              f"{report.num_operations}/{instance.num_operations} operations")  # fmt: skip
        for violation in report.violations:
            print(f"  {violation.kind}: {violation.message}")
    return 0 if report.feasible else 1
