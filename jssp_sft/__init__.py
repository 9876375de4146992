"""jssp-sft: teach language models to solve the Job Shop Scheduling Problem with TRL.

The top level holds the domain core (instances, schedules, the Starjob codec, the verifier): plain Python and numpy,
importable without torch. Training, data and generation live in their own modules (``jssp_sft.sft``, ...).
"""

from .core.codec import (
    format_instance,
    format_instruction,
    format_matrix,
    format_solution,
    parse_instance,
    parse_instruction,
    parse_matrix,
    parse_solution,
    to_record,
)
from .core.instance import Instance
from .core.schedule import Operation, Schedule
from .core.scoring import score_predictions
from .core.verifier import Report, Violation, verify


__version__ = "0.1.0.dev0"

__all__ = [
    "Instance",
    "Operation",
    "Report",
    "Schedule",
    "Violation",
    "format_instance",
    "format_instruction",
    "format_matrix",
    "format_solution",
    "parse_instance",
    "parse_instruction",
    "parse_matrix",
    "parse_solution",
    "score_predictions",
    "to_record",
    "verify",
]
