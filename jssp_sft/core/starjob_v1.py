"""The Starjob authors' earlier, verbose release (the ``jssp_llm_format_120k`` data): read it and convert it.

Its records hold ``prompt_jobs_first`` and ``prompt_machines_first`` (the same instance listed job by job or machine by
machine), ``output`` and ``matrix`` (today's ``matrix``), and may hold ``num_jobs``/``num_machines``:

    Optimize schedule for 3 Jobs across 3 Machines to minimize makespan. ...

    Problem:

     Job 0 consists of the following Operations:
      Operation 0 on Machine 0 duration 50 mins.
      ...
     Machine 0 is used for the following Operations:
      Job 0 Operation 0 duration 50 mins.
      ...

and the answer names each operation's index:

    Solution:

     Job 1 Operation 0 on Machine 0 : 0 + 58 -> 58
     ...

    Makespan:  317.0, as it is the maximum end completion time of Operation 2

``convert_record`` turns such a record into today's six fields (``codec.to_record``'s canonical text), after checking
that both prompts and the matrix describe one instance and that the answer is feasible and states its makespan: a
legacy record passes the same verifier as today's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .codec import format_instance, format_instruction, format_matrix, format_solution, parse_matrix
from .instance import MAX_DIGITS, Instance
from .schedule import Operation, Schedule
from .verifier import verify


LEGACY_PROMPT_FIELDS = ("prompt_jobs_first", "prompt_machines_first")

_NUM = rf"[0-9]{{1,{MAX_DIGITS}}}(?!\d)"  # ASCII digits, never cut (as every reader of the package)
_SIZE_RE = re.compile(r"Optimize schedule for ([0-9]{1,9}) Jobs across ([0-9]{1,9}) Machines")
_PROBLEM_RE = re.compile(r"Problem[ \t]*:")
_JOB_HEADER_RE = re.compile(r"Job[ \t]+([0-9]{1,9})[ \t]+consists of the following Operations[ \t]*:")
_MINS = r"(?:[ \t]*mins?)?[ \t]*\.?"
_JOB_ITEM_RE = re.compile(
    rf"Operation[ \t]+([0-9]{{1,9}})[ \t]+on[ \t]+Machine[ \t]+([0-9]{{1,9}})[ \t]+duration[ \t]+({_NUM}){_MINS}"
)
_MACHINE_HEADER_RE = re.compile(r"Machine[ \t]+([0-9]{1,9})[ \t]+is used for the following Operations[ \t]*:")
_MACHINE_ITEM_RE = re.compile(
    rf"Job[ \t]+([0-9]{{1,9}})[ \t]+Operation[ \t]+([0-9]{{1,9}})[ \t]+duration[ \t]+({_NUM}){_MINS}"
)
_SOLUTION_RE = re.compile(r"Solution[ \t]*:")
_OUTPUT_OP_RE = re.compile(
    rf"Job[ \t]+([0-9]{{1,9}})[ \t]+Operation[ \t]+([0-9]{{1,9}})[ \t]+on[ \t]+Machine[ \t]+([0-9]{{1,9}})[ \t]*:[ \t]*"
    rf"({_NUM})[ \t]*\+[ \t]*({_NUM})[ \t]*->[ \t]*({_NUM})"
)
_MAKESPAN_RE = re.compile(rf"Makespan[ \t]*:[ \t]*({_NUM}(?:\.[0-9]{{1,9}})?)(?:[ \t]*,[^\n]*)?")
_SPACE_RE = re.compile(r"[ \t\r\n]*")


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _number(token: str) -> int | float:
    value = float(token)
    return int(value) if value.is_integer() else value


def _scan(text: str, pos: int, header_re: re.Pattern, item_re: re.Pattern, what: str, field: str):
    """``[(header_groups, [item_groups...]), ...]`` from ``pos`` to the end; any other text is a ``ValueError``."""
    groups: list[tuple[tuple, list]] = []
    while True:
        pos = _SPACE_RE.match(text, pos).end()
        if pos == len(text):
            return groups
        header = header_re.match(text, pos)
        if header is not None:
            groups.append((header.groups(), []))
            pos = header.end()
            continue
        item = item_re.match(text, pos)
        if item is None or not groups:
            snippet = text[pos : pos + 60].split("\n", 1)[0]
            raise ValueError(f"{field}, line {_line(text, pos)}: expected {what}, got {snippet!r}")
        groups[-1][1].append((item.groups(), _line(text, pos)))
        pos = item.end()


def _problem_start(text: str) -> tuple[int, tuple[int, int] | None]:
    size = _SIZE_RE.search(text)
    problem = _PROBLEM_RE.search(text)
    return (problem.end() if problem else 0), ((int(size.group(1)), int(size.group(2))) if size else None)


def _build(ops: dict[tuple[int, int], tuple[int, int, int]], declared, field: str) -> Instance:
    """An instance from ``(job, op) -> (machine, duration, line)``; every job's operations must be 0..L-1."""
    if not ops:
        raise ValueError(f"{field}: no operations found")
    num_jobs = 1 + max(j for j, _ in ops)
    jobs = []
    for j in range(num_jobs):
        length = 1 + max((k for job, k in ops if job == j), default=-1)
        missing = [k for k in range(length) if (j, k) not in ops]
        if length == 0 or missing:
            raise ValueError(f"{field}: job {j} operation {missing[0] if missing else 0} is missing")
        jobs.append(tuple(ops[j, k][:2] for k in range(length)))
    largest = max(m for job in jobs for m, _ in job)
    num_machines = largest + 1
    if declared is not None:
        if declared[0] != num_jobs:
            raise ValueError(f"{field}: the sentence says {declared[0]} jobs, the problem lists {num_jobs}")
        if largest >= declared[1]:
            line = next(line for (m, _, line) in ops.values() if m == largest)
            raise ValueError(f"{field}, line {line}: machine {largest} is outside 0..{declared[1] - 1}")
        num_machines = declared[1]
    return Instance(tuple(jobs), num_machines)


