"""The Starjob text codec: parse and format the ``instruction``, ``input``, ``output`` and ``matrix`` fields.

Formatting is canonical (byte-exact to the paper's form); parsing accepts every variant seen in the wild: ``", "``,
``","`` or newline separators, a missing or short makespan line, a float makespan, CRLF, a preamble before
``Solution:`` and text after the solution, and a whole prompt (Alpaca or chat text) in place of the bare ``input``.
Every parser is a left-to-right scan with anchored regular expressions, so it runs in time linear in its input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .instance import Instance
from .schedule import Operation, Schedule


INSTRUCTION_TEMPLATE = (
    "Optimize schedule for {num_jobs} Jobs (denoted as J) across {num_machines} Machines (denoted as M) to minimize "
    "makespan. The makespan is the completion time of the last operation in the schedule. Each M can process only "
    "one J at a time, and once started, J cannot be interrupted."
)
SOLUTION_HEADER = "Solution:"
MAKESPAN_PREFIX = "Maximum end completion time or Makespan: "
OPERATION_SEPARATOR = ", "

# Numbers wider than this are rejected rather than overflowing int64 downstream.
_MAX_DIGITS = 15
_NUM = rf"\d{{1,{_MAX_DIGITS}}}"
_SNUM = rf"-?\d{{1,{_MAX_DIGITS}}}"

_INSTRUCTION_RE = re.compile(r"Optimize schedule for (\d{1,9}) Jobs \(denoted as J\) across (\d{1,9}) Machines")
_FIRST_JOB_RE = re.compile(r"^[ \t]*J0[ \t]*:", re.MULTILINE)
_JOB_HEADER_RE = re.compile(r"[ \t]*J(\d{1,9})[ \t]*:(.*)")
_OPS_LINE_RE = re.compile(rf"[ \t]*(?:M\d{{1,9}}[ \t]*:[ \t]*{_NUM}[ \t]*)+")
_OP_ITEM_RE = re.compile(rf"M(\d{{1,9}})[ \t]*:[ \t]*({_NUM})")

# A whole canonical instance listing, matched in one pass on bytes.
_CANONICAL_INSTANCE_RE = re.compile(rb"(?:J\d{1,9}:\n(?:M\d{1,9}:\d{1,15} )++\n)++")
_JOB_LINE_RE = re.compile(rb"[ \t]*J\d{1,9}[ \t]*:")
_INSTANCE_TO_SPACES = bytes.maketrans(b"JM:\n", b"    ")
# A whole canonical operation list (", " separators), matched in one C-level pass on bytes.
_CANONICAL_OP = rb"J\d{1,9}-M\d{1,9}: \d{1,15}\+\d{1,15} -> \d{1,15}"
_CANONICAL_OPS_RE = re.compile(rb"%s(?:, %s)*+" % (_CANONICAL_OP, _CANONICAL_OP))
_CANONICAL_TO_SPACES = bytes.maketrans(b"JM-:+>,", b"       ")
# One operation as models write it: optional spaces around the symbols, signed numbers so that negative starts
# reach the verifier as a violation instead of a parse error.
_OP_RE = re.compile(
    rf"J[ \t]*(\d{{1,9}})[ \t]*-[ \t]*M[ \t]*(\d{{1,9}})[ \t]*:[ \t]*({_SNUM})[ \t]*\+[ \t]*({_SNUM})"
    rf"[ \t]*->[ \t]*({_SNUM})(?!\d)"
)
_OP_START_RE = re.compile(r"J[ \t]*\d")
_SEPARATOR_RE = re.compile(r"[ \t]*(?:,[ \t]*(?:\r?\n[ \t]*)*|(?:\r?\n[ \t]*)+)")
_SOLUTION_RE = re.compile(r"Solution[ \t]*:", re.IGNORECASE)
_MAKESPAN_RE = re.compile(rf"Makespan[ \t]*:[ \t]*({_SNUM}(?:\.\d{{1,9}})?)", re.IGNORECASE)
_MAKESPAN_LINE_RE = re.compile(r"(?:Maximum end completion time or )?Makespan", re.IGNORECASE)


def _where(text: str, pos: int) -> str:
    """``line L, column C`` of a character offset, for error messages."""
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column}"


def _snippet(text: str, pos: int, width: int = 40) -> str:
    piece = text[pos : pos + width].split("\n", 1)[0]
    return repr(piece + ("..." if len(text) > pos + len(piece) and "\n" not in text[pos : pos + width] else ""))


def _to_number(token: str) -> int | float:
    """``"317"`` -> 317, ``"317.0"`` -> 317, ``"317.5"`` -> 317.5."""
    value = float(token) if "." in token else int(token)
    return int(value) if isinstance(value, float) and value.is_integer() else value


# --------------------------------------------------------------------------------------------------- instruction


def format_instruction(num_jobs: int, num_machines: int) -> str:
    """The fixed Starjob instruction sentence for an N x M instance."""
    return INSTRUCTION_TEMPLATE.format(num_jobs=num_jobs, num_machines=num_machines)


def parse_instruction(text: str) -> tuple[int, int] | None:
    """``(N, M)`` from the first instruction sentence in ``text``, or ``None`` when it holds none."""
    match = _INSTRUCTION_RE.search(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


# ------------------------------------------------------------------------------------------------------ instance


def format_instance(instance: Instance) -> str:
    """The canonical ``input`` field: ``J{j}:`` then ``M{m}:{d} `` per operation, one line each."""
    return "".join(f"J{j}:\n" + "".join(f"M{m}:{d} " for m, d in job) + "\n" for j, job in enumerate(instance.jobs))


def parse_instance(text: str, num_machines: int | None = None, name: str | None = None) -> Instance:
    """Parse an ``input`` field, or any text that contains one (a full Alpaca or chat prompt).

    The jobs are read from the first ``J0:`` line on. ``num_machines`` comes from the argument, else from an
    instruction sentence in ``text``, else from the largest machine id plus one (a job need not visit every machine).
    Raises ``ValueError`` naming the line on malformed text.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_instance expects a string, got {type(text).__name__}")
    first = _FIRST_JOB_RE.search(text)
    if first is None:
        raise ValueError("no instance found: expected a line 'J0:' followed by 'M<machine>:<duration>' entries")
    fast = _parse_canonical_instance(text, first.start(), num_machines, name)
    if fast is not None:
        return fast
    first_line = text.count("\n", 0, first.start()) + 1
    lines = text[first.start() :].splitlines()
    jobs: list[list[tuple[int, int]]] = []
    line_of_job: list[int] = []
    i = 0
    while i < len(lines):
        header = _JOB_HEADER_RE.fullmatch(lines[i])
        if header is None:
            if lines[i].strip():
                break  # the instance ended; whatever follows (e.g. "### Response:") is not ours
            i += 1
            continue
        j = int(header.group(1))
        if j != len(jobs):
            if j < len(jobs):
                break  # a second listing (e.g. an example in a prompt) starts: keep the first
            raise ValueError(f"line {first_line + i}: expected 'J{len(jobs)}:', found 'J{j}:'")
        rest = header.group(2)
        ops_text, ops_line = (rest, i) if rest.strip() else (lines[i + 1] if i + 1 < len(lines) else "", i + 1)
        if _OPS_LINE_RE.fullmatch(ops_text) is None:
            raise ValueError(
                f"line {first_line + ops_line}: job {j} needs operations written 'M<machine>:<duration> ...', "
                f"got {ops_text[:60]!r}"
            )
        jobs.append([(int(m), int(d)) for m, d in _OP_ITEM_RE.findall(ops_text)])
        line_of_job.append(first_line + ops_line)
        i = ops_line + 1
    declared = parse_instruction(text)
    if declared is not None and declared[0] != len(jobs):
        raise ValueError(f"the instruction says {declared[0]} jobs but the input lists {len(jobs)}")
    largest = max(m for job in jobs for m, _ in job)
    if num_machines is None:
        num_machines = declared[1] if declared is not None else largest + 1
    if largest >= num_machines:
        j = next(j for j, job in enumerate(jobs) if any(m >= num_machines for m, _ in job))
        raise ValueError(f"line {line_of_job[j]}: job {j} uses machine {largest}, but there are {num_machines}")
    return Instance(tuple(tuple(job) for job in jobs), num_machines, name)


