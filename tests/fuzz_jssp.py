"""A deliberately simple reference reader and checker of Starjob texts, and random generators of instances, solutions
and their mutations, for the property tests (tests/test_fuzz_verifier.py) and the fuzz counts (bench/fuzz.py).

The reference reads characters one at a time (no regular expressions) and checks feasibility by brute force (every
pair of operations), so that it shares no code and no technique with ``jssp_sft.core``. It follows the rule that
docs/verification.md states:

- numbers: 1 to ``MAX_DIGITS`` ASCII digits, never followed by a digit of any script (a number is never cut);
- a solution: every line that starts (after spaces or tabs) with ``Next:`` is a well-formed candidate line, which
  counts as blank, or the text does not read. Operations start at the first ``J`` that a digit of any script follows
  (spaces of any script and invisible characters allowed between); an operation is ``J<j>-M<m>:<start>+<duration>
  -><end>`` with spaces or tabs around the symbols, start/duration/end optionally negative; operations are separated
  by a comma or a line break (ASCII whitespace around); a list that goes on after a separator with something that is
  not an operation is unreadable when the separator had a comma or the thing starts like an operation; after the
  list only ASCII whitespace, then the end or a makespan line, after which nothing starts like an operation. Without
  any operation, the last ``Solution:`` header (ASCII letters, any case) followed by the end or a makespan line is an
  empty schedule;
- an instance: a BOM at the start is dropped; the listing starts at the first line ``J0:``; jobs in order, each a
  header ``J<k>:`` and its operations on the header's line or on the next non-blank line; the listing ends at the end
  of a line; before the ``J0:`` line and after the listing no line may hold text like a job header or an operations
  item, however written (markup, spaces of any script, invisible characters, digits of any script, ``Job 1:``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


MAX_DIGITS = 15
MAX_VALUE = 10**MAX_DIGITS - 1
BLANKS = " \t\r\n"
SPACES = " \t"
INVISIBLE = set("\u00ad\u180e\ufeff") | {
    chr(c) for r in ((0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064)) for c in range(r[0], r[1] + 1)
}
INSTRUCTION = "Optimize schedule for "


class Unreadable(Exception):
    """The reference could not read the text (the codec must raise ``ValueError`` too)."""


# ----------------------------------------------------------------------------------------------- small scanners


def _skip(text: str, i: int, chars: str) -> int:
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def _is_gap(ch: str) -> bool:
    """A space of any script but a line break, or an invisible character."""
    return ch != "\n" and (ch.isspace() or ch in INVISIBLE)


def _skip_gap(text: str, i: int) -> int:
    while i < len(text) and _is_gap(text[i]):
        i += 1
    return i


def _digits(text: str, i: int) -> tuple[int, int] | None:
    """``(value, end)`` of the ASCII number at ``i``; ``None`` when there is none, it has more than ``MAX_DIGITS``
    digits, or a digit of another script follows it."""
    j = i
    while j < len(text) and "0" <= text[j] <= "9":
        j += 1
    if j == i or j - i > MAX_DIGITS or (j < len(text) and text[j].isdecimal()):
        return None
    return int(text[i:j]), j


def _signed(text: str, i: int) -> tuple[int, int] | None:
    if i < len(text) and text[i] == "-":
        got = _digits(text, i + 1)
        return None if got is None else (-got[0], got[1])
    return _digits(text, i)


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _line_starts(text: str) -> list[int]:
    return [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


# ------------------------------------------------------------------------------------------------ candidate lines


def _candidate_field(field: str) -> str | None:
    """``"job"``, ``"other"`` or ``None`` (not a field)."""
    if field.startswith("J"):
        number = field[1:]
        return "job" if number.isascii() and number.isdigit() and len(number) <= MAX_DIGITS else None
    if not field or not (("a" <= field[0] <= "z") or field[0] == "M"):
        return None
    number = field[1:].removeprefix("-")
    return "other" if number.isascii() and number.isdigit() and len(number) <= MAX_DIGITS else None


def is_candidate_line(line: str) -> bool:
    """``Next:``, then entries separated by ``|``, each space-separated fields with exactly one ``J<int>``."""
    i = _skip(line, 0, SPACES)
    if not line.startswith("Next:", i):
        return False
    i += len("Next:")
    if _skip(line, i, SPACES) == i:
        return False
    body = line[i:].rstrip(" \t\r")
    for entry in body.split("|"):
        fields = entry.replace("\t", " ").split(" ")
        fields = [f for f in fields if f != ""]
        if not fields or "\r" in entry:
            return False
        kinds = [_candidate_field(f) for f in fields]
        if None in kinds or kinds.count("job") != 1:
            return False
    return True


def _blank_candidate_lines(text: str) -> str:
    out = []
    for start in _line_starts(text):
        end = _line_end(text, start)
        line = text[start:end]
        if line.lstrip(SPACES).startswith("Next:"):
            if not is_candidate_line(line):
                raise Unreadable("a malformed candidate line")
            line = " " * len(line)
        out.append(line)
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------ reference reader


def _starts_like_operation(text: str, i: int) -> bool:
    """A 'J' that a digit of any script follows (spaces of any script or invisible characters between)."""
    if not text.startswith("J", i):
        return False
    j = _skip_gap(text, i + 1)
    return j < len(text) and text[j].isdecimal()


def operation_at(text: str, i: int) -> tuple[tuple[int, ...], int] | None:
    """The operation written at ``i`` and where it ends, or ``None``."""
    values = []
    pos = i
    for kind, symbol in (("J", None), ("int", "-"), ("M", None), ("int", ":"), ("signed", "+"), ("signed", "->")):
        if kind in ("J", "M"):
            if not text.startswith(kind, pos):
                return None
            pos = _skip(text, pos + 1, SPACES)
            continue
        got = (_digits if kind == "int" else _signed)(text, pos)
        if got is None:
            return None
        values.append(got[0])
        pos = _skip(text, got[1], SPACES)
        if not text.startswith(symbol, pos):
            return None
        pos = _skip(text, pos + len(symbol), SPACES)
    got = _signed(text, pos)
    if got is None:
        return None
    values.append(got[0])
    return tuple(values), got[1]


def _separator(text: str, i: int) -> tuple[int, bool] | None:
    """``(end, has_comma)`` of an operation separator at ``i``, or ``None``."""
    j = _skip(text, i, BLANKS)
    if j < len(text) and text[j] == ",":
        return _skip(text, j + 1, BLANKS), True
    if "\n" in text[i:j]:
        return j, False
    return None


def _makespan_line(text: str, i: int) -> tuple[int | float, int] | None:
    """``(declared makespan, end)`` of a makespan line at ``i``; ``None`` when none is there or its number does not
    read; ``Unreadable`` for a number longer than ``MAX_DIGITS`` digits before its point."""
    lowered = _ascii_lower(text[i : i + 60])
    k = len("maximum end completion time or ") if lowered.startswith("maximum end completion time or ") else 0
    if not lowered.startswith("makespan", k):
        return None
    j = _skip(text, i + k + len("makespan"), SPACES)
    if not text.startswith(":", j):
        return None
    start = j = _skip(text, j + 1, SPACES)
    if text.startswith("-", j):
        j += 1
    digits_start = j
    while j < len(text) and "0" <= text[j] <= "9":
        j += 1
    if j == digits_start:
        return None
    integral_end = j
    if j + 1 < len(text) and text[j] == "." and "0" <= text[j + 1] <= "9":
        j += 1
        while j < len(text) and "0" <= text[j] <= "9":
            j += 1
    if j < len(text) and (text[j].isdecimal() or (text[j] == "." and j + 1 < len(text) and text[j + 1].isdecimal())):
        return None
    if integral_end - digits_start > MAX_DIGITS:
        raise Unreadable("declared makespan too long")
    value = float(text[start:j]) if "." in text[start:j] else int(text[start:j])
    return (int(value) if isinstance(value, float) and value.is_integer() else value), j


def _after_operations(text: str, i: int) -> int | float | None:
    if i == len(text):
        return None
    line = _makespan_line(text, i)
    if line is None:
        raise Unreadable("something other than the makespan line after the operations")
    if any(_starts_like_operation(text, k) for k in range(line[1], len(text))):
        raise Unreadable("an operation after the makespan line")
    return line[0]


def _header_ends(text: str) -> list[int]:
    lowered = _ascii_lower(text)
    ends, i = [], lowered.find("solution")
    while i >= 0:
        j = _skip(text, i + len("solution"), SPACES)
        if j < len(text) and text[j] == ":":
            ends.append(j + 1)
        i = lowered.find("solution", i + 1)
    return ends


def read_solution(text: str) -> tuple[list[tuple[int, ...]], int | float | None]:
    """``(operations in text order, declared makespan)``; ``Unreadable`` when the text does not read."""
    text = _blank_candidate_lines(text)
    start = next((i for i in range(len(text)) if _starts_like_operation(text, i)), None)
    if start is None:
        headers = _header_ends(text)
        if not headers:
            raise Unreadable("no operations")
        return [], _after_operations(text, _skip(text, headers[-1], BLANKS))
    first = operation_at(text, start)
    if first is None:
        raise Unreadable("malformed first operation")
    ops, end = [first[0]], first[1]
    while True:
        separator = _separator(text, end)
        if separator is None:
            break
        following = operation_at(text, separator[0])
        if following is None:
            if separator[1] or _starts_like_operation(text, separator[0]):
                raise Unreadable("the list goes on with something that is not an operation")
            break
        ops.append(following[0])
        end = following[1]
    return ops, _after_operations(text, _skip(text, end, BLANKS))


def looks_like_instance_line(line: str) -> bool:
    """A line that holds, anywhere, text like a job header (``J``/``Job``/``job``/``JOB``, digits of any script, then
    ``:`` with characters that are no letter or digit between) or like an operations item (``M``, digits, ``:``,
    digits not followed by ``+`` or another digit), spaces of any script or invisible characters allowed between."""
    for i in range(len(line)):
        for word in ("J", "Job", "job", "JOB"):
            if line.startswith(word, i):
                j = k = _skip_gap(line, i + len(word))
                while k < len(line) and line[k].isdecimal():
                    k += 1
                if k > j:
                    while k < len(line) and not line[k].isalnum() and line[k] != ":":
                        k += 1
                    if line.startswith(":", k):
                        return True
        if line.startswith("M", i):
            j = k = _skip_gap(line, i + 1)
            while k < len(line) and line[k].isdecimal():
                k += 1
            if k > j:
                k = _skip_gap(line, k)
                if line.startswith(":", k):
                    j = k = _skip_gap(line, k + 1)
                    while k < len(line) and line[k].isdecimal():
                        k += 1
                    after = _skip_gap(line, k)
                    if k > j and not (after < len(line) and (line[after] == "+" or line[after].isdecimal())):
                        return True
    return False


def _job_header_at(text: str, i: int) -> tuple[int, int] | None:
    """``(job number, end after ':')`` of a strict header ``J<digits>[ \\t]*:`` at ``i``."""
    if not text.startswith("J", i):
        return None
    got = _digits(text, i + 1)
    if got is None:
        return None
    j = _skip(text, got[1], SPACES)
    return (got[0], j + 1) if text.startswith(":", j) else None


def _item_at(text: str, i: int) -> tuple[tuple[int, int], int] | None:
    if not text.startswith("M", i):
        return None
    machine = _digits(text, i + 1)
    if machine is None:
        return None
    j = _skip(text, machine[1], SPACES)
    if not text.startswith(":", j):
        return None
    duration = _digits(text, _skip(text, j + 1, SPACES))
    return None if duration is None else ((machine[0], duration[0]), duration[1])


def _job_at(text: str, i: int) -> tuple[int, list[tuple[int, int]], int] | None:
    """``(job number, items, end)`` of a whole job at ``i`` (its header and its one operations line), or ``None``."""
    header = _job_header_at(text, i)
    if header is None:
        return None
    q = _skip(text, header[1], SPACES)
    if not text.startswith("M", q):  # the operations on the next non-blank line
        q = _skip(text, header[1], " \t\r")
        if not text.startswith("\n", q):
            return None
        q = _skip(text, q, BLANKS)
    items = []
    while True:
        item = _item_at(text, q if not items else _skip(text, q, SPACES))
        if item is None:
            break
        items.append(item[0])
        q = item[1]
    return (header[0], items, q) if items else None


def read_instance(text: str) -> tuple[list[list[tuple[int, int]]], int]:
    """``(jobs, num_machines)``; ``Unreadable`` when the text holds no well-formed instance."""
    text = text.removeprefix("\ufeff")
    lines = [(start, text[start : _line_end(text, start)]) for start in _line_starts(text)]
    first = first_line = None
    for start, line in lines:
        i = _skip(line, 0, SPACES)
        if line.startswith("J0", i) and line.startswith(":", _skip(line, i + 2, SPACES)):
            first, first_line = start + i, start
            break
    if first is None:
        raise Unreadable("no J0 line")
    if any(looks_like_instance_line(line) for start, line in lines if start < first_line):
        raise Unreadable("a job header or operations line before J0")
    jobs: list[list[tuple[int, int]]] = []
    pos = first
    while True:
        at = first if not jobs else pos
        if jobs:  # the next job starts on a later line
            gap_end = _skip(text, pos, " \t\r")
            if not text.startswith("\n", gap_end):
                break
            at = _skip(text, gap_end, BLANKS)
        job = _job_at(text, at)
        if job is None:
            if not jobs:
                raise Unreadable("job 0 does not read")
            break
        if job[0] != len(jobs):
            raise Unreadable("jobs out of order, or a second listing")
        jobs.append(job[1])
        pos = job[2]
    rest = _skip(text, pos, " \t\r")
    if rest < len(text) and text[rest] != "\n":
        raise Unreadable("something else after operations on their line")
    for start, line in lines:
        if start > pos and looks_like_instance_line(line):
            raise Unreadable("a job header or operations line after the listing")
    declared = _instruction(text)
    if declared is not None and declared[0] != len(jobs):
        raise Unreadable("the instruction counts other jobs")
    largest = max(m for job in jobs for m, _ in job)
    num_machines = declared[1] if declared is not None else largest + 1
    if largest >= num_machines:
        raise Unreadable("a machine beyond the instruction's count")
    if sum(d for job in jobs for _, d in job) > MAX_VALUE:
        raise Unreadable("durations add up to more than the limit")
    return jobs, num_machines


def _instruction(text: str) -> tuple[int, int] | None:
    """``(N, M)`` of the first ``Optimize schedule for N Jobs (denoted as J) across M Machines``, if any."""
    i = text.find(INSTRUCTION)
    while i >= 0:
        j = i + len(INSTRUCTION)
        k = j
        while k < len(text) and "0" <= text[k] <= "9":
            k += 1
        middle = " Jobs (denoted as J) across "
        if 0 < k - j <= 9 and text.startswith(middle, k):
            m = n = k + len(middle)
            while n < len(text) and "0" <= text[n] <= "9":
                n += 1
            if 0 < n - m <= 9 and text.startswith(" Machines", n):
                return int(text[j:k]), int(text[m:n])
        i = text.find(INSTRUCTION, i + 1)
    return None


# ---------------------------------------------------------------------------------------------- reference checker


@dataclass(frozen=True)
class Verdict:
    parsed: bool
    feasible: bool = False
    makespan: int | None = None
    declared: int | float | None = None


def check(jobs: list[list[tuple[int, int]]], num_machines: int, text: str) -> Verdict:
    """Brute-force feasibility: each job's entries in start order are its route, times add up, no overlaps."""
    try:
        ops, declared = read_solution(text)
    except Unreadable:
        return Verdict(False)
    known = [op for op in ops if op[0] < len(jobs)]
    makespan = max((s + d for _, _, s, d, _ in known), default=None)
    feasible = len(known) == len(ops) and len(ops) > 0
    for j, route in enumerate(jobs):
        mine = sorted((op for op in ops if op[0] == j), key=lambda op: op[2])  # stable: ties keep text order
        if [(m, d) for _, m, _, d, _ in mine] != list(route):
            feasible = False
        for a, b in zip(mine, mine[1:]):
            if b[2] < a[2] + a[3]:
                feasible = False
    for _, m, s, d, e in ops:
        if m >= num_machines or e != s + d or s < 0:
            feasible = False
    for a in range(len(ops)):
        for b in range(a + 1, len(ops)):
            (_, ma, sa, da, _), (_, mb, sb, db, _) = ops[a], ops[b]
            if ma == mb and da > 0 and db > 0 and sa < sb + db and sb < sa + da:
                feasible = False
    return Verdict(True, feasible, makespan, declared)


