"""Answer formats: how a schedule is written as the text a model learns to produce.

- ``starjob``: the Starjob ``output`` field (``Solution:``, the operations in start order, the makespan line).
- ``candidates``: the same operations one per line, each after the candidate line of the decision that chose it
  (``jssp_sft.core.candidates``), then the makespan line. Written by replaying the schedule as decisions: its
  operations in start order, each placed by the decoder's placement rule, so that the candidate lines show exactly
  what guaranteed decoding shows the model at the same point.

Plain Python: no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .builder import ScheduleBuilder
from .candidates import CandidateFormat, candidates
from .codec import MAKESPAN_PREFIX, SOLUTION_HEADER, format_operation
from .instance import Instance
from .schedule import Schedule


ANSWER_FORMATS = ("starjob", "candidates")


def job_sequence(schedule: Schedule) -> list[int]:
    """The jobs of ``schedule``'s operations sorted by start (ties: lower job first): the decisions that rebuild it."""
    return [op.job for op in sorted(schedule.operations, key=lambda op: (op.start, op.job, op.op_index))]


@dataclass(frozen=True)
class CandidatesAnswer:
    """A candidates-format answer: its text, the schedule its decisions build, and how many decisions chose a job
    the candidate line did not list (``top_k`` too small for the label)."""

    text: str
    schedule: Schedule
    unlisted: int


def write_candidates_answer(
    instance: Instance, jobs: Sequence[int], fmt: CandidateFormat, rule: str
) -> CandidatesAnswer:
    """The candidates-format answer that schedules ``jobs`` in order, each operation placed by ``rule``."""
    if len(jobs) != instance.num_operations:
        raise ValueError(f"{len(jobs)} decisions for an instance of {instance.num_operations} operations")
    builder = ScheduleBuilder(instance)
    lower_bound = instance.lower_bound()
    lines = [SOLUTION_HEADER]
    unlisted = 0
    for job in jobs:
        listed = fmt.listed(candidates(builder, rule))
        if all(c.job != job for c in listed):
            unlisted += 1
        lines.append(fmt.line(listed, lower_bound))
        lines.append(format_operation(builder.append(job, rule)))
    lines.append(f"{MAKESPAN_PREFIX}{builder.makespan}")
    return CandidatesAnswer("\n".join(lines), builder.to_schedule(), unlisted)
