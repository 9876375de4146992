"""Instance files in the formats people have, read with errors that name the file, line and field, and written back.

``read_instance(text)`` detects the format (or takes ``format=``); ``read_instance_file(path)`` reads a file (``-``:
standard input) and names the instance after it; ``write_instance(instance, format)`` writes any format that can
hold the instance. Round trips are exact: ``read_instance(write_instance(x, f), f) == x``.

========== ===========================================================================================
starjob    the Starjob ``input`` field: ``J0:`` then ``M2:7 M0:12 M1:5`` (optional instruction sentence first)
standard   OR-Library / JSPLIB: ``N M``, then per job ``machine duration`` pairs (comment/title lines allowed)
taillard   ``N M``, N lines of times, N lines of machines numbered from 1 (Taillard's labels allowed)
matrix     the Starjob ``matrix`` field: the standard lines, then optionally the makespan and machine orders
json       ``{"jobs": [[{"machine": 0, "duration": 3}, ...], ...]}`` or the bare ``[[[0, 3], ...], ...]``
csv        header ``job,operation,machine,duration``, one operation a row
========== ===========================================================================================

A job need not visit every machine in starjob, json and csv; standard and Taillard give each job M operations, and
the matrix format at most M. Where the format does not state M (starjob without an instruction, bare json, csv),
M is the largest machine id plus one. Every reader takes ASCII digits only (at most ``MAX_DIGITS``), ASCII whitespace
and a byte-order mark at the start; an instance whose durations add up to more than ``MAX_VALUE`` is refused.

Schedules (``schedules``): ``schedule_to_dict`` (the JSON of ``jssp-sft solve --output x.json``),
``write_schedule(instance, schedule, "json" | "starjob" | "csv")``, and ``read_solution`` / ``read_solution_file``,
which read each of them back for the verifier.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ..instance import Instance
from . import csv_format, json_format, matrix, standard, starjob, taillard
from .base import InstanceFormatError, is_header, read_text, text_lines
from .schedules import (
    SCHEDULE_FORMATS,
    detect_schedule_format,
    read_solution,
    read_solution_file,
    schedule_format_for,
    schedule_to_csv,
    schedule_to_dict,
    schedule_to_json,
    schedule_to_starjob,
    write_schedule,
)


FORMATS = ("starjob", "standard", "taillard", "matrix", "json", "csv")
# File suffixes that name a format outright; any other file is recognized by its content.
SUFFIX_FORMATS = {".json": "json", ".csv": "csv"}
_STARJOB_RE = re.compile(r"^[ \t]*J0[ \t]*:", re.MULTILINE)
# A job header or operations item, however broken ('J1:' first, 'J\u0661:', 'M0:5'): the Starjob reader explains it.
_STARJOB_LIKE_RE = re.compile(r"^[^\S\n]*J[^\s:]{0,20}[ \t]*:|M[0-9]+[ \t]*:", re.MULTILINE)
_COUNT_RE = re.compile(r"[0-9]{1,9}")

__all__ = [
    "FORMATS",
    "SCHEDULE_FORMATS",
    "InstanceFormatError",
    "detect_format",
    "detect_schedule_format",
    "read_instance",
    "read_instance_file",
    "read_solution",
    "read_solution_file",
    "schedule_format_for",
    "schedule_to_csv",
    "schedule_to_dict",
    "schedule_to_json",
    "schedule_to_starjob",
    "write_instance",
    "write_schedule",
]


def detect_format(text: str, source: str = "<text>") -> str:
    """The format of an instance text, from its content; ``InstanceFormatError`` when no format fits.

    JSON starts with ``{`` or ``[``; a ``J0:`` line means starjob; a first line with a ``job`` cell (comma, semicolon or tab
    separated) means csv. Numbers only: Taillard's when a table label is present, the size line has Taillard's six
    numbers, or the first job line has M numbers; matrix when a single number (the makespan) follows the N job lines;
    otherwise Taillard's when the first job line's count is nearer M than 2M (a line with a number too many or too
    few is reported by the reader it was meant for), standard else.
    """
    text = text.removeprefix("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        raise InstanceFormatError(source, None, None, "empty: no instance")
    if stripped[0] in "{[":
        return "json"
    if _STARJOB_RE.search(text) or _STARJOB_LIKE_RE.search(text) or stripped.startswith("Optimize schedule for"):
        return "starjob"
    lines = text_lines(text)
    first = lines[0].text.lower()
    if any("job" in (cell.strip() for cell in first.split(d)) for d in ",;\t"):
        return "csv"
    data = [line for line in lines if not is_header(line)]
    if any(line.text.lower() in taillard.LABELS for line in lines) or (data and len(data[0].tokens) == 6):
        return "taillard"
    if not data or len(data[0].tokens) != 2:
        raise InstanceFormatError(
            source,
            (data or lines)[0].number,
            None,
            f"cannot tell the format (expected a size line 'jobs machines' first); pass one of {', '.join(FORMATS)}",
        )
    num_jobs, num_machines = (int(token) if _COUNT_RE.fullmatch(token) else None for token in data[0].tokens)
    if len(data) > 1 and num_machines is not None and len(data[1].tokens) == num_machines:
        return "taillard"
    if num_jobs is not None and len(data) > 1 + num_jobs and len(data[1 + num_jobs].tokens) == 1:
        return "matrix"
    if len(data) > 1 and num_machines is not None and 2 * len(data[1].tokens) < 3 * num_machines:
        return "taillard"
    return "standard"


def read_instance(text: str, format: str | None = None, source: str = "<text>") -> Instance:
    """Read an instance from ``text`` in ``format`` (one of ``FORMATS``; detected when ``None``).

    Raises ``InstanceFormatError`` (a ``ValueError``) naming ``source``, the 1-based line and the field.
    """
    if not isinstance(text, str):
        raise TypeError(f"read_instance expects the text, got {type(text).__name__} (use read_instance_file)")
    if format is None:
        format = detect_format(text, source)
    elif format not in FORMATS:
        raise ValueError(f"unknown instance format {format!r}; choose one of {', '.join(FORMATS)}")
    try:
        if format in ("json", "csv", "starjob"):
            return {"json": json_format, "csv": csv_format, "starjob": starjob}[format].read(text, source)
        lines = text_lines(text)
        if not lines:
            raise InstanceFormatError(source, None, None, "empty: no instance")
        return {"standard": standard, "taillard": taillard, "matrix": matrix}[format].read(lines, source)
    except InstanceFormatError:
        raise
    except ValueError as err:  # the Instance's own checks (e.g. durations adding up to more than MAX_VALUE)
        raise InstanceFormatError(source, None, None, str(err)) from None


def read_instance_file(path: str | Path, format: str | None = None) -> Instance:
    """Read an instance file (``-`` reads standard input), named after the file's stem unless it names itself.

    The format is ``format``, else the one a ``.json``/``.csv`` suffix names, else detected from the content.
    """
    text, source = read_text(path)
    name = None if source == "<stdin>" else Path(path).stem
    if format is None and name is not None:
        format = SUFFIX_FORMATS.get(Path(path).suffix.lower())
    instance = read_instance(text, format, source)
    if instance.name is None and name is not None:
        instance = dataclasses.replace(instance, name=name)
    return instance


def write_instance(instance: Instance, format: str) -> str:
    """``instance`` as text in ``format``; ``ValueError`` when the format cannot hold it (e.g. a short job in
    Taillard's format)."""
    writers = {
        "starjob": starjob.write,
        "standard": standard.write,
        "taillard": taillard.write,
        "matrix": matrix.write,
        "json": json_format.write,
        "csv": csv_format.write,
    }
    if format not in writers:
        raise ValueError(f"unknown instance format {format!r}; choose one of {', '.join(FORMATS)}")
    return writers[format](instance)
