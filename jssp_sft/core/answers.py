"""Answer formats: how a schedule is written as the text a model learns to produce.

- ``starjob``: the Starjob ``output`` field (``Solution:``, the operations in start order, the makespan line).
- ``candidates``: the same operations one per line, each after the candidate line of the decision that chose it
  (``jssp_sft.core.candidates``: the options with their numbers, and the label of the one chosen), then the makespan
  line. Written by replaying the schedule as decisions: its
  operations in start order, each placed by the decoder's placement rule, so that the candidate lines show exactly
  what guaranteed decoding shows the model at the same point.

Plain Python: no torch.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .builder import ScheduleBuilder
from .candidates import CHOICE_LABEL_RE, CandidateFormat, candidates, is_candidate_line
from .codec import MAKESPAN_PREFIX, SOLUTION_HEADER, format_operation
from .instance import Instance
from .schedule import Schedule


ANSWER_FORMATS = ("starjob", "candidates")
# How a candidates answer orders the label's operations that start together (any order rebuilds the schedule):
# ``shuffle`` a shuffle seeded by the record, ``listed`` each time the one its candidate line lists first.
TIE_ORDERS = ("shuffle", "listed")

# The job number of an operation (``J2-M3: ...``); a candidate line's ``J2`` lists an option and is never matched.
_OPERATION_JOB_RE = re.compile(r"J([0-9]+)[ \t]*-")


def job_sequence(schedule: Schedule, tie_seed: int | None = None) -> list[int]:
    """The jobs of ``schedule``'s operations sorted by start: the decisions that rebuild it.

    Operations that start together (on different machines and jobs) may go in any order and rebuild the same
    schedule. By default the lower job goes first; with ``tie_seed`` their order is a seeded shuffle, so that a model
    imitating the decisions learns which jobs the schedule starts now, not "the first one listed" (candidate lines
    list ties by job too).
    """
    if tie_seed is None:
        return [op.job for op in sorted(schedule.operations, key=lambda op: (op.start, op.job, op.op_index))]
    rng = random.Random(tie_seed)
    keys = {op: rng.random() for op in schedule.operations}
    return [op.job for op in sorted(schedule.operations, key=lambda op: (op.start, keys[op]))]


def job_groups(schedule: Schedule) -> list[tuple[int, ...]]:
    """The jobs of ``schedule``'s operations grouped by start time, groups in start order: each group's operations
    may go in any order and rebuild the same schedule (``write_candidates_answer`` takes a group in the order its
    candidate lines list them)."""
    groups: dict[int, list[int]] = {}
    for op in sorted(schedule.operations, key=lambda op: (op.start, op.job)):
        groups.setdefault(op.start, []).append(op.job)
    return [tuple(jobs) for jobs in groups.values()]


@dataclass(frozen=True)
class CandidatesAnswer:
    """A candidates-format answer: its text, the schedule its decisions build, and how many decisions chose a job
    outside the ``top_k`` earliest starts (their line lists that job too, after the ``top_k``)."""

    text: str
    schedule: Schedule
    unlisted: int


def write_candidates_answer(
    instance: Instance, jobs: Sequence[int | tuple[int, ...]], fmt: CandidateFormat, rule: str
) -> CandidatesAnswer:
    """The candidates-format answer that schedules ``jobs`` in order, each operation placed by ``rule``: per
    operation its candidate line (ending with the chosen entry's label) and its operation line. An item of ``jobs``
    may be a group of jobs (``job_groups``) taken one per decision, each time the one its line lists first."""
    decisions = sum(len(item) if isinstance(item, tuple) else 1 for item in jobs)
    if decisions != instance.num_operations:
        raise ValueError(f"{decisions} decisions for an instance of {instance.num_operations} operations")
    builder = ScheduleBuilder(instance)
    lower_bound = instance.lower_bound()
    lines = [SOLUTION_HEADER]
    unlisted = 0
    for item in jobs:
        group = list(item) if isinstance(item, tuple) else [item]
        while group:
            found = candidates(builder, rule)
            listed = fmt.listed(found)
            job = group[0]
            if len(group) > 1:  # the first of the group in the line's order, else the earliest-starting unlisted one
                job = next((c.job for c in listed if c.job in group), None)
                job = next(c.job for c in found if c.job in group) if job is None else job
            group.remove(job)
            position = next((i for i, c in enumerate(listed) if c.job == job), None)
            if position is None:  # a later start than the top_k: listed after them (rare; see ``unlisted``)
                chosen = next((c for c in found if c.job == job), None)
                if chosen is None:
                    raise ValueError(f"decision {len(lines) // 2}: job {job} has no operation left")
                unlisted += 1
                listed, position = [*listed, chosen], len(listed)
            lines.append(fmt.line(listed, lower_bound) + fmt.choice(position))
            lines.append(format_operation(builder.append(job, rule)))
    lines.append(f"{MAKESPAN_PREFIX}{builder.makespan}")
    return CandidatesAnswer("\n".join(lines), builder.to_schedule(), unlisted)


def decision_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The character spans of ``text[start:end]`` that hold decisions: the label after a candidate line's ``=`` (the
    operation line after it follows from it), and the job number of every other operation (``J2-M3: ...``)."""
    end = len(text) if end is None else end
    spans = []
    chosen = False  # the previous line was a candidate line that chose: this operation is its consequence
    position = start
    for line in text[start:end].split("\n"):
        if is_candidate_line(line):
            match = CHOICE_LABEL_RE.search(line)
            if match is not None:
                spans.append((position + match.start(1), position + match.end(1)))
                chosen = True
        elif line.strip():
            if not chosen:
                spans.extend((position + m.start(1), position + m.end(1)) for m in _OPERATION_JOB_RE.finditer(line))
            chosen = False
        position += len(line) + 1
    return spans
