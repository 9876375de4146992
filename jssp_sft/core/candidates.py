"""Candidate lines: the state a scheduler chooses from, written into the answer before each operation.

In the ``candidates`` answer format a Starjob answer holds, before each operation line, one line that lists the jobs
the next operation may come from, each with numbers about its next operation (where it could start, how long it
takes, how much work its job has left, ...); the operation line that follows names the chosen job. A decision then
needs only the line above it, instead of arithmetic over the prompt and every earlier line. The schedule is still
exactly the operation lines: readers, the verifier, the metric and repair recognise a candidate line as its own line
kind and never read it as operations (nor as junk).

Syntax (one line)::

    Next: J3:s0d120w530A|J1:s41d72w610B|J0:s41d15w95C =B

Each entry is its job ``J<int>`` and a colon, then its fields written one after another (a one-letter tag, or ``M``,
followed by an integer; spaces between them are allowed when reading), then its label (``A``, ``B``, ... in list
order; never ``J`` or ``M``). Entries are separated by ``|`` and sorted by earliest start (then job). The line ends
with ``=`` and the label of the chosen entry; the operation line that follows is that entry's job's next operation.
The label comes last in its entry so that a causal model reading it has just read the numbers it stands for. The decision is the label, not the job number: labels are the same few tokens at
every instance size, while a model trained on 4-job instances has never written ``J7`` (measured: a 4x4 model never
chose job 4 or 5 of a 6x6 instance when it had to write the job number). The fields are chosen by
``CandidateFormat.fields`` (see ``FIELDS``); times are relative to the earliest start among the candidates and, with
``scale="lb"``, written in thousandths of the instance's trivial lower bound, so that every number is below 1000 (one
token for tokenizers with whole-number tokens) and reads the same at every instance size and duration range. Plain
Python: no torch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .builder import ScheduleBuilder


CANDIDATES_PREFIX = "Next:"
CANDIDATE_SEPARATOR = "|"
CHOICE_MARK = " ="
# Entry labels in list order (not J or M, which name jobs and machines); past the 24th, two letters (AA, AB, ...).
LABEL_LETTERS = "ABCDEFGHIKLNOPQRSTUVWXYZ"

_INT = r"[0-9]{1,15}(?![0-9])"
_LABEL = r"[A-IK-LN-Z]{1,3}"
_FIELD = rf"(?:[a-z]|M)-?{_INT}"
# An entry: ``J<job>:`` then its fields then its label (canonical), or fields around ``J<job>`` without a label.
_ENTRY = rf"(?:J{_INT}[ \t]*:(?:[ \t]*{_FIELD})*[ \t]*{_LABEL}|(?:{_FIELD}[ \t]*)*J{_INT}(?:[ \t]*{_FIELD})*)"
# A whole candidate line, without its line break (leading and trailing spaces allowed, as on any answer line).
CANDIDATE_LINE_RE = re.compile(
    rf"[ \t]*Next:[ \t]+{_ENTRY}(?:[ \t]*\|[ \t]*{_ENTRY})*(?:[ \t]*=[ \t]*{_LABEL})?[ \t\r]*", re.ASCII
)
_ENTRY_RE = re.compile(rf"[^|=]*?J([0-9]+)[^|=]*?({_LABEL})?[ \t]*(?:\||$)")
# The choice that ends a candidate line: ``=`` and the chosen entry's label (group 1).
CHOICE_LABEL_RE = re.compile(rf"=[ \t]*({_LABEL})[ \t\r]*$")

# Field tag -> what it holds. Times ("s", "d", "w", "q", "f") are scaled by ``CandidateFormat.scale``.
FIELDS = {
    "s": "earliest start under the decoder's placement, minus the smallest earliest start among the candidates",
    "d": "duration of the job's next operation",
    "w": "work left in the job (processing time of its unscheduled operations, this one included)",
    "n": "operations left in the job, this one included",
    "q": "work left on the operation's machine (every job's unscheduled operations there, this one included)",
    "f": "when the operation's machine becomes free (its last end), minus the smallest earliest start; 0 if earlier",
    "M": "the machine of the job's next operation",
}
TIME_FIELDS = frozenset("sdwqf")
SCALES = ("lb", "raw")
# "job": a model cannot score by position and must read the numbers; "start": the first entry is the earliest start
# (ties: most work left), a prior a model may learn to depart from (docs/candidates.md).
ORDERS = ("job", "start")
DEFAULT_ORDER = "job"
DEFAULT_FIELDS = "sdw"
DEFAULT_TOP_K = 4
MAX_SCALED = 999  # "lb" values are clipped here (a start 1.2 lower bounds away still reads as far)


def is_candidate_line(line: str) -> bool:
    """Whether ``line`` (one line, no line break) is a well-formed candidate line."""
    return CANDIDATE_LINE_RE.fullmatch(line) is not None


def label(index: int) -> str:
    """The label of the ``index``-th entry (0-based): ``A``, ``B``, ... ``Z`` (without J and M), then ``AA``, ..."""
    if index < 0:
        raise ValueError(f"entry index must be >= 0, got {index}")
    base = len(LABEL_LETTERS)
    text = LABEL_LETTERS[index % base]
    index //= base
    while index:
        index -= 1
        text = LABEL_LETTERS[index % base] + text
        index //= base
    return text


def candidate_line_jobs(line: str) -> list[int]:
    """The jobs a well-formed candidate line lists, in its order."""
    return [job for _, job in candidate_line_entries(line)]


def candidate_line_choice(line: str) -> int | None:
    """The job a well-formed candidate line chooses (``=<label>``), or ``None`` when it names no choice."""
    entries = candidate_line_entries(line)
    match = CHOICE_LABEL_RE.search(line)
    if match is None:
        return None
    chosen = [job for entry_label, job in entries if entry_label == match.group(1)]
    if not chosen:
        raise ValueError(f"the candidate line chooses {match.group(1)!r}, which no entry has: {line[:60]!r}")
    return chosen[0]


def candidate_line_entries(line: str) -> list[tuple[str | None, int]]:
    """``(label, job)`` of each entry of a well-formed candidate line, in its order (``None`` for an unlabelled one)."""
    if not is_candidate_line(line):
        raise ValueError(f"not a candidate line: {line[:60]!r}")
    body = line.split(":", 1)[1].split("=", 1)[0].rstrip(" \t\r")
    return [(match.group(2), int(match.group(1))) for match in _ENTRY_RE.finditer(body)]


class Candidate(NamedTuple):
    """A job that can go next, with the state of its next operation (raw time units)."""

    job: int
    machine: int
    start: int  # earliest start under the placement rule
    duration: int
    job_work: int  # the job's unscheduled processing time, this operation included
    job_operations: int  # the job's unscheduled operations, this one included
    machine_work: int  # unscheduled processing time on the machine, this operation included
    machine_free: int  # the machine's last end so far

    @property
    def end(self) -> int:
        return self.start + self.duration


def candidates(builder: ScheduleBuilder, rule: str) -> list[Candidate]:
    """Every remaining job's next operation as a ``Candidate``, sorted by earliest start, then job."""
    found = []
    for job in builder.remaining_jobs():
        _, _, machine, duration = builder.next_operation(job)
        found.append(
            Candidate(
                job,
                machine,
                builder.earliest_start(job, rule),
                duration,
                builder.job_work_left(job),
                builder.job_operations_left(job),
                builder.machine_work_left(machine),
                builder.machine_end(machine),
            )
        )
    found.sort(key=lambda c: (c.start, c.job))
    return found