def _parse_canonical_instance(text: str, start: int, num_machines: int | None, name: str | None) -> Instance | None:
    """The fast path for canonical ``input`` text: one regex pass and one numpy conversion; ``None`` to fall back."""
    if not text.isascii():
        return None
    data = text.encode("ascii")
    match = _CANONICAL_INSTANCE_RE.match(data, start)
    if match is None or _JOB_LINE_RE.match(data, match.end()):
        return None  # not canonical, or the listing goes on in another style: the line-by-line parser decides
    block = data[start : match.end()]
    lines = block.split(b"\n")
    lengths = [line.count(b"M") for line in lines[1::2]]
    numbers = np.fromstring(block.translate(_INSTANCE_TO_SPACES), dtype=np.int64, sep=" ")
    headers = np.cumsum([0] + [1 + 2 * n for n in lengths[:-1]])
    if not np.array_equal(numbers[headers], np.arange(len(lengths))):
        return None  # jobs out of order: let the line-by-line parser name the line
    pairs = np.delete(numbers, headers).reshape(-1, 2)
    declared = parse_instruction(text)
    if declared is not None and declared[0] != len(lengths):
        return None
    if num_machines is None:
        num_machines = declared[1] if declared is not None else int(pairs[:, 0].max()) + 1
    if pairs[:, 0].max() >= num_machines:
        return None
    return Instance.from_flat(pairs, lengths, num_machines, name)


