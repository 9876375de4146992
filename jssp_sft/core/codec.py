"""The Starjob text codec: parse and format the ``instruction``, ``input``, ``output`` and ``matrix`` fields.

Formatting is canonical (byte-exact to the paper's form). There is one reader for instances and one for solutions,
each a single path for every input: a regular expression matches the whole job listing or operation list (ASCII digits,
at most ``MAX_DIGITS`` per number), then one numpy pass converts its numbers. Blank lines, CRLF, indentation and
trailing spaces are whitespace anywhere; a solution may have ``", "``, ``","`` or newline separators, a missing or
short makespan line, a float makespan, a preamble (skipped up to the last ``Solution:`` header that an operation
follows) and text after it; an instance may sit inside a whole prompt (Alpaca or chat text). Every scan is linear in
its input. A number longer than ``MAX_DIGITS`` is an error (``unparseable`` to the verifier), never cut.
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

# Every number has at most this many digits: wider ones are an error, never truncated (int64 holds 18).
MAX_DIGITS = 15
_NUM = rf"[0-9]{{1,{MAX_DIGITS}}}(?![0-9])"
_SNUM = rf"-?{_NUM}"
_LONG_NUMBER_RE = re.compile(rf"[0-9]{{{MAX_DIGITS + 1}}}")

_INSTRUCTION_RE = re.compile(r"Optimize schedule for ([0-9]{1,9}) Jobs \(denoted as J\) across ([0-9]{1,9}) Machines")
_FIRST_JOB_RE = re.compile(r"^[ \t]*J0[ \t]*:", re.MULTILINE)
_ANY_JOB_LINE_RE = re.compile(r"^[ \t]*J[0-9]+[ \t]*:", re.MULTILINE)
# The whole job listing: job headers and 'M<machine>:<duration>' items, any ASCII whitespace between them. Each item
# tries the canonical spelling first (a strict subset of the general one, so the language is the same), which the
# regex engine walks on literals. A number with too many digits stops the match, and the end check reports it.
_JOB_HEADER = rf"J[0-9]{{1,{MAX_DIGITS}}}[ \t]*:"
_OP_ITEMS = rf"(?:[ \n]M[0-9]{{1,{MAX_DIGITS}}}:[0-9]{{1,{MAX_DIGITS}}}|[ \t\r\n]*M[0-9]{{1,{MAX_DIGITS}}}[ \t]*:[ \t]*[0-9]{{1,{MAX_DIGITS}}})++"
_JOBS_RE = re.compile(rf"{_JOB_HEADER}{_OP_ITEMS}(?:[ \t\r\n]*{_JOB_HEADER}{_OP_ITEMS})*+")
_JOB_HEADER_RE = re.compile(r"J([0-9]+)[ \t]*:")
_BLANKS_RE = re.compile(r"[ \t\r\n]*")
_LINE_TAIL_RE = re.compile(r"[ \t\r]*(?:\n|\Z)")
_OP_ITEM_START_RE = re.compile(r"M[ \t]*[0-9]")
_INSTANCE_TO_SPACES = bytes.maketrans(b"JM:", b"   ")

# One operation as models write it: optional spaces around the symbols; signed start/duration/end so that a negative
# start reaches the verifier as a violation rather than a parse error. Only the last number needs the look-ahead:
# a non-digit must follow every other one.
_INT = rf"[0-9]{{1,{MAX_DIGITS}}}"
_SINT = rf"-?{_INT}"
_OP = rf"J[ \t]*{_INT}[ \t]*-[ \t]*M[ \t]*{_INT}[ \t]*:[ \t]*{_SINT}[ \t]*\+[ \t]*{_SINT}[ \t]*->[ \t]*{_SNUM}"
# Operations are separated by a comma or a line break, with any whitespace (blank lines, CRLF, indentation) around.
_SEPARATOR = r"(?:[ \t\r\n]*,[ \t\r\n]*|[ \t\r]*\n[ \t\r\n]*)"
# The whole operation list, in one match. Each operation and separator tries the canonical spelling first (a strict
# subset of the general one, so the language is the same): the regex engine then walks canonical text on literals.
_CANONICAL_OP = rf"J{_INT}-M{_INT}: {_SINT}\+{_SINT} -> {_SNUM}"
_ANY_OP = rf"(?:{_CANONICAL_OP}|{_OP})"
_OPS_RE = re.compile(rf"{_ANY_OP}(?:(?:, |{_SEPARATOR}){_ANY_OP})*+")  # possessive: no backtrack stack per operation
_SEPARATOR_RE = re.compile(_SEPARATOR)
# The same without the digit limit: finds the first operation-like text, so that a too long number is reported.
_LOOSE_OP_RE = re.compile(_OP.replace(_INT, "[0-9]+").replace(_SNUM, "-?[0-9]+"))
_OP_START_RE = re.compile(r"J[ \t]*[0-9]")
SOLUTION_HEADER_RE = re.compile(r"Solution[ \t]*:", re.IGNORECASE | re.ASCII)
_MAKESPAN_RE = re.compile(r"Makespan[ \t]*:[ \t]*(-?[0-9]+(?:\.[0-9]+)?)", re.IGNORECASE | re.ASCII)
_MAKESPAN_LINE_RE = re.compile(r"(?:Maximum end completion time or )?Makespan", re.IGNORECASE | re.ASCII)
_OPS_TO_SPACES = bytes.maketrans(b"JM:+>,-", b"       ")
_SIGNED_OPS_TO_SPACES = bytes.maketrans(b"JM:+>,", b"      ")
_SIGN_RE = re.compile(rb"-(?![0-9])")


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

    The jobs are read from the first ``J0:`` line on (a job header line before it is an error), in one match of the
    whole listing: ASCII whitespace of any kind (blank lines, CRLF, indentation) may sit between headers and
    operations. The listing ends at a line that is
    neither; a second listing (``J0:`` again, e.g. an example in a prompt) ends it too. ``num_machines`` comes from
    the argument, else from an instruction sentence in ``text``, else from the largest machine id plus one (a job
    need not visit every machine). Raises ``ValueError`` naming the line on malformed text.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_instance expects a string, got {type(text).__name__}")
    first = _FIRST_JOB_RE.search(text)
    if first is None:
        raise ValueError("no instance found: expected a line 'J0:' followed by 'M<machine>:<duration>' entries")
    earlier = _ANY_JOB_LINE_RE.search(text, 0, first.start())
    if earlier is not None:  # e.g. 'J1:' listed before 'J0:': not an instance we can read in order
        raise ValueError(
            f"line {_line(text, earlier.start())}: a job header before 'J0:' ({earlier.group().strip()!r})"
        )
    start = text.index("J", first.start())
    listing = _JOBS_RE.match(text, start)
    if listing is None:
        _raise_bad_job_line(text, start, 0)
    end = listing.end()
    headers = []
    for header in _JOB_HEADER_RE.finditer(text, start, end):
        job = int(header.group(1))
        if job != len(headers):
            if job < len(headers):  # a second listing (e.g. an example in a prompt) starts: keep the first
                end = header.start()
                break
            raise ValueError(f"line {_line(text, header.start())}: expected 'J{len(headers)}:', found 'J{job}:'")
        headers.append(header.start())
    if end == listing.end():
        _check_listing_end(text, end, len(headers))
    block = text[start:end].encode("ascii")  # the listing's pattern admits ASCII only
    numbers = np.fromstring(block.translate(_INSTANCE_TO_SPACES), dtype=np.int64, sep=" ")
    bounds = [h - start for h in headers] + [len(block)]
    lengths = [block.count(b"M", a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    header_positions = np.cumsum([0] + [1 + 2 * n for n in lengths[:-1]])
    pairs = np.delete(numbers, header_positions).reshape(-1, 2)
    declared = parse_instruction(text)
    if declared is not None and declared[0] != len(lengths):
        raise ValueError(f"the instruction says {declared[0]} jobs but the input lists {len(lengths)}")
    largest = int(pairs[:, 0].max())
    if num_machines is None:
        num_machines = declared[1] if declared is not None else largest + 1
    if largest >= num_machines:
        first_bad = int(np.argmax(pairs[:, 0] >= num_machines))
        machine, job = int(pairs[first_bad, 0]), int(np.searchsorted(np.cumsum(lengths), first_bad, side="right"))
        where = re.compile(rf"M0*{machine}[ \t]*:").search(text, headers[job], end)
        line = _line(text, where.start() if where is not None else headers[job])
        raise ValueError(f"line {line}: job {job} uses machine {machine}, but there are {num_machines}")
    return Instance.from_flat(pairs, lengths, num_machines, name)


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _raise_bad_job_line(text: str, pos: int, job: int) -> None:
    """Raise the error for job ``job``, whose operations do not read at ``pos``."""
    line_start = text.rfind("\n", 0, pos) + 1
    after_header = _JOB_HEADER_RE.match(text, pos)
    if after_header is not None:  # the header itself is fine: point at what follows it
        pos = _BLANKS_RE.match(text, after_header.end()).end()
        line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : len(text) if line_end < 0 else line_end].rstrip("\r")
    why = f" (a number longer than {MAX_DIGITS} digits)" if _LONG_NUMBER_RE.search(line) else ""
    raise ValueError(
        f"line {_line(text, pos)}: job {job} needs operations written 'M<machine>:<duration> ...', got {line[:60]!r}"
        f"{why}"
    )


def _check_listing_end(text: str, end: int, num_jobs: int) -> None:
    """The listing must end at a line end, before a line that is not a job or operation of ours."""
    if _LINE_TAIL_RE.match(text, end) is None:  # something else follows operations on their line
        _raise_bad_job_line(text, end, num_jobs - 1)
    after = _BLANKS_RE.match(text, end).end()
    header = _JOB_HEADER_RE.match(text, after)
    if header is not None:
        job = int(header.group(1)) if len(header.group(1)) <= MAX_DIGITS else num_jobs + 1
        if job == num_jobs:
            _raise_bad_job_line(text, after, job)
        if job > num_jobs:
            raise ValueError(f"line {_line(text, after)}: expected 'J{num_jobs}:', found 'J{header.group(1)}:'")
    elif _OP_ITEM_START_RE.match(text, after):
        _raise_bad_job_line(text, after, num_jobs - 1)


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

    The operations start after the last ``Solution:`` header (any case) that an operation follows, so a preamble may
    say "solution:" too; without one, at the first operation in the text; with neither, a header followed by a
    makespan line or nothing is an empty schedule. One match reads the whole operation list (operations separated
    by a comma or a line break, any whitespace around); what follows it (a makespan line, prose, an end-of-turn token)
    is not an operation. The declared makespan is the first ``Makespan: <number>`` after the list.
    """
    if not isinstance(text, str):
        raise TypeError(f"a solution must be a string, got {type(text).__name__}")
    listing = None
    start, pos = None, 0
    while (
        header := SOLUTION_HEADER_RE.search(text, pos)
    ) is not None:  # headers in order; operation lists are skipped
        after = _BLANKS_RE.match(text, header.end()).end()
        pos = header.end()
        if _LOOSE_OP_RE.match(text, after):
            start, listing = after, _OPS_RE.match(text, after)
            pos = listing.end() if listing is not None else pos
    if start is None:  # no header with an operation after it: the first operation in the text
        first = _LOOSE_OP_RE.search(text)  # loose: an operation with too long a number is an error, not skipped
        if first is None:
            if pos:  # headers, and no operation anywhere: the last header decides
                return _after_last_header(text, _BLANKS_RE.match(text, _last_header_end(text)).end())
            raise ValueError("no operations found" if text.strip() else "empty output")
        start, listing = first.start(), _OPS_RE.match(text, first.start())
    if listing is None:
        _raise_bad_operation(text, start)
    end = listing.end()
    separator = _SEPARATOR_RE.match(text, end)
    if separator is not None:
        after = separator.end()
        if _OP_START_RE.match(text, after):  # the list goes on, but this operation does not read
            _raise_bad_operation(text, after)
        if "," in text[end:after]:
            what = "the text ends" if after >= len(text) else f"found {_snippet(text, after)}"
            raise ValueError(f"{_where(text, after)}: expected an operation after ',', {what}")
    return SolutionScan(_operation_numbers(text[start:end]), _declared_makespan(text, end))


