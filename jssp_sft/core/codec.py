"""The Starjob text codec: parse and format the ``instruction``, ``input``, ``output`` and ``matrix`` fields.

Formatting is canonical (byte-exact to the paper's form). Reading follows one rule for what a Starjob text may
contain, the same for the instance reader, the solution reader, the verifier, the metric and repair
(docs/verification.md):

- Numbers are ASCII digits only, at most ``MAX_DIGITS`` of them. A number is never cut: a digit of another script
  (``7٠``, ``8０``) or a 16th digit next to one makes the text unreadable, naming the spot.
- An instance is one listing, from its ``J0:`` line on: every line is a job header ``J<k>:`` (jobs in order), that
  job's one operations line ``M<machine>:<duration> ...`` (on the header's line or the next non-blank one), or blank
  (ASCII whitespace, CRLF). Text before ``J0:`` (an instruction, a prompt) and after the last job is not read, but it
  may hold nothing that looks like a job header or an operations line, however written (``Job 1:``, ``**J1:**``, a
  no-break space, other digits): a junk line between jobs is an error naming it, never the silent end of the instance.
- A solution's operations start at the first ``J`` followed by a digit (any script, spaces allowed): the text before
  is a preamble (``Solution:``, prose) and is not read. From there to the makespan line everything is operations and
  their separators (a comma or a line break, ASCII whitespace around); then only a makespan line or the end may come,
  and after the makespan line nothing that starts like an operation. A well-formed candidate line
  (``jssp_sft.core.candidates``) is a line kind of its own wherever it stands: skipped, never operations, never junk;
  a line that starts with ``Next:`` but is not one is junk. Anything else makes the answer unreadable (``ValueError``
  naming line and column; the verifier's ``unparseable``), never skipped.

Every scan is linear in its input: one regular expression matches the whole job listing or operation list, then one
numpy pass converts its numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .candidates import CANDIDATES_PREFIX, is_candidate_line
from .instance import MAX_DIGITS, MAX_VALUE, Instance, InstanceFormatError
from .schedule import Operation, Schedule


INSTRUCTION_TEMPLATE = (
    "Optimize schedule for {num_jobs} Jobs (denoted as J) across {num_machines} Machines (denoted as M) to minimize "
    "makespan. The makespan is the completion time of the last operation in the schedule. Each M can process only "
    "one J at a time, and once started, J cannot be interrupted."
)
SOLUTION_HEADER = "Solution:"
MAKESPAN_PREFIX = "Maximum end completion time or Makespan: "
OPERATION_SEPARATOR = ", "

__all__ = ["MAX_DIGITS", "MAX_VALUE"]  # the limit is defined with the instance; re-exported here for the readers
__all__ += ["INSTRUCTION_TEMPLATE", "MAKESPAN_PREFIX", "OPERATION_SEPARATOR", "SOLUTION_HEADER"]
__all__ += ["MatrixRecord", "SolutionScan", "assign_op_indices", "format_instance", "format_instruction"]
__all__ += ["format_matrix", "format_operation", "format_solution", "number_problem", "parse_decimal"]
__all__ += ["parse_instance", "parse_instruction", "parse_matrix", "parse_solution", "record_makespan"]
__all__ += ["blank_candidate_lines", "operations_region", "scan_solution", "to_record"]

# A number: 1 to MAX_DIGITS ASCII digits, not followed by a digit of any script (\d is Unicode): never cut. A number
# that a symbol must follow ('J3-', 'M2:', '5+') needs no look-ahead (a digit is no symbol): _D, _SD.
_D = rf"[0-9]{{1,{MAX_DIGITS}}}"
_SD = rf"-?{_D}"
_N = rf"{_D}(?!\d)"
_SN = rf"-?{_N}"
_LONG_NUMBER_RE = re.compile(rf"[0-9]{{{MAX_DIGITS + 1}}}")
_WHOLE_RE = re.compile(rf"[+-]?[0-9]{{1,{MAX_DIGITS}}}")
_DECIMAL_RE = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}(?:\.[0-9]{{1,{MAX_DIGITS}}})?")
# Characters that look like nothing or like a space: they may not stand inside a listing, but they must not hide one.
INVISIBLE = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_GAP = rf"(?:[^\S\n]|[{INVISIBLE}])*"  # any run of spaces of any script and invisible characters, within a line
_INSTRUCTION_RE = re.compile(r"Optimize schedule for ([0-9]{1,9}) Jobs \(denoted as J\) across ([0-9]{1,9}) Machines")
_FIRST_JOB_RE = re.compile(r"^[ \t]*J0[ \t]*:", re.MULTILINE)
# Job listing. A job: its header, then its operations on the header's line or on the next non-blank line; jobs on
# lines of their own. Each item tries the canonical spelling first (a subset of the general one), which the regex engine
# walks on literals; possessive quantifiers keep no backtracking stack. A bad number stops the match; the end checks
# name it.
_ITEM = rf"M{_D}[ \t]*+:[ \t]*+{_N}"
_ITEMS = rf"(?:M{_D}:{_N}|{_ITEM})(?: M{_D}:{_N}|[ \t]*+{_ITEM})*+"
_JOB = rf"J{_D}[ \t]*+:(?:[ \t]*+(?=M)|[ \t\r]*+\n[ \t\r\n]*+){_ITEMS}"
_JOBS_RE = re.compile(rf"{_JOB}(?:[ \t\r]*+\n[ \t\r\n]*+{_JOB})*+")
_JOB_HEADER_RE = re.compile(r"J([0-9]+)[ \t]*:")
_BLANKS_RE = re.compile(r"[ \t\r\n]*")
_LINE_TAIL_RE = re.compile(r"[ \t\r]*(?:\n|\Z)")
_INSTANCE_TO_SPACES = bytes.maketrans(b"JM:", b"   ")
# Text that looks like a job header or an operations item, however written, anywhere in a line: 'J' (or 'Job') and
# digits of any script then ':' (non-letters between: '**J1:**'), or 'M', digits, ':' and digits not followed by '+'
# (which makes it an answer's operation, 'J0-M2: 0+7'). Spaces of any script and invisible characters are allowed
# between. No line outside the listing may hold it.
_INSTANCE_LIKE_RE = re.compile(rf"(?:J|[Jj]ob|JOB){_GAP}\d+(?:[^\w\n:]|_)*:|M{_GAP}\d+{_GAP}:{_GAP}\d+(?!{_GAP}[+\d])")

# One operation as models write it: optional spaces around the symbols; signed start/duration/end so that a negative
# start reaches the verifier as a violation rather than a parse error.
_OP = rf"J[ \t]*{_D}[ \t]*-[ \t]*M[ \t]*{_D}[ \t]*:[ \t]*{_SD}[ \t]*\+[ \t]*{_SD}[ \t]*->[ \t]*{_SN}"
_CANONICAL_OP = rf"J{_D}-M{_D}: {_SD}\+{_SD} -> {_SN}"
_ANY_OP = rf"(?:{_CANONICAL_OP}|{_OP})"
# Operations are separated by a comma or a line break, with any ASCII whitespace (blank lines, CRLF, indentation)
# around. The whole operation list is one match; the canonical spelling is tried first (a subset of the general one).
_SEPARATOR = r"(?:[ \t\r\n]*,[ \t\r\n]*|[ \t\r]*\n[ \t\r\n]*)"
_OPS_RE = re.compile(rf"{_ANY_OP}(?:(?:, |{_SEPARATOR}){_ANY_OP})*+")
_SEPARATOR_RE = re.compile(_SEPARATOR)
# Where operations start: a 'J' and a digit of any script, with spaces of any script or invisible characters between.
_OP_LIKE_RE = re.compile(rf"J{_GAP}\d")
SOLUTION_HEADER_RE = re.compile(r"Solution[ \t]*:", re.IGNORECASE | re.ASCII)
# ASCII letters in any case; the look-ahead's \d is any script's digit: '8０' is not cut to 8.
_MAKESPAN_LINE_RE = re.compile(
    r"(?ai:(?:Maximum end completion time or )?Makespan[ \t]*:)[ \t]*(-?[0-9]+(?:\.[0-9]+)?)(?!\.?\d)"
)
_MAKESPAN_WORD_RE = re.compile(r"(?:Maximum end completion time or )?Makespan", re.IGNORECASE | re.ASCII)
_CANDIDATE_START_RE = re.compile(rf"^[ \t]*{re.escape(CANDIDATES_PREFIX)}", re.MULTILINE)
_OPS_TO_SPACES = bytes.maketrans(b"JM:+>,-", b"       ")
_SIGNED_OPS_TO_SPACES = bytes.maketrans(b"JM:+>,", b"      ")
_SIGN_RE = re.compile(rb"-(?![0-9])")


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _where(text: str, pos: int) -> str:
    """``line L, column C`` of a character offset, for error messages."""
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {_line(text, pos)}, column {column}"


def _line_at(text: str, pos: int) -> str:
    """The whole line that holds ``pos`` (without its line break and a CR)."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : len(text) if end < 0 else end].rstrip("\r")


