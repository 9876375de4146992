"""Validate Starjob records: what is wrong with each, named by index (and file line), raised or dropped and counted.

``record_problem`` starts from ``records.normalize_record`` (the same types in every file format) and adds the content
checks (an ``input`` that parses into the stated size, an ``instruction`` that agrees, an ``output`` that holds a
solution); ``validate_records`` applies them to a ``Dataset``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.codec import parse_instance, parse_instruction, scan_solution
from .records import LINE_COLUMN, PROBLEM_COLUMN, SPEC_FIELDS, normalize_record
from .sources import SourcePart, describe_index


if TYPE_CHECKING:
    from datasets import Dataset


logger = logging.getLogger(__name__)

# How many validation problems an error message lists before "... and N more".
MAX_PROBLEMS_SHOWN = 10


def solution_problem(output: str) -> str | None:
    """Why an ``output`` holds no solution to train on (empty, prose, no operation), or ``None`` when it holds one.

    Only whether a solution can be read is checked here; its feasibility is ``check_outputs``' job.
    """
    try:
        scan = scan_solution(output)
    except ValueError as err:
        return f"field 'output' holds no parseable solution ({err})"
    if len(scan.entries) == 0:
        return "field 'output' holds no parseable solution (no operation)"
    return None


def record_problem(record: Any, require_solution: bool = True) -> str | None:
    """What is wrong with one raw record, or ``None`` when it is a valid Starjob record.

    Valid means: the six fields of the spec with the right types (``normalize_record``), an ``input`` that parses with
    the record's ``num_machines`` into ``num_jobs`` jobs, an ``instruction`` that, if it states the size, states this
    one, and (``require_solution``) an ``output`` that holds a parseable solution.
    """
    row, problem = normalize_record(record)
    if problem is not None:
        return problem
    num_jobs, num_machines = row["num_jobs"], row["num_machines"]
    try:
        instance = parse_instance(row["input"], num_machines=num_machines)
    except ValueError as err:
        return f"field 'input' does not parse: {err}"
    if instance.num_jobs != num_jobs:
        return f"field 'input' lists {instance.num_jobs} jobs but 'num_jobs' is {num_jobs}"
    stated = parse_instruction(row["instruction"])
    if stated is not None and stated != (num_jobs, num_machines):
        return (
            f"field 'instruction' states {stated[0]} jobs and {stated[1]} machines, "
            f"the record {num_jobs} and {num_machines}"
        )
    return solution_problem(row["output"]) if require_solution else None


def _problems_batch(batch: dict[str, list], require_solution: bool) -> dict[str, list]:
    names = [name for name in batch if name not in (PROBLEM_COLUMN, LINE_COLUMN)]
    read_problems = batch.get(PROBLEM_COLUMN) or [None] * len(batch[names[0]])
    problems = []
    for read_problem, values in zip(read_problems, zip(*(batch[name] for name in names))):
        problems.append(read_problem or record_problem(dict(zip(names, values)), require_solution))
    return {"problem": problems}


def find_invalid_records(
    dataset: Dataset, num_proc: int | None = None, require_solution: bool = True
) -> list[tuple[int, str]]:
    """``(index, problem)`` of every invalid record (see ``record_problem``), in index order."""
    if len(dataset) == 0:
        return []
    missing = [name for name in SPEC_FIELDS if name not in dataset.column_names]
    if missing:
        return [(i, f"field(s) {', '.join(repr(m) for m in missing)} missing") for i in range(len(dataset))]
    checked = dataset.map(
        _problems_batch,
        batched=True,
        fn_kwargs={"require_solution": require_solution},
        remove_columns=dataset.column_names,
        num_proc=num_proc,
        desc="Validating records",
    )
    problems = checked.with_format("arrow")["problem"].to_pylist()
    return [(i, problem) for i, problem in enumerate(problems) if problem is not None]


def format_problems(
    problems: Sequence[tuple[int, str]],
    parts: Sequence[SourcePart] = (),
    limit: int = MAX_PROBLEMS_SHOWN,
    lines: Mapping[int, int] | None = None,
) -> str:
    """One line per problem (the first ``limit``), each naming its record (and its file's line when known)."""
    lines = lines or {}
    shown = [f"{describe_index(i, parts, lines.get(i))}: {problem}" for i, problem in problems[:limit]]
    if len(problems) > limit:
        shown.append(f"... and {len(problems) - limit} more")
    return "\n".join(shown)


def problem_lines(dataset: Dataset, problems: Sequence[tuple[int, str]], limit: int) -> dict[int, int]:
    """The 1-based file line of the first ``limit`` problem records, where the reader recorded one (JSON lines)."""
    if LINE_COLUMN not in dataset.column_names or not problems:
        return {}
    indices = [i for i, _ in problems[:limit]]
    values = dataset.select(indices).with_format("arrow")[LINE_COLUMN].to_pylist()
    return {i: line for i, line in zip(indices, values) if line is not None}


def validate_records(
    dataset: Dataset,
    skip_invalid: bool = False,
    num_proc: int | None = None,
    parts: Sequence[SourcePart] = (),
    require_solution: bool = True,
) -> tuple[Dataset, list[tuple[int, str]]]:
    """Check every record; return the valid ones (without the reader's bookkeeping columns) and the
    ``(index, problem)`` of the others.

    An invalid record raises ``ValueError`` naming its index (and file line) and the problem, unless ``skip_invalid``,
    which drops it and logs how many were dropped.
    """
    problems = find_invalid_records(dataset, num_proc=num_proc, require_solution=require_solution)
    lines = problem_lines(dataset, problems, MAX_PROBLEMS_SHOWN)
    private = [name for name in (PROBLEM_COLUMN, LINE_COLUMN) if name in dataset.column_names]
    if private:
        dataset = dataset.remove_columns(private)
    if problems and not skip_invalid:
        unsolved = sum("holds no parseable solution" in problem for _, problem in problems)
        hints = ["pass skip_invalid=True to drop them"]
        if unsolved:
            hints.append(f"require_solution=False to keep the {unsolved} without a solution, for their prompts")
        raise ValueError(
            f"{len(problems)} of {len(dataset)} records are invalid ({'; '.join(hints)}):\n"
            + format_problems(problems, parts, lines=lines)
        )
    if problems:
        first = format_problems(problems[:3], parts, 3, lines).replace("\n", "; ")
        logger.warning(
            "dropped %d invalid records of %d (skip_invalid=True); first: %s", len(problems), len(dataset), first
        )
        bad = {i for i, _ in problems}
        dataset = dataset.select([i for i in range(len(dataset)) if i not in bad])
    return dataset, problems