# ---------------------------------------------------------------------------------------------------- generators


def random_jobs(rng: random.Random, max_jobs: int = 5, max_machines: int = 4) -> tuple[list[list[tuple]], int]:
    """Ragged routes (a job may skip or revisit machines), durations 1-20, sometimes 0."""
    m = rng.randint(1, max_machines)
    jobs = []
    for _ in range(rng.randint(1, max_jobs)):
        route = [rng.randrange(m) for _ in range(rng.randint(1, m + 1))]
        jobs.append([(machine, 0 if rng.random() < 0.05 else rng.randint(1, 20)) for machine in route])
    return jobs, max(machine for job in jobs for machine, _ in job) + 1


def feasible_operations(jobs: list[list[tuple]], rng: random.Random) -> list[list[int]]:
    """A feasible schedule as ``[job, machine, start, duration, end]`` rows, jobs dispatched in random order."""
    job_ready, machine_ready, next_op = [0] * len(jobs), {}, [0] * len(jobs)
    pending = [j for j, job in enumerate(jobs) for _ in job]
    rng.shuffle(pending)
    rows = []
    for j in pending:
        machine, duration = jobs[j][next_op[j]]
        start = max(job_ready[j], machine_ready.get(machine, 0)) + (rng.randint(0, 3) if rng.random() < 0.3 else 0)
        rows.append([j, machine, start, duration, start + duration])
        job_ready[j] = machine_ready[machine] = start + duration
        next_op[j] += 1
    rows.sort(key=lambda r: (r[2], r[4], r[0]))
    return rows