def _snippet(text: str, pos: int, width: int = 40) -> str:
    piece = text[pos : pos + width].split("\n", 1)[0]
    return repr(piece + ("..." if len(text) > pos + len(piece) and "\n" not in text[pos : pos + width] else ""))


def _odd_character(text: str) -> str:
    """Why ``text`` does not read although it may look right: a digit of another script, a space that is not ASCII,
    an invisible character or a number longer than ``MAX_DIGITS``; ``""`` when it has none of them."""
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            return f" (a non-ASCII digit {ch!r}: numbers are ASCII digits)"
        if not ch.isascii() and (ch.isspace() or re.match(f"[{INVISIBLE}]", ch)):
            return f" (a non-ASCII space or invisible character {ch!r})"
    if _LONG_NUMBER_RE.search(text):
        return f" (a number longer than {MAX_DIGITS} digits)"
    return ""


def number_problem(token: str) -> str | None:
    """What is wrong with ``token`` as a whole number (ASCII digits, an optional sign, at most ``MAX_DIGITS``), or
    ``None`` when it is one. The one number rule of every reader."""
    if _WHOLE_RE.fullmatch(token):
        return None
    odd = next((ch for ch in token if ch.isdigit() and not ch.isascii()), None)
    if odd is not None:
        return f"expected a whole number in ASCII digits, got {token[:40]!r} (the digit {odd!r})"
    if re.fullmatch(r"[+-]?[0-9]+", token):
        return f"a number longer than {MAX_DIGITS} digits ({token[:20]}...)"
    return f"expected a whole number, got {token[:40]!r}"