def _add(ops: dict, key: tuple[int, int], value: tuple[int, int, int], field: str) -> None:
    if key in ops:
        raise ValueError(f"{field}, line {value[2]}: job {key[0]} operation {key[1]} is listed twice")
    ops[key] = value


def parse_jobs_first(text: str, field: str = "prompt_jobs_first") -> Instance:
    """The instance of a ``prompt_jobs_first`` text; ``ValueError`` names the field and line of a malformed part."""
    start, declared = _problem_start(text)
    what = "'Job <j> consists of the following Operations:' or 'Operation <k> on Machine <m> duration <d> mins.'"
    ops: dict = {}
    for (job,), items in _scan(text, start, _JOB_HEADER_RE, _JOB_ITEM_RE, what, field):
        for position, ((k, machine, duration), line) in enumerate(items):
            if int(k) != position:
                raise ValueError(f"{field}, line {line}: job {job} lists operation {k} in place {position}")
            _add(ops, (int(job), int(k)), (int(machine), int(duration), line), field)
    return _build(ops, declared, field)


def parse_machines_first(text: str, field: str = "prompt_machines_first") -> Instance:
    """The instance of a ``prompt_machines_first`` text (operations grouped by machine)."""
    start, declared = _problem_start(text)
    what = "'Machine <m> is used for the following Operations:' or 'Job <j> Operation <k> duration <d> mins.'"
    ops: dict = {}
    for (machine,), items in _scan(text, start, _MACHINE_HEADER_RE, _MACHINE_ITEM_RE, what, field):
        for (job, k, duration), line in items:
            _add(ops, (int(job), int(k)), (int(machine), int(duration), line), field)
    return _build(ops, declared, field)


def parse_legacy_solution(text: str, field: str = "output") -> Schedule:
    """The verbose answer as a ``Schedule`` (op indices as written; the makespan line's number declared).

    Only ``Solution:``, the operation lines and the makespan line (with or without its ``, as it is ...`` tail)
    may appear; anything else is a ``ValueError`` naming the line.
    """
    pos = _SPACE_RE.match(text).end()
    header = _SOLUTION_RE.match(text, pos)
    if header is None:
        raise ValueError(f"{field}, line {_line(text, pos)}: expected 'Solution:', got {text[pos : pos + 40]!r}")
    pos, ops, declared = header.end(), [], None
    while True:
        pos = _SPACE_RE.match(text, pos).end()
        if pos == len(text):
            break
        op = _OUTPUT_OP_RE.match(text, pos)
        if op is not None and declared is None:
            job, k, machine, start, duration, end = (int(g) for g in op.groups())
            ops.append(Operation(job, k, machine, start, duration, end))
            pos = op.end()
            continue
        makespan = _MAKESPAN_RE.match(text, pos)
        if makespan is None or declared is not None:
            snippet = text[pos : pos + 60].split("\n", 1)[0]
            expected = "an operation 'Job <j> Operation <k> on Machine <m> : <start> + <duration> -> <end>'"
            raise ValueError(f"{field}, line {_line(text, pos)}: expected {expected} or the makespan, got {snippet!r}")
        declared = _number(makespan.group(1))
        pos = makespan.end()
    if not ops:
        raise ValueError(f"{field}: no operations after 'Solution:'")
    return Schedule(tuple(ops), declared)