SEPARATORS = [", ", ",", "\n", ",\n", "\r\n", ",\r\n", "\n\n", "\n  ", "  \n", " , ", "\t,\t", ",\n\n  ", "\n\t"]
HEADERS = [
    "Solution:\n",
    "Solution:\r\n",
    "solution: ",
    "SOLUTION :\n",
    "",
    "Here is my solution:\nSolution:\n",
    "Sure! Here is an optimal schedule.\n\nSolution:\n",
    "Solution:\n\n  ",
    "The solution: see below.\nSolution:\n",
    "\u017folution:\n",  # a long s: not an ASCII letter, so no header
]
TRAILERS = ["", "<|im_end|>", "\nThis schedule is optimal.", "\n\nIs this solution: correct?", "\n", "  \n\n"]
UNICODE = ["é", "日本", "🚀", "\u00a0", "\u2003", "٣", "ſ", "K", "\u200b", "Ⅻ", "０", "²"]
NON_ASCII_DIGITS = ["٠", "٣", "۵", "०", "০", "０", "９", "𝟘", "᠐", "߁"]  # decimal digits of other scripts
NON_ASCII_SPACES = ["\u00a0", "\u2003", "\u2009", "\u3000", "\u200b", "\ufeff", "\u2060", "\u180e", "\u202f"]
# Lines inserted into answers and instances: junk of every kind, things that look like job headers or operations
# lines, headers, makespan lines, candidate lines, blank lines.
JUNK_LINES = [
    "# job 1 follows",
    "Job 1:",
    "**J1:**",
    "\u00a0J1:",
    "\u200bJ1:",
    "J\u0661:",
    "- J2: M0:1",
    "J 1 :",
    "M\u0663:5",
    "M0:5 M1:3",
    "J1 is the longest job.",
    "Note: see below",
    "",
    "   ",
    "Solution:",
    "Makespan: 5",
    "Maximum end completion time or Makespan: 7",
    "J0:",
    "<|im_end|>",
    "日本語 🚀",
    "Next: s0 d3 J1",
    "Next: J1-M0: 0+3 -> 3",
    "The makespan is 12.",
]
JUNCTION_TEXTS = [
    " ",
    "\t",
    "  ",
    "\n",
    "\r\n",
    "\n\n",
    ",",
    ", ",
    ";",
    "; ",
    ".",
    ".0",
    ".0, ",
    "*",
    "x",
    "#",
    " J5-M9: 1+1 -> 2 ",
    *NON_ASCII_SPACES[:4],
    *NON_ASCII_DIGITS[:4],
]
# What may follow the last operation on its line (issue 20's second reproducer): operations after junk.
TRAILING_OPERATIONS = [
    " J0-M0: 0+99 -> 5 J5-M9: 1+1 -> 2",
    "; J0-M0: 0+99 -> 5",
    ".0, J5-M9: 1+1 -> 2",
    " and J1-M0: 3+1 -> 4",
    "\u00a0J0-M0: 0+1 -> 1",
]
OP_STYLES = ["J{}-M{}: {}+{} -> {}", "J{} - M{} : {} + {} -> {}", "J{}-M{}:{}+{}->{}", "J{}-M{}:\t{}+{} ->  {}"]
ROW_MUTATIONS = (
    "unknown_job unknown_machine wrong_machine wrong_duration wrong_end negative_start precedence machine_overlap "
    "missing_operation duplicate_operation extra_operation makespan_mismatch huge_number long_number negative_number "
    "shuffle"
).split()
TEXT_MUTATIONS = (
    "unicode truncate delete_char insert_whitespace crlf garbage junk_line junction trailing_operations "
    "non_ascii_digit non_ascii_space candidate_lines bad_candidate_line"
).split()
MUTATIONS = (*ROW_MUTATIONS, *TEXT_MUTATIONS)
INSTANCE_MUTATIONS = (
    "insert_whitespace unicode truncate delete_char crlf garbage long again before junk_line junction "
    "non_ascii_digit non_ascii_space bom"
).split()
MAKESPAN_LINES = [
    "Maximum end completion time or Makespan: {}",
    "Makespan: {}",
    "makespan:{}",
    "Makespan: {}.0",
    "MAKESPAN : {}",
]
BAD_CANDIDATE_LINES = [
    "Next: J3-M0: 0+3 -> 3",
    "Next:",
    "Next: s0",
    "Next: s0 J1 J2",
    "Next: s0 J1 |",
    "Next: S0 J1",
    "Next: s0 J\u0661",
    "Next: s0\u00a0J1",
    "Next: s 0 J1",
    "Next: J1 then J2",
    "Next: s1234567890123456 J1",
    "  Next: | J1",
    "Next:J1",
]