def parse_decimal(token: str) -> int | float:
    """``"317"`` -> 317, ``"317.0"`` -> 317, ``"317.5"`` -> 317.5; ``ValueError`` for anything else (other digits,
    exponents, ``nan``, ``inf``, a ``+``, more than ``MAX_DIGITS`` digits on either side of the point)."""
    if _DECIMAL_RE.fullmatch(token):
        return _to_number(token)
    odd = next((ch for ch in token if ch.isdigit() and not ch.isascii()), None)
    if odd is not None:
        raise ValueError(f"expected a number in ASCII digits, got {token[:40]!r} (the digit {odd!r})")
    if re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?", token):
        raise ValueError(f"a number longer than {MAX_DIGITS} digits ({token[:20]}...)")
    raise ValueError(f"expected a number, got {token[:40]!r}")


def _to_number(token: str) -> int | float:
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
    """Parse an ``input`` field, or any text that holds one (a whole Alpaca or chat prompt), by the module's rule.

    ``num_machines`` comes from the argument, else from an instruction sentence in ``text``, else from the largest
    machine id plus one (a job need not visit every machine). A byte-order mark at the start is ignored. Raises
    ``InstanceFormatError`` (a ``ValueError``) naming the line and the field.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_instance expects a string, got {type(text).__name__}")
    text = text.removeprefix("\ufeff")
    first = _FIRST_JOB_RE.search(text)
    if first is None:
        like = _INSTANCE_LIKE_RE.search(text)
        if like is not None:
            raise _bad_line(text, like.start(), 0)
        raise InstanceFormatError(
            None, None, None, "no instance found: expected a line 'J0:' followed by 'M<machine>:<duration>' entries"
        )
    earlier = _INSTANCE_LIKE_RE.search(text, 0, first.start())
    if earlier is not None:  # e.g. 'J1:' listed before 'J0:', or a second instance: one text holds one instance
        line = _line_at(text, earlier.start()).strip()
        what = "a job header" if _JOB_HEADER_RE.match(line) else "a line like a job header or operations"
        raise InstanceFormatError(
            None,
            _line(text, earlier.start()),
            None,
            f"{what} before 'J0:' ({line[:60]!r}): one text holds one instance",
        )
    start = text.index("J", first.start())
    listing = _JOBS_RE.match(text, start)
    if listing is None:
        raise _bad_line(text, start, 0)
    end = listing.end()
    headers = []
    for header in _JOB_HEADER_RE.finditer(text, start, end):
        job = int(header.group(1))
        if job != len(headers):
            raise InstanceFormatError(
                None,
                _line(text, header.start()),
                f"job {len(headers)}",
                f"expected 'J{len(headers)}:', got 'J{job}:'"
                + (" (a second listing: one text holds one instance)" if job < len(headers) else ""),
            )
        headers.append(header.start())
    _check_listing_end(text, end, len(headers))
    block = text[start:end].encode("ascii")  # the listing's pattern admits ASCII only
    numbers = np.fromstring(block.translate(_INSTANCE_TO_SPACES), dtype=np.int64, sep=" ")
    bounds = [h - start for h in headers] + [len(block)]
    lengths = [block.count(b"M", a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    header_positions = np.cumsum([0] + [1 + 2 * n for n in lengths[:-1]])
    pairs = np.delete(numbers, header_positions).reshape(-1, 2)
    declared = parse_instruction(text)
    if declared is not None and declared[0] != len(lengths):
        raise InstanceFormatError(
            None, _line(text, end), "jobs", f"the instruction says {declared[0]} jobs, the text lists {len(lengths)}"
        )
    largest = int(pairs[:, 0].max())
    if num_machines is None:
        num_machines = declared[1] if declared is not None else largest + 1
    if largest >= num_machines:
        first_bad = int(np.argmax(pairs[:, 0] >= num_machines))
        machine, job = int(pairs[first_bad, 0]), int(np.searchsorted(np.cumsum(lengths), first_bad, side="right"))
        where = re.compile(rf"M0*{machine}[ \t]*:").search(text, headers[job], end)
        raise InstanceFormatError(
            None,
            _line(text, where.start() if where is not None else headers[job]),
            f"job {job} operation {first_bad - sum(lengths[:job])} machine",
            f"machine {machine} is outside 0..{num_machines - 1} (the instance has {num_machines} machines)",
        )
    try:
        return Instance.from_flat(pairs, lengths, num_machines, name)
    except ValueError as err:  # the durations add up to more than the limit
        raise InstanceFormatError(None, None, None, str(err)) from None


def _check_listing_end(text: str, end: int, num_jobs: int) -> None:
    """After the listing, at the end of its last line, nothing may look like a job header or operations line."""
    if _LINE_TAIL_RE.match(text, end) is None:  # something else follows the operations on their line
        raise _bad_line(text, end, num_jobs)
    after = _BLANKS_RE.match(text, end).end()
    like = _INSTANCE_LIKE_RE.search(text, after)
    if like is not None and text.find("\n", after, like.start()) < 0:  # on the first line after the listing
        raise _bad_line(text, after, num_jobs)
    if like is not None:
        raise InstanceFormatError(
            None,
            _line(text, after),
            None,
            f"{_line_at(text, after).strip()[:60]!r} is not a job header or an operations line, but the instance goes "
            f"on at line {_line(text, like.start())} ({_line_at(text, like.start()).strip()[:40]!r}): every line "
            "between jobs is a job header 'J<k>:', the job's operations 'M<machine>:<duration> ...' or blank",
        )


def _bad_line(text: str, pos: int, job: int) -> InstanceFormatError:
    """The error for the text at ``pos``, where job ``job``'s header should start (or, when ``pos`` is inside a line,
    where job ``job - 1``'s operations line stopped reading)."""
    line, number = _line_at(text, pos), _line(text, pos)
    line_start = text.rfind("\n", 0, pos) + 1
    if text[line_start:pos].strip(" \t"):  # inside a line: the operations of the job on this line do not read
        header = _JOB_HEADER_RE.match(line.strip(" \t"))
        return _operations_error(line.strip(" \t")[header.end() :] if header else line, number, job - 1)
    stripped = line.strip(" \t")
    header = re.match(r"J([0-9]+)[ \t]*:(.*)", stripped)
    if header is not None:
        if (header.group(1).lstrip("0") or "0") != str(job):
            return InstanceFormatError(None, number, f"job {job}", f"expected 'J{job}:', got 'J{header.group(1)}:'")
        if header.group(2).strip(" \t\r"):
            return _operations_error(header.group(2), number, job)
        line_end = text.find("\n", pos)
        following = len(text) if line_end < 0 else _BLANKS_RE.match(text, line_end).end()
        if following == len(text) or _JOB_HEADER_RE.match(text, following):
            return InstanceFormatError(
                None, number + 1, f"job {job}", "missing the operations line after the job's header"
            )
        return _operations_error(_line_at(text, following), _line(text, following), job)
    if re.match(r"M[ \t]*[0-9]", stripped) and job > 0:  # a second operations line: a job's operations are one line
        return InstanceFormatError(
            None, number, f"job {job}", f"expected 'J{job}:', got {stripped[:60]!r}{_odd_character(stripped)}"
        )
    return InstanceFormatError(
        None,
        number,
        None,
        f"{stripped[:60]!r} is not the job header 'J{job}:' or an operations line 'M<machine>:<duration> ...'"
        f"{_odd_character(stripped)}",
    )