# ------------------------------------------------------------------------------------------------------ solution


def format_operation(op: Operation) -> str:
    """One operation as a Starjob ``output`` writes it: ``J{job}-M{machine}: {start}+{duration} -> {end}``."""
    return f"J{op.job}-M{op.machine}: {op.start}+{op.duration} -> {op.end}"


def format_solution(schedule: Schedule, include_makespan: bool = True, makespan: int | float | None = None) -> str:
    """The canonical ``output`` field: ``Solution:``, the operations in start order, then the makespan line.

    The makespan written is ``makespan``, else the schedule's declared one, else the computed one.
    """
    ops = OPERATION_SEPARATOR.join(format_operation(op) for op in schedule.operations)
    text = f"{SOLUTION_HEADER}\n{ops}"
    if include_makespan:
        if makespan is None:
            makespan = schedule.makespan if schedule.declared_makespan is None else schedule.declared_makespan
        text += f"\n{MAKESPAN_PREFIX}{makespan}"
    return text


@dataclass(frozen=True)
class SolutionScan:
    """A solution text as arrays: ``entries[i] == (job, machine, start, duration, end)`` in text order."""

    entries: np.ndarray
    declared_makespan: int | float | None


def scan_solution(text: str) -> SolutionScan:
    """Read the operations and the declared makespan of a solution text; ``ValueError`` names the bad spot.

    A canonical text (``", "`` separators) is matched and converted in a few C-level passes; anything else goes
    through the operation-by-operation scan.
    """
    if not isinstance(text, str):
        raise TypeError(f"a solution must be a string, got {type(text).__name__}")
    header = _SOLUTION_RE.search(text)
    if header is not None:
        start = header.end()
        while start < len(text) and text[start] in " \t\r\n":
            start += 1
        if start == len(text) or _MAKESPAN_LINE_RE.match(text, start):
            makespan = _MAKESPAN_RE.search(text, start)  # an empty schedule: every operation will be missing
            return SolutionScan(np.zeros((0, 5), dtype=np.int64), _to_number(makespan.group(1)) if makespan else None)
        if _OP_START_RE.match(text, start) is None:
            raise ValueError(
                f"{_where(text, start)}: expected an operation 'J<j>-M<m>: <start>+<duration> -> <end>' "
                f"after 'Solution:', got {_snippet(text, start)}"
            )
    else:
        first = _OP_RE.search(text)
        if first is None:
            raise ValueError("no operations found" if text.strip() else "empty output")
        start = first.start()

    entries, end = _scan_canonical(text, start)
    if entries is None:
        entries, end = _scan_lenient(text, start)
    makespan = _MAKESPAN_RE.search(text, end)
    return SolutionScan(entries, _to_number(makespan.group(1)) if makespan else None)


def _scan_canonical(text: str, start: int) -> tuple[np.ndarray | None, int]:
    """The fast path: the whole operation list in canonical form, or ``(None, start)`` to fall back."""
    if not text.isascii():
        return None, start
    data = text.encode("ascii")
    match = _CANONICAL_OPS_RE.match(data, start)
    if match is None:
        return None, start
    tail = data[match.end() : match.end() + 1]
    if tail in (b",", b" ", b"\t") or tail.isdigit() or (tail == b"\n" and _OP_START_RE.match(text, match.end() + 1)):
        return None, start  # the list goes on in another style: let the general scan read it all
    numbers = np.fromstring(data[start : match.end()].translate(_CANONICAL_TO_SPACES), dtype=np.int64, sep=" ")
    return numbers.reshape(-1, 5), match.end()


def _scan_lenient(text: str, pos: int) -> tuple[np.ndarray, int]:
    """Read operations one by one, separated by commas and/or newlines; stop at the first non-operation."""
    rows = []
    while True:
        match = _OP_RE.match(text, pos)
        if match is None:
            raise ValueError(f"{_where(text, pos)}: malformed or truncated operation {_snippet(text, pos)}")
        rows.append(tuple(int(g) for g in match.groups()))
        pos = match.end()
        separator = _SEPARATOR_RE.match(text, pos)
        if separator is None or separator.end() == pos:
            break
        after = separator.end()
        if _OP_START_RE.match(text, after):
            pos = after
            continue
        if "," in text[pos:after]:
            what = "the text ends" if after >= len(text) else f"found {_snippet(text, after)}"
            raise ValueError(f"{_where(text, after)}: expected an operation after ',', {what}")
        break
    return np.array(rows, dtype=np.int64).reshape(-1, 5), pos