def inserted_line(rng: random.Random) -> str:
    """A line to insert anywhere: junk, a well-formed candidate line or a malformed one."""
    return rng.choice([*JUNK_LINES, candidate_line(rng), rng.choice(BAD_CANDIDATE_LINES)])


def candidate_line(rng: random.Random) -> str:
    """A well-formed candidate line: entries of random fields, spaces and tabs of random widths."""
    entries = []
    for _ in range(rng.randint(1, 4)):
        fields = [f"{rng.choice('sdwnqfM')}{'-' if rng.random() < 0.05 else ''}{rng.randint(0, 999)}"]
        fields += [f"{rng.choice('sdwnqf')}{rng.randint(0, 99999)}" for _ in range(rng.randint(0, 3))]
        fields.insert(rng.randint(0, len(fields)), f"J{rng.randint(0, 20)}")
        entries.append(rng.choice([" ", "  ", "\t"]).join(fields))
    separator = rng.choice([" | ", "|", " |\t"])
    return rng.choice(["", " ", "\t"]) + "Next:" + rng.choice([" ", "  ", "\t"]) + separator.join(entries)


def line_boundaries(text: str) -> list[int]:
    """Where a whole line can be inserted: the start, after each line break, and the end."""
    return sorted({0, len(text), *(i + 1 for i, c in enumerate(text) if c == "\n")})


