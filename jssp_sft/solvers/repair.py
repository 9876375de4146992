"""Repair: turn any model output (infeasible, truncated, garbled) into a feasible schedule that keeps what it can.

The output's operations are read leniently in text order as a sequence of job choices (``J3-M..`` means "job 3's next
operation"); choices of unknown jobs or of jobs already complete are dropped; the operations still missing are
scheduled by a named dispatching rule (``jssp_sft.solvers.dispatching``, MWKR by default); every operation is placed by a
``ScheduleBuilder``, so the result is feasible by construction. A feasible output written in start order (as Starjob
outputs are) comes back with a makespan no larger than its own. Plain Python: no torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.builder import ScheduleBuilder
from ..core.codec import SOLUTION_HEADER_RE
from ..core.instance import Instance
from ..core.schedule import Schedule
from .dispatching import PLACEMENTS, dispatch


DEFAULT_RULE = "MWKR"
DEFAULT_PLACEMENT = "insert"

# "J<job>-" opens an operation (optional spaces, as models write them); the machine and times are not trusted.
_JOB_CHOICE_RE = re.compile(r"J[ \t]*(\d{1,9})[ \t]*-")


@dataclass(frozen=True)
class Repair:
    """A repaired schedule and what became of the output: choices kept, choices dropped, operations added by the rule."""

    schedule: Schedule
    kept: int
    dropped: int
    added: int

    @property
    def changed(self) -> bool:
        """Whether anything had to be dropped or added (False: every operation came from the output, in its order)."""
        return self.dropped > 0 or self.added > 0


def job_choices(output_text: str) -> list[int]:
    """The job of every operation written in ``output_text``, in text order (from ``Solution:`` on when present)."""
    if not isinstance(output_text, str):
        return []
    # The codec's rule: operations follow the last "Solution:" header that one follows (a preamble may say it too).
    start = 0
    for header in SOLUTION_HEADER_RE.finditer(output_text):
        if _JOB_CHOICE_RE.match(output_text, len(output_text) - len(output_text[header.end() :].lstrip())):
            start = header.end()
    return [int(number) for number in _JOB_CHOICE_RE.findall(output_text, start)]


def repair_details(
    instance: Instance, output_text: str, rule: str = DEFAULT_RULE, placement: str = DEFAULT_PLACEMENT
) -> Repair:
    """``repair`` with its bookkeeping: how many of the output's choices were kept and dropped, how many were added."""
    if placement not in PLACEMENTS:
        raise ValueError(f"unknown placement {placement!r}; choose one of {', '.join(PLACEMENTS)}")
    builder = ScheduleBuilder(instance)
    kept = dropped = 0
    for job in job_choices(output_text):
        if job < instance.num_jobs and builder.next_operation(job) is not None:
            builder.append(job, placement)
            kept += 1
        else:
            dropped += 1
    added = instance.num_operations - kept
    schedule = dispatch(instance, rule, placement=placement, builder=builder) if added else builder.to_schedule()
    return Repair(schedule, kept, dropped, added)


def repair(
    instance: Instance, output_text: str, rule: str = DEFAULT_RULE, placement: str = DEFAULT_PLACEMENT
) -> Schedule:
    """A feasible schedule of ``instance`` from any model output, declaring its makespan; never raises on the text.

    Keeps the order of the output's job choices, drops those naming unknown or finished jobs, and completes the
    schedule with the dispatching rule ``rule`` (SPT, MWKR, MOPNR, FDD/MWKR; see ``jssp_sft.solvers.dispatching``).
    ``placement`` is where each operation goes: ``"insert"`` (default: the earliest idle gap on its machine where it
    fits, after its job's previous operation) or ``"append"`` (after its machine's last operation).
    """
    return repair_details(instance, output_text, rule, placement).schedule