def _last_header_end(text: str) -> int:
    end = 0
    while (header := SOLUTION_HEADER_RE.search(text, end)) is not None:
        end = header.end()
    return end


def _after_last_header(text: str, start: int) -> SolutionScan:
    """The scan of a text whose headers have no operation after them: an empty schedule when the last one is followed
    by a makespan line or nothing, else an error naming what follows it."""
    if start == len(text) or _MAKESPAN_LINE_RE.match(text, start):
        return SolutionScan(np.zeros((0, 5), dtype=np.int64), _declared_makespan(text, start))
    if _OP_START_RE.match(text, start):
        _raise_bad_operation(text, start)
    raise ValueError(
        f"{_where(text, start)}: expected an operation 'J<j>-M<m>: <start>+<duration> -> <end>' after 'Solution:', "
        f"got {_snippet(text, start)}"
    )


def _raise_bad_operation(text: str, pos: int) -> None:
    """Raise the error for the operation at ``pos``, which does not read."""
    loose = _LOOSE_OP_RE.match(text, pos)
    if loose is not None and _LONG_NUMBER_RE.search(loose.group()):
        raise ValueError(
            f"{_where(text, pos)}: malformed or truncated operation {_snippet(text, pos)}: a number longer than "
            f"{MAX_DIGITS} digits"
        )
    raise ValueError(f"{_where(text, pos)}: malformed or truncated operation {_snippet(text, pos)}")