def insert_line(text: str, line: str, at: int) -> str:
    """``text`` with ``line`` inserted as a whole line at the boundary ``at`` (see ``line_boundaries``)."""
    if at == len(text) and text and not text.endswith("\n"):
        return text + "\n" + line
    return text[:at] + line + "\n" + text[at:]


def junctions(text: str) -> list[int]:
    """Where junction text can go: between two characters that are not both letters or both digits (nor inside
    ``->``), so that no word or number is split."""
    out = []
    for i in range(len(text) + 1):
        a, b = text[i - 1 : i], text[i : i + 1]
        if a and b and ((a.isalpha() and b.isalpha()) or (a.isdigit() and b.isdigit()) or a + b == "->"):
            continue
        out.append(i)
    return out


def insert_junction(text: str, junction: str, rng: random.Random) -> str:
    """``junction`` inserted at a random junction of ``text``; a text that starts or ends with a digit gets a space
    between it and a neighbouring digit, so that no number of the text changes."""
    i = rng.choice(junctions(text))
    if junction[:1].isdigit() and text[i - 1 : i].isdigit() or junction[-1:].isdigit() and text[i : i + 1].isdigit():
        junction = f" {junction} "
    return text[:i] + junction + text[i:]


def mutate_rows(rows: list[list[int]], jobs, num_machines: int, kind: str, rng: random.Random) -> None:
    """Apply one row-level mutation in place (the violation kinds, numbers out of range)."""
    if not rows:
        return
    i = rng.randrange(len(rows))
    row = rows[i]
    if kind == "unknown_job":
        row[0] = len(jobs) + rng.randint(0, 3)
    elif kind == "unknown_machine":
        row[1] = num_machines + rng.randint(0, 3)
    elif kind == "wrong_machine" and num_machines > 1:
        row[1] = (row[1] + rng.randint(1, num_machines - 1)) % num_machines
    elif kind == "wrong_duration":
        row[3] += rng.choice([-1, 1, 5])
        row[4] = row[2] + row[3]
    elif kind == "wrong_end":
        row[4] += rng.choice([-1, 1])
    elif kind == "negative_start":
        row[2] = -rng.randint(1, 5)
        row[4] = row[2] + row[3]
    elif kind in ("precedence", "machine_overlap"):
        row[2] = max(0, row[2] - rng.randint(1, 10))
        row[4] = row[2] + row[3]
    elif kind == "missing_operation":
        del rows[i]
    elif kind == "duplicate_operation":
        rows.insert(rng.randrange(len(rows) + 1), list(row))
    elif kind == "extra_operation":
        start = max(r[4] for r in rows)
        rows.append([row[0], rng.randrange(num_machines), start, 3, start + 3])
    elif kind == "huge_number":
        row[rng.randrange(5)] = rng.choice([10**14 + rng.randint(0, 9), 10**15 - 1, 10**15, 10**18 + 7, 10**24])
    elif kind == "long_number":
        row[rng.randrange(2, 5)] = int("9" * rng.randint(15, 30))
    elif kind == "negative_number":
        k = rng.randrange(2, 5)
        row[k] = -row[k] - rng.randint(0, 3)
    elif kind == "shuffle":
        rng.shuffle(rows)


