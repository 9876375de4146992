"""``jssp-sft generate``: make Starjob-format training data from random instances solved by CP-SAT."""

from __future__ import annotations

import json
import logging

from ..data.generator import GenerateArguments, generate_dataset


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((GenerateArguments,), prog=prog)


def main(args: GenerateArguments) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    path = generate_dataset(args)
    statuses: dict[str, int] = {}
    with path.open() as handle:
        for line in handle:
            status = json.loads(line)["solver_status"]
            statuses[status] = statuses.get(status, 0) + 1
    counts = ", ".join(f"{count} {status.lower()}" for status, count in sorted(statuses.items()))
    print(f"{path}: {sum(statuses.values())} records ({counts or 'none'})")
    return 0
