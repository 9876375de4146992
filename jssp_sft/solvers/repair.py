"""Repair: turn any model output (infeasible, truncated, garbled) into a feasible schedule that keeps what it can.

The output's operations are read in text order as a sequence of job choices (``J3-M..`` means "job 3's next
operation"): by the codec's rule when the output reads (its operations, nothing else), else leniently in the region the
codec's rule gives them (from the first operation to the makespan line, candidate lines skipped, ASCII digits); choices
of unknown jobs or of jobs already complete are dropped; the operations still missing are
scheduled by a named dispatching rule (``jssp_sft.solvers.dispatching``, MWKR by default); every operation is placed by a
``ScheduleBuilder``, so the result is feasible by construction. A feasible output written in start order (as Starjob
outputs are) comes back with a makespan no larger than its own. Plain Python: no torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.builder import ScheduleBuilder
from ..core.codec import operations_region, scan_solution
from ..core.instance import Instance
from ..core.schedule import Schedule
from .dispatching import PLACEMENTS, dispatch


DEFAULT_RULE = "MWKR"
DEFAULT_PLACEMENT = "insert"

# "J<job>-" opens an operation (optional spaces, as models write them); the machine and times are not trusted.
_JOB_CHOICE_RE = re.compile(r"J[ \t]*([0-9]{1,9})[ \t]*-")


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
    """The job of every operation written in ``output_text``, in text order: the codec's operations when the text
    reads, else every ``J<job>-`` in the region where the codec's rule puts operations."""
    if not isinstance(output_text, str):
        return []
    try:
        return scan_solution(output_text).entries[:, 0].tolist()
    except ValueError:
        text, start, end = operations_region(output_text)
        return [int(number) for number in _JOB_CHOICE_RE.findall(text, start, end)]


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