def format_rows(rows: list[list[int]], rng: random.Random) -> str:
    style = rng.choice(OP_STYLES) if rng.random() < 0.3 else OP_STYLES[0]
    separator = rng.choice(SEPARATORS)
    return separator.join(style.format(*row) for row in rows)


def solution_text(rows: list[list[int]], rng: random.Random, declared: int | None, kind: str | None = None) -> str:
    """A solution text for ``rows`` in a random style (header, separators, makespan line, trailer)."""
    body = format_rows(rows, rng)
    makespan = ""
    if declared is not None and rng.random() < 0.85:
        value = declared + (rng.choice([-1, 1, 10]) if kind == "makespan_mismatch" else 0)
        if kind == "long_number" and rng.random() < 0.5:
            value = int("9" * rng.randint(16, 25))
        line = rng.choice(MAKESPAN_LINES)
        makespan = "\n" + line.format(value)
    trailer = rng.choice(TRAILERS) if makespan or rng.random() < 0.3 else ""
    text = rng.choice(HEADERS) + body + makespan + trailer
    return mutate_text(text, kind, rng) if kind in TEXT_MUTATIONS else text


def mutate_text(text: str, kind: str, rng: random.Random) -> str:
    """Apply one text-level mutation of an answer (or of an instance, for the kinds they share)."""
    if not text:
        return text
    i = rng.randrange(len(text) + 1)
    if kind == "unicode":
        return text[:i] + rng.choice(UNICODE) + text[i:]
    if kind == "truncate":
        return text[:i]
    if kind == "delete_char" and i < len(text):
        return text[:i] + text[i + 1 :]
    if kind == "insert_whitespace":
        return text[:i] + rng.choice([" ", "\n", "\t", "\r\n", "\n\n", "  "]) + text[i:]
    if kind == "crlf":
        return text.replace("\n", "\r\n")
    if kind == "garbage":
        noise = "".join(rng.choice("JM0123456789:+->, \n\tSolution") for _ in range(rng.randint(1, 8)))
        return text[:i] + noise + text[i:]
    if kind == "junk_line":
        return insert_line(text, rng.choice(JUNK_LINES), rng.choice(line_boundaries(text)))
    if kind == "junction":
        return insert_junction(text, rng.choice(JUNCTION_TEXTS), rng)
    if kind == "non_ascii_digit":  # next to a number, before or after it
        spots = [k for k in range(len(text) + 1) if text[k - 1 : k].isdigit() or text[k : k + 1].isdigit()]
        k = rng.choice(spots) if spots else i
        return text[:k] + rng.choice(NON_ASCII_DIGITS) + text[k:]
    if kind == "non_ascii_space":
        return insert_junction(text, rng.choice(NON_ASCII_SPACES), rng)
    if kind == "trailing_operations":  # after the last operation, on its line
        ends = [k for k in range(1, len(text) + 1) if text[k - 1].isdigit() and text[k : k + 1] in ("", "\n", "\r")]
        k = ends[-2] if len(ends) > 1 and rng.random() < 0.7 else (ends[-1] if ends else len(text))
        return text[:k] + rng.choice(TRAILING_OPERATIONS) + text[k:]
    if kind == "candidate_lines":
        for _ in range(rng.randint(1, 4)):
            text = insert_line(text, candidate_line(rng), rng.choice(line_boundaries(text)))
        return text
    if kind == "bad_candidate_line":
        return insert_line(text, rng.choice(BAD_CANDIDATE_LINES), rng.choice(line_boundaries(text)))
    return text