def is_legacy_record(record: Mapping) -> bool:
    """Whether ``record`` belongs to the earlier release: it has a legacy prompt and no usable today's ``input``, or
    its ``output`` is written in the verbose style."""
    if not isinstance(record, Mapping):
        return False
    has_prompt = any(isinstance(record.get(name), str) for name in LEGACY_PROMPT_FIELDS)
    output = record.get("output")
    verbose = isinstance(output, str) and _OUTPUT_OP_RE.search(output[:400]) is not None
    return verbose or (has_prompt and not isinstance(record.get("input"), str))


def legacy_instance(record: Mapping) -> Instance:
    """The instance of a legacy record: from each prompt it has (and its ``matrix``), which must all agree."""
    found: list[tuple[str, Instance]] = []
    if isinstance(record.get("prompt_jobs_first"), str):
        found.append(("prompt_jobs_first", parse_jobs_first(record["prompt_jobs_first"])))
    if isinstance(record.get("prompt_machines_first"), str):
        found.append(("prompt_machines_first", parse_machines_first(record["prompt_machines_first"])))
    if isinstance(record.get("matrix"), str) and record["matrix"].strip():
        try:
            found.append(("matrix", parse_matrix(record["matrix"]).instance))
        except ValueError as err:
            raise ValueError(f"matrix: {err}") from None
    if not found:
        raise ValueError("no instance: none of prompt_jobs_first, prompt_machines_first, matrix")
    name, instance = found[0]
    for other, candidate in found[1:]:
        if candidate.jobs != instance.jobs:
            raise ValueError(f"{other} describes another instance than {name}")
        if candidate.num_machines != instance.num_machines and other != "matrix":
            raise ValueError(f"{other} states {candidate.num_machines} machines, {name} {instance.num_machines}")
    instance = max((i for _, i in found), key=lambda i: i.num_machines)  # the matrix's M when it states more
    for key, value in (("num_jobs", instance.num_jobs), ("num_machines", instance.num_machines)):
        stated = record.get(key)
        if stated is not None and stated != value:
            raise ValueError(f"field {key!r} is {stated}, but the problem has {value}")
    return instance


def convert_record(record: Mapping) -> dict:
    """Today's record (``num_jobs``, ``num_machines``, ``instruction``, ``input``, ``output``, ``matrix``) from a legacy
    one, or a ``ValueError`` saying what is wrong with it.

    The answer must be feasible, name each operation by its true index and declare the makespan it reaches (the
    verifier's checks); the output keeps the declared makespan, written as an integer.
    """
    instance = legacy_instance(record)
    if not isinstance(record.get("output"), str):
        raise ValueError("field 'output' missing, null or not a string")
    schedule = parse_legacy_solution(record["output"])
    for op in schedule.operations:
        if op.job < instance.num_jobs and op.op_index < len(instance.jobs[op.job]):
            machine, duration = instance.jobs[op.job][op.op_index]
            if (op.machine, op.duration) != (machine, duration):
                raise ValueError(
                    f"output: job {op.job} operation {op.op_index} is written on machine {op.machine} for "
                    f"{op.duration}, but the problem has machine {machine} for {duration}"
                )
    output = format_solution(schedule, include_makespan=schedule.declared_makespan is not None)
    report = verify(instance, output)
    problems = [v.message for v in report.violations]
    if problems:
        raise ValueError(f"output: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    matrix = record.get("matrix")
    if not isinstance(matrix, str) or not matrix.strip():
        matrix = format_matrix(instance, schedule, float(schedule.makespan))
    return {
        "num_jobs": instance.num_jobs,
        "num_machines": instance.num_machines,
        "instruction": format_instruction(instance.num_jobs, instance.num_machines),
        "input": format_instance(instance),
        "output": output,
        "matrix": matrix,
    }