@dataclass(frozen=True)
class CandidateFormat:
    """What a candidate line lists: which fields (tags of ``FIELDS``, in order), how many candidates (the ``top_k``
    with the earliest starts; 0: all), the time scale (``"lb"``: thousandths of the lower bound; ``"raw"``), and the
    order of the entries (``"job"``: by job number; ``"start"``: by earliest start, equal starts by most work left,
    then job: the first entry is what the earliest-start rule with a most-work-remaining tie-break would pick)."""

    fields: str = DEFAULT_FIELDS
    top_k: int = DEFAULT_TOP_K
    scale: str = "lb"
    order: str = DEFAULT_ORDER

    def __post_init__(self):
        unknown = sorted(set(self.fields) - set(FIELDS))
        if unknown or len(set(self.fields)) != len(self.fields):
            raise ValueError(
                f"candidate fields {self.fields!r}: each a distinct tag of {''.join(FIELDS)} ({', '.join(unknown)})"
            )
        if self.top_k < 0:
            raise ValueError(f"candidate top_k must be >= 0 (0: every candidate), got {self.top_k}")
        if self.scale not in SCALES:
            raise ValueError(f"unknown candidate scale {self.scale!r}; choose one of {', '.join(SCALES)}")
        if self.order not in ORDERS:
            raise ValueError(f"unknown candidate order {self.order!r}; choose one of {', '.join(ORDERS)}")

    def listed(self, found: Sequence[Candidate]) -> list[Candidate]:
        """The candidates a line lists (``found`` sorted by earliest start): the first ``top_k``, in ``order``."""
        chosen = list(found[: self.top_k] if self.top_k else found)
        if self.order == "job":
            return sorted(chosen, key=lambda c: c.job)
        return sorted(chosen, key=lambda c: (c.start, -c.job_work, c.job))

    def line(self, listed: Sequence[Candidate], lower_bound: int) -> str:
        """The candidate line of ``listed`` (sorted by earliest start) up to its choice (``choice`` completes it),
        without a line break."""
        if not listed:
            raise ValueError("a candidate line needs at least one candidate")
        origin = min(c.start for c in listed)
        scale = max(1, lower_bound) if self.scale == "lb" else 0
        entries = []
        for index, c in enumerate(listed):
            values = {
                "s": c.start - origin,
                "d": c.duration,
                "w": c.job_work,
                "n": c.job_operations,
                "q": c.machine_work,
                "f": max(0, c.machine_free - origin),
                "M": c.machine,
            }
            parts = [f"J{c.job}:"]
            for tag in self.fields:
                value = values[tag]
                if scale and tag in TIME_FIELDS:
                    value = min(MAX_SCALED, (1000 * value + scale // 2) // scale)
                parts.append(f"{tag}{value}")
            parts.append(label(index))
            entries.append("".join(parts))
        return CANDIDATES_PREFIX + " " + CANDIDATE_SEPARATOR.join(entries)

    @staticmethod
    def choice(index: int) -> str:
        """What ends a candidate line that chooses its ``index``-th entry: `` =`` and the entry's label."""
        return CHOICE_MARK + label(index)