def instance_text(jobs: list[list[tuple]], num_machines: int, rng: random.Random) -> str:
    """The instance in a random layout: blank lines, CRLF, indentation, trailing spaces, operations on the header
    line, an instruction sentence and a prompt around it."""
    newline = "\r\n" if rng.random() < 0.2 else "\n"
    parts = []
    for j, job in enumerate(jobs):
        indent = rng.choice(["", "", "  ", "\t"])
        items = rng.choice([" ", "  ", "\t"]).join(f"M{m}:{d}" for m, d in job) + rng.choice([" ", "", "  "])
        between = rng.choice([newline, " "]) if rng.random() < 0.2 else newline
        parts.append(f"{indent}J{j}:{between}{indent}{items}{newline}" + (newline if rng.random() < 0.2 else ""))
    text = "".join(parts)
    if rng.random() < 0.3:
        instruction = (
            f"Optimize schedule for {len(jobs)} Jobs (denoted as J) across {num_machines} Machines (denoted as M) "
            "to minimize makespan."
        )
        text = f"### Instruction:\n{instruction}\n\n### Input:\n{text}\n### Response:\n"
    return text


def mutate_instance_text(text: str, rng: random.Random, kind: str | None = None) -> str:
    """A text-level mutation of an instance (``kind`` one of ``INSTANCE_MUTATIONS``; random when ``None``)."""
    kind = kind or rng.choice(INSTANCE_MUTATIONS)
    if kind == "before":  # a job header line before J0 (an error), or prose that only looks like one (not)
        return rng.choice(["J1:\nM0:1 \n", "  J2 : M1:3\n", "J3 is the longest job.\n", "Jobs: 2\n"]) + text
    if kind == "long":
        return _replace_first_duration(text, "7" * rng.randint(14, 20))
    if kind == "again":  # a second listing after the first: one text holds one instance
        return text + "\nExample:\nJ0:\nM0:1 \n"
    if kind == "bom":
        return "\ufeff" + text
    return mutate_text(text, kind, rng)


