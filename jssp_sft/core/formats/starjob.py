"""The Starjob ``input`` field as a file: ``J{j}:`` lines, each followed by the job's ``M{machine}:{duration}`` list.

    J0:
    M2:7 M0:12 M1:5
    J1:
    M0:9 M2:4 M1:11

The Starjob instruction sentence may come first (``Optimize schedule for 2 Jobs ... across 3 Machines ...``); it then
fixes M and the number of jobs, otherwise M is the largest machine id plus one. Read by ``codec.parse_instance``, the
one Starjob instance reader: its rule (docs/verification.md) holds for a file as for a prompt.
"""

from __future__ import annotations

from ..codec import format_instance, parse_instance
from ..instance import Instance, InstanceFormatError


NAME = "starjob"


def read(text: str, source: str) -> Instance:
    try:
        return parse_instance(text)
    except InstanceFormatError as err:
        raise InstanceFormatError(source, err.line, err.field, err.problem) from None


def write(instance: Instance) -> str:
    return format_instance(instance)