def _operation_numbers(listing: str) -> np.ndarray:
    """The ``(job, machine, start, duration, end)`` rows of a matched operation list, in one numpy conversion."""
    data = listing.encode("ascii")  # the list's pattern admits ASCII only
    numbers = np.fromstring(data.translate(_OPS_TO_SPACES), dtype=np.int64, sep=" ")
    if data.count(b"-") != 2 * (len(numbers) // 5):  # each operation has two dashes ('J0-M1', '->'); more are signs
        signed = _SIGN_RE.sub(b" ", data)  # keep only a '-' that a digit follows
        numbers = np.fromstring(signed.translate(_SIGNED_OPS_TO_SPACES), dtype=np.int64, sep=" ")
    return numbers.reshape(-1, 5)


def _declared_makespan(text: str, pos: int) -> int | float | None:
    """The first ``Makespan: <number>`` at or after ``pos``; a number wider than ``MAX_DIGITS`` is an error."""
    match = _MAKESPAN_RE.search(text, pos)
    if match is None:
        return None
    integral = match.group(1).lstrip("-").split(".", 1)[0]
    if len(integral) > MAX_DIGITS:
        raise ValueError(f"{_where(text, match.start(1))}: a declared makespan longer than {MAX_DIGITS} digits")
    return _to_number(match.group(1))


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
    for i in range(m):  # machine order lines are optional; trailing empty ones (idle machines) may be stripped
        ids = numbers(2 + n + i) if 2 + n + i < len(lines) else []
        order = tuple(divmod(op_id, m) for op_id in ids)
        for op_id, (job, k) in zip(ids, order):
            if not (0 <= job < n and 0 <= k < len(jobs[job])):
                raise ValueError(f"matrix line {3 + n + i}: operation id {op_id} names no operation of the instance")
        orders.append(order)
    if len(lines) > 2 + n + m and any(line.strip() for line in lines[2 + n + m :]):
        raise ValueError(f"matrix line {3 + n + m}: unexpected text after the {m} machine order lines")
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