def _replace_first_duration(text: str, digits: str) -> str:
    i = text.find("M")
    while i >= 0:
        j = i + 1
        while j < len(text) and text[j].isdigit():
            j += 1
        if j > i + 1 and text.startswith(":", j):
            k = j + 1
            while k < len(text) and text[k].isdigit():
                k += 1
            if k > j + 1:
                return text[: j + 1] + digits + text[k:]
        i = text.find("M", i + 1)
    return text


@dataclass
class FuzzCase:
    """One generated problem and answer: the instance (jobs, machine count, its text) and a solution text, mutated by
    ``kind`` (``None``: as generated)."""

    jobs: list
    num_machines: int
    instance_text: str
    solution: str
    kind: str | None


def fuzz_case(rng: random.Random, mutate_probability: float = 0.7, kinds: tuple[str, ...] = MUTATIONS) -> FuzzCase:
    """A random instance and answer, mutated with ``mutate_probability`` by one of ``kinds``."""
    jobs, num_machines = random_jobs(rng)
    rows = feasible_operations(jobs, rng)
    declared = max(r[4] for r in rows)
    kind = rng.choice(kinds) if rng.random() < mutate_probability else None
    if kind in ROW_MUTATIONS:
        mutate_rows(rows, jobs, num_machines, kind, rng)
    return FuzzCase(
        jobs, num_machines, instance_text(jobs, num_machines, rng), solution_text(rows, rng, declared, kind), kind
    )