def _operations_error(ops_text: str, number: int, job: int) -> InstanceFormatError:
    """The error for job ``job``'s operations line ``ops_text`` (line ``number``), naming the operation and field."""
    tokens = re.split(r"[ \t]+", re.sub(r"[ \t]*:[ \t]*", ":", ops_text.strip(" \t\r")))
    for k, token in enumerate(tokens):
        field = f"job {job} operation {k}"
        item = re.fullmatch(r"M([^:]*):(.*)", token)
        if item is None:
            return InstanceFormatError(
                None, number, field, f"expected 'M<machine>:<duration>', got {token[:40]!r}{_odd_character(token)}"
            )
        for part, value in (("machine", item.group(1)), ("duration", item.group(2))):
            if not value:
                problem = "missing"
            elif value[0] in "+-":
                problem = f"expected a whole number, got {value[:40]!r}"
            else:
                problem = number_problem(value)
            if problem is not None:
                return InstanceFormatError(None, number, f"{field} {part}", problem)
    return InstanceFormatError(
        None,
        number,
        f"job {job}",
        f"the operations line {ops_text.strip()[:60]!r} does not read{_odd_character(ops_text)}",
    )


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


def blank_candidate_lines(text: str, strict: bool = True) -> str:
    """``text`` with each well-formed candidate line turned into spaces (offsets, lines and columns are kept).

    ``strict``: a line that starts with ``Next:`` but is not a candidate line is a ``ValueError`` naming it; otherwise
    it is blanked too (repair reads every such line as no operation).
    """
    if CANDIDATES_PREFIX not in text:
        return text
    pieces, last = [], 0
    for match in _CANDIDATE_START_RE.finditer(text):
        end = text.find("\n", match.start())
        end = len(text) if end < 0 else end
        if strict and not is_candidate_line(text[match.start() : end]):
            raise ValueError(
                f"{_where(text, match.start())}: a line that starts with {CANDIDATES_PREFIX!r} but is not a candidate "
                f"line ('Next: <fields> J<job> | ...'): {_snippet(text, match.start(), 60)}"
            )
        pieces += [text[last : match.start()], " " * (end - match.start())]
        last = end
    return "".join(pieces) + text[last:]


