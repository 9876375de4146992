"""A deliberately simple reference reader and checker of Starjob texts, and random generators of instances, solutions
and their mutations, for the property tests (tests/test_fuzz_verifier.py) and the fuzz counts (bench/fuzz.py).

The reference reads characters one at a time (no regular expressions for operations or jobs) and checks feasibility
by brute force (every pair of operations), so that it shares no code and no technique with ``jssp_sft.core``. It
follows the grammar the codec documents:

- a solution's operations start after the last ``Solution:`` header (ASCII letters, any case) that an operation
  follows, else at the first operation in the text; with neither, a header followed by a makespan line or nothing is
  an empty schedule; an operation is ``J<j>-M<m>:<start>+<duration>-><end>`` with spaces or tabs around the symbols,
  start/duration/end optionally negative; operations are separated by a comma or a line break (any whitespace
  around); a list that goes on after a separator with something that is not an operation is an error when the
  separator had a comma or the thing starts like an operation ('J', blanks, a digit); the declared makespan is the
  first ``Makespan: <number>`` after the list;
- an instance is read from the first line ``J0:`` on (a job header line before it is an error): headers ``J<k>:``
  and items ``M<m>:<d>``, any ASCII whitespace between them, the listing ending at the end of a line;
- every number has 1 to ``MAX_DIGITS`` ASCII digits; more is an error.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass


MAX_DIGITS = 15
BLANKS = " \t\r\n"
SPACES = " \t"


class Unreadable(Exception):
    """The reference could not read the text (the codec must raise ``ValueError`` too)."""


# ----------------------------------------------------------------------------------------------- small scanners


def _skip(text: str, i: int, chars: str) -> int:
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def _digits(text: str, i: int, limit: int | None = MAX_DIGITS) -> tuple[int, int] | None:
    """``(value, end)`` of the ASCII digits at ``i``; ``None`` when there are none or more than ``limit``."""
    j = i
    while j < len(text) and "0" <= text[j] <= "9":
        j += 1
    if j == i or (limit is not None and j - i > limit):
        return None
    return int(text[i:j]), j


def _signed(text: str, i: int, limit: int | None) -> tuple[int, int] | None:
    if i < len(text) and text[i] == "-":
        got = _digits(text, i + 1, limit)
        return None if got is None else (-got[0], got[1])
    return _digits(text, i, limit)


def _literal(text: str, i: int, word: str) -> int | None:
    return i + len(word) if text.startswith(word, i) else None


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def operation_at(text: str, i: int, limit: int | None = MAX_DIGITS) -> tuple[tuple[int, ...], int] | None:
    """The operation written at ``i`` and where it ends, or ``None``."""
    values = []
    pos: int | None = i
    for kind, symbol in (("J", None), ("int", "-"), ("M", None), ("int", ":"), ("signed", "+"), ("signed", "->")):
        if kind in ("J", "M"):
            pos = _literal(text, pos, kind)
            if pos is None:
                return None
            pos = _skip(text, pos, SPACES)
            continue
        got = (_digits if kind == "int" else _signed)(text, pos, limit)
        if got is None:
            return None
        values.append(got[0])
        pos = _skip(text, got[1], SPACES)
        pos = _literal(text, pos, symbol)
        if pos is None:
            return None
        pos = _skip(text, pos, SPACES)
    got = _signed(text, pos, limit)
    if got is None:
        return None
    values.append(got[0])
    return tuple(values), got[1]


def _starts_like_operation(text: str, i: int) -> bool:
    if not text.startswith("J", i):
        return False
    j = _skip(text, i + 1, SPACES)
    return j < len(text) and "0" <= text[j] <= "9"


def _separator(text: str, i: int) -> tuple[int, bool] | None:
    """``(end, has_comma)`` of an operation separator at ``i``, or ``None``."""
    j = _skip(text, i, BLANKS)
    if j < len(text) and text[j] == ",":
        return _skip(text, j + 1, BLANKS), True
    if "\n" in text[i:j]:
        return j, False
    return None


def _header_ends(text: str) -> list[int]:
    lowered = _ascii_lower(text)
    ends, i = [], lowered.find("solution")
    while i >= 0:
        j = _skip(text, i + len("solution"), SPACES)
        if j < len(text) and text[j] == ":":
            ends.append(j + 1)
        i = lowered.find("solution", i + 1)
    return ends


def _declared_makespan(text: str, i: int) -> int | float | None:
    lowered = _ascii_lower(text)
    k = lowered.find("makespan", i)
    while k >= 0:
        j = _skip(text, k + len("makespan"), SPACES)
        if j < len(text) and text[j] == ":":
            j = _skip(text, j + 1, SPACES)
            got = _signed(text, j, None)
            if got is not None:
                integral = text[j : got[1]].lstrip("-")
                if len(integral) > MAX_DIGITS:
                    raise Unreadable("declared makespan too long")
                end = got[1]
                if end + 1 < len(text) and text[end] == "." and "0" <= text[end + 1] <= "9":
                    fraction = _digits(text, end + 1, None)
                    value = float(text[j : fraction[1]])
                    return int(value) if value.is_integer() else value
                return got[0]
        k = lowered.find("makespan", k + 1)
    return None


# ------------------------------------------------------------------------------------------------ reference reader


def read_solution(text: str) -> tuple[list[tuple[int, ...]], int | float | None]:
    """``(operations in text order, declared makespan)``; ``Unreadable`` when there is no solution to read."""
    start = None
    headers = _header_ends(text)
    for end in headers:
        after = _skip(text, end, BLANKS)
        if operation_at(text, after, limit=None) is not None:
            start = after
    if start is None:
        start = next((i for i in range(len(text)) if operation_at(text, i, limit=None) is not None), None)
    if start is None:
        if not headers:
            raise Unreadable("no operations")
        after = _skip(text, headers[-1], BLANKS)
        lowered = _ascii_lower(text[after:])
        if after == len(text) or lowered.startswith(("makespan", "maximum end completion time or makespan")):
            return [], _declared_makespan(text, after)
        raise Unreadable("a header with no operation after it")
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
    return ops, _declared_makespan(text, end)


def _line_end_follows(text: str, i: int) -> bool:
    j = _skip(text, i, " \t\r")
    return j == len(text) or text[j] == "\n"


def _job_header_at(text: str, i: int, limit: int | None = MAX_DIGITS) -> tuple[int, int] | None:
    if not text.startswith("J", i):
        return None
    got = _digits(text, i + 1, limit)
    if got is None:
        return None
    j = _skip(text, got[1], SPACES)
    return (got[0], j + 1) if j < len(text) and text[j] == ":" else None


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


def read_instance(text: str) -> tuple[list[list[tuple[int, int]]], int]:
    """``(jobs, num_machines)``; ``Unreadable`` when the text holds no well-formed instance."""
    start = None
    for line_start in [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]:
        i = _skip(text, line_start, SPACES)
        header = _job_header_at(text, i)
        if header is not None and header[0] == 0 and _digits(text, i + 1) == (0, i + 2):
            start = i
            break
    if start is None:
        raise Unreadable("no J0 line")
    for line_start in [0] + [i + 1 for i, c in enumerate(text[:start]) if c == "\n"]:
        at = _skip(text, line_start, SPACES)
        if at < start and _job_header_at(text, at, limit=None) is not None:
            raise Unreadable("a job header line before J0")
    jobs: list[list[tuple[int, int]]] = []
    pos = start
    end = None  # where the listing ended, when it ended by itself (not at a second listing)
    while True:
        at = start if not jobs else _skip(text, pos, BLANKS)
        header = _job_header_at(text, at)
        if header is None:
            end = pos
            break
        if header[0] < len(jobs) and _item_at(text, _skip(text, header[1], BLANKS)) is not None:
            break  # a second listing: the first one is the instance
        if header[0] < len(jobs):  # not a listing of operations: the instance ended before it
            end = pos
            break
        if header[0] > len(jobs):
            raise Unreadable("jobs out of order")
        items, q = [], header[1]
        while True:
            item = _item_at(text, _skip(text, q, BLANKS))
            if item is None:
                break
            items.append(item[0])
            q = item[1]
        if not items:
            if not jobs:
                raise Unreadable("job 0 has no operations")
            end = pos
            break
        jobs.append(items)
        pos = q
    if end is not None:
        if not _line_end_follows(text, end):
            raise Unreadable("something else after operations on their line")
        after = _skip(text, end, BLANKS)
        header = _job_header_at(text, after, limit=None)
        if header is not None and header[0] >= len(jobs):
            raise Unreadable("a job header without operations or out of order")
        if text.startswith("M", after) and _skip(text, after + 1, SPACES) < len(text):
            if "0" <= text[_skip(text, after + 1, SPACES)] <= "9":
                raise Unreadable("a malformed operation")
    declared = re.search(
        r"Optimize schedule for ([0-9]{1,9}) Jobs \(denoted as J\) across ([0-9]{1,9}) Machines", text
    )
    if declared is not None and int(declared.group(1)) != len(jobs):
        raise Unreadable("the instruction counts other jobs")
    largest = max(m for job in jobs for m, _ in job)
    num_machines = int(declared.group(2)) if declared is not None else largest + 1
    if largest >= num_machines:
        raise Unreadable("a machine beyond the instruction's count")
    return jobs, num_machines


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
UNICODE = ["é", "日本", "🚀", "\u00a0", "\u2003", "٣", "ſ", "K", "\u200b", "Ⅻ"]
OP_STYLES = ["J{}-M{}: {}+{} -> {}", "J{} - M{} : {} + {} -> {}", "J{}-M{}:{}+{}->{}", "J{}-M{}:\t{}+{} ->  {}"]
MUTATIONS = (
    "unknown_job unknown_machine wrong_machine wrong_duration wrong_end negative_start precedence machine_overlap "
    "missing_operation duplicate_operation extra_operation makespan_mismatch huge_number long_number negative_number "
    "shuffle unicode truncate delete_char insert_whitespace crlf garbage"
).split()
MAKESPAN_LINES = [
    "Maximum end completion time or Makespan: {}",
    "Makespan: {}",
    "makespan:{}",
    "Makespan: {}.0",
    "MAKESPAN : {}",
]


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
    text = rng.choice(HEADERS) + body + makespan + rng.choice(TRAILERS)
    return mutate_text(text, kind, rng) if kind else text


def mutate_text(text: str, kind: str, rng: random.Random) -> str:
    """Apply one text-level mutation (unicode, truncation, whitespace, CRLF, garbage)."""
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


def mutate_instance_text(text: str, rng: random.Random) -> str:
    """A text-level mutation of an instance (whitespace, unicode, truncation, long numbers, a second listing)."""
    kinds = ["insert_whitespace", "unicode", "truncate", "delete_char", "crlf", "garbage", "long", "again", "before"]
    kind = rng.choice(kinds)
    if kind == "before":  # a job header line before J0 (an error), or prose that only looks like one (not)
        return rng.choice(["J1:\nM0:1 \n", "  J2 : M1:3\n", "J3 is the longest job.\n", "Jobs: 2\n"]) + text
    if kind == "long":
        return re.sub(r"M(\d+):(\d+)", lambda m: f"M{m.group(1)}:{'7' * rng.randint(14, 20)}", text, count=1)
    if kind == "again":
        return text + "\nExample:\nJ0:\nM0:1 \n"
    return mutate_text(text, kind, rng)


@dataclass
class FuzzCase:
    """One generated problem and answer: the instance (jobs, machine count, its text) and a solution text, mutated by
    ``kind`` (``None``: as generated)."""

    jobs: list
    num_machines: int
    instance_text: str
    solution: str
    kind: str | None


def fuzz_case(rng: random.Random, mutate_probability: float = 0.7) -> FuzzCase:
    jobs, num_machines = random_jobs(rng)
    rows = feasible_operations(jobs, rng)
    declared = max(r[4] for r in rows)
    kind = rng.choice(MUTATIONS) if rng.random() < mutate_probability else None
    if kind is not None:
        mutate_rows(rows, jobs, num_machines, kind, rng)
    return FuzzCase(
        jobs, num_machines, instance_text(jobs, num_machines, rng), solution_text(rows, rng, declared, kind), kind
    )