def assign_op_indices(entries: np.ndarray) -> np.ndarray:
    """Each entry's position among its job's entries in start order (ties keep text order): its op index."""
    if len(entries) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((entries[:, 2], entries[:, 0]))
    jobs = entries[order, 0]
    group_start = np.r_[0, np.flatnonzero(jobs[1:] != jobs[:-1]) + 1]
    sizes = np.diff(np.r_[group_start, len(jobs)])
    ranks = np.arange(len(jobs)) - np.repeat(group_start, sizes)
    out = np.empty_like(ranks)
    out[order] = ranks
    return out


def parse_solution(text: str) -> Schedule:
    """Parse an ``output`` field (any variant) into a ``Schedule``; ``ValueError`` names the line on bad text.

    Operations get their op index from their position among their job's entries in start order.
    """
    scan = scan_solution(text)
    indices = assign_op_indices(scan.entries)
    ops = tuple(
        Operation(int(j), int(k), int(m), int(s), int(d), int(e))
        for (j, m, s, d, e), k in zip(scan.entries.tolist(), indices.tolist())
    )
    return Schedule(ops, scan.declared_makespan)


# -------------------------------------------------------------------------------------------------------- matrix


@dataclass(frozen=True)
class MatrixRecord:
    """The ``matrix`` field: the instance, the solver's makespan and each machine's ``(job, op_index)`` sequence."""

    instance: Instance
    makespan: int | float
    machine_orders: tuple[tuple[tuple[int, int], ...], ...]


def format_matrix(instance: Instance, schedule: Schedule, makespan: int | float | None = None) -> str:
    """The ``matrix`` field; operation ids are ``job * M + op_index`` as in Starjob."""
    m = instance.num_machines
    if max(len(job) for job in instance.jobs) > m:
        raise ValueError("the matrix format numbers operations job * M + op_index: a job has more than M operations")
    lines = [f"{instance.num_jobs} {m}"]
    lines += [" ".join(f"{mach} {dur}" for mach, dur in job) for job in instance.jobs]
    lines.append(str(float(schedule.makespan if makespan is None else makespan)))
    lines += [" ".join(str(j * m + k) for j, k in order) for order in schedule.machine_orders(m)]
    return "\n".join(lines)


def parse_matrix(text: str) -> MatrixRecord:
    """Parse a ``matrix`` field; ``ValueError`` names the line on bad text."""
    lines = text.strip("\n").replace("\r\n", "\n").split("\n")

    def numbers(i: int, kind=int) -> list:
        if i >= len(lines):
            raise ValueError(f"matrix line {i + 1}: missing (the text ends after {len(lines)} lines)")
        try:
            return [kind(tok) for tok in lines[i].split()]
        except ValueError:
            raise ValueError(f"matrix line {i + 1}: expected numbers, got {lines[i][:60]!r}") from None

    head = numbers(0)
    if len(head) != 2:
        raise ValueError(f"matrix line 1: expected 'N M', got {lines[0][:60]!r}")
    n, m = head
    jobs = []
    for j in range(n):
        row = numbers(1 + j)
        if not row or len(row) % 2:
            raise ValueError(f"matrix line {2 + j}: job {j} needs 'machine duration' pairs, got {len(row)} numbers")
        jobs.append(tuple(zip(row[::2], row[1::2])))
    makespan_line = numbers(1 + n, float)
    if len(makespan_line) != 1:
        raise ValueError(f"matrix line {2 + n}: expected the makespan, got {lines[1 + n][:60]!r}")
    orders = []
    for i in range(m):
        ids = numbers(2 + n + i) if 2 + n + i < len(lines) else []
        orders.append(tuple(divmod(op_id, m) for op_id in ids))
    instance = Instance(tuple(jobs), m)
    return MatrixRecord(instance, _to_number(repr(makespan_line[0])), tuple(orders))


# -------------------------------------------------------------------------------------------------------- record


def to_record(instance: Instance, schedule: Schedule, include_makespan: bool = True) -> dict:
    """A complete Starjob record (the six fields of the spec) in canonical text."""
    return {
        "num_jobs": instance.num_jobs,
        "num_machines": instance.num_machines,
        "instruction": format_instruction(instance.num_jobs, instance.num_machines),
        "input": format_instance(instance),
        "output": format_solution(schedule, include_makespan=include_makespan),
        "matrix": format_matrix(instance, schedule),
    }


def record_makespan(record) -> int | float | None:
    """The reference makespan of a Starjob record: its ``makespan`` field (``jssp-sft generate`` writes one), else the
    ``matrix``'s solver makespan, else the makespan of its ``output``; ``None`` when it has none of them."""
    value = record.get("makespan")
    if value is None and record.get("matrix"):
        try:
            value = parse_matrix(record["matrix"]).makespan
        except ValueError:
            value = None
    if value is None and record.get("output"):
        try:
            value = parse_solution(record["output"]).makespan or None
        except ValueError:
            value = None
    return value