def operations_region(text: str) -> tuple[str, int, int]:
    """``(text with every candidate line blanked, start, end)``: where a solution text's operations are by the
    module's rule, read leniently (for repair): from the first ``J`` and a digit to the makespan line or the end."""
    text = blank_candidate_lines(text, strict=False)
    first = _OP_LIKE_RE.search(text)
    start = len(text) if first is None else first.start()
    makespan = _MAKESPAN_WORD_RE.search(text, start)
    return text, start, len(text) if makespan is None else makespan.start()


def scan_solution(text: str) -> SolutionScan:
    """Read the operations and the declared makespan of a solution text by the module's rule; ``ValueError`` names
    the line and column of what does not read.

    A text with no operation at all is an empty schedule when its last ``Solution:`` header (any case) is followed by
    a makespan line or nothing. The declared makespan is the makespan line's number (``None`` without one).
    """
    if not isinstance(text, str):
        raise TypeError(f"a solution must be a string, got {type(text).__name__}")
    text = blank_candidate_lines(text)
    first = _OP_LIKE_RE.search(text)
    if first is None:
        headers = list(SOLUTION_HEADER_RE.finditer(text))
        if not headers:
            raise ValueError("no operations found" if text.strip() else "empty output")
        declared = _after_operations(text, _BLANKS_RE.match(text, headers[-1].end()).end(), "after 'Solution:'")
        return SolutionScan(np.zeros((0, 5), dtype=np.int64), declared)
    start = first.start()
    listing = _OPS_RE.match(text, start)
    if listing is None:
        _raise_bad_operation(text, start)
    end = listing.end()
    separator = _SEPARATOR_RE.match(text, end)
    if separator is not None:
        after = separator.end()
        if _OP_LIKE_RE.match(text, after):  # the list goes on, but this operation does not read
            _raise_bad_operation(text, after)
        if "," in text[end:after]:
            what = "the text ends" if after >= len(text) else f"found {_snippet(text, after)}"
            raise ValueError(f"{_where(text, after)}: expected an operation after ',', {what}")
    declared = _after_operations(text, _BLANKS_RE.match(text, end).end(), "after the operations")
    return SolutionScan(_operation_numbers(text[start:end]), declared)


def _after_operations(text: str, pos: int, where: str) -> int | float | None:
    """The declared makespan, read at ``pos``: the end of the text (``None``), or the makespan line, after which
    nothing may start like an operation; anything else is a ``ValueError`` naming it."""
    if pos == len(text):
        return None
    line = _MAKESPAN_LINE_RE.match(text, pos)
    if line is None:
        segment = _line_at(text, pos)
        if _MAKESPAN_WORD_RE.match(text, pos):
            raise ValueError(
                f"{_where(text, pos)}: the makespan line's number does not read: {_snippet(text, pos)}"
                f"{_odd_character(segment)}"
            )
        raise ValueError(
            f"{_where(text, pos)}: expected an operation, the makespan line or the end {where}, found "
            f"{_snippet(text, pos)}{_odd_character(text[pos : pos + 40].split(chr(10), 1)[0])}"
        )
    integral = line.group(1).lstrip("-").split(".", 1)[0]
    if len(integral) > MAX_DIGITS:
        raise ValueError(f"{_where(text, line.start(1))}: a declared makespan longer than {MAX_DIGITS} digits")
    later = _OP_LIKE_RE.search(text, line.end())
    if later is not None:
        raise ValueError(
            f"{_where(text, later.start())}: {_snippet(text, later.start())} after the makespan line: the operations "
            "come before it"
        )
    return _to_number(line.group(1))


def _raise_bad_operation(text: str, pos: int) -> None:
    """Raise the error for the operation at ``pos``, which does not read."""
    segment = text[pos:].split("\n", 1)[0].split(",", 1)[0]
    raise ValueError(
        f"{_where(text, pos)}: malformed or truncated operation {_snippet(text, pos)}{_odd_character(segment[:80])}"
    )


def _operation_numbers(listing: str) -> np.ndarray:
    """The ``(job, machine, start, duration, end)`` rows of a matched operation list, in one numpy conversion."""
    data = listing.encode("ascii")  # the list's pattern admits ASCII only
    numbers = np.fromstring(data.translate(_OPS_TO_SPACES), dtype=np.int64, sep=" ")
    if data.count(b"-") != 2 * (len(numbers) // 5):  # each operation has two dashes ('J0-M1', '->'); more are signs
        signed = _SIGN_RE.sub(b" ", data)  # keep only a '-' that a digit follows
        numbers = np.fromstring(signed.translate(_SIGNED_OPS_TO_SPACES), dtype=np.int64, sep=" ")
    return numbers.reshape(-1, 5)


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

    def numbers(i: int, decimal: bool = False) -> list:
        if i >= len(lines):
            raise ValueError(f"matrix line {i + 1}: missing (the text ends after {len(lines)} lines)")
        values = []
        for token in _ascii_tokens(lines[i]):
            try:
                if decimal:
                    values.append(parse_decimal(token))
                    continue
                problem = number_problem(token)
                if problem is None and token[0] in "+-":
                    problem = f"expected a whole number >= 0, got {token!r}"
                if problem is not None:
                    raise ValueError(problem)
                values.append(int(token))
            except ValueError as err:
                raise ValueError(f"matrix line {i + 1}: {err}") from None
        return values

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
    makespan_line = numbers(1 + n, decimal=True)
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
    return MatrixRecord(instance, makespan_line[0], tuple(orders))


def _ascii_tokens(line: str) -> list[str]:
    """The tokens of a line split at ASCII whitespace only (a no-break space stays inside its token, to be refused)."""
    return [token for token in re.split(r"[ \t\r\f\v]+", line) if token]


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
