"""What every instance reader shares: the error it raises, numbered lines, number and machine checks, headers.

Whitespace is ASCII whitespace and numbers are ASCII digits (``codec.number_problem``), as in every reader of the
package: a no-break space or a digit of another script is part of its token, which then does not read.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..codec import INVISIBLE, number_problem
from ..instance import InstanceFormatError


__all__ = ["InstanceFormatError", "Line", "check_machine", "csv_rows", "is_header", "missing_line"]
__all__ += ["no_trailing_data", "read_text", "size_line", "text_lines", "whole_number"]

_ASCII_SPACE = " \t\r\f\v"
_LEADING_ODD_RE = re.compile(rf"[^\S\n]|[{INVISIBLE}]")


@dataclass(frozen=True)
class Line:
    """One non-blank line of a text file: its 1-based number, its text (stripped) and its whitespace-split tokens."""

    number: int
    text: str

    @property
    def tokens(self) -> list[str]:
        """The line split at ASCII whitespace."""
        return [token for token in re.split(f"[{_ASCII_SPACE}]+", self.text) if token]


def read_text(path: str | Path) -> tuple[str, str]:
    """``(text, source)`` of a file (``-``: standard input, ``<stdin>``): ``FileNotFoundError`` naming a missing file,
    ``InstanceFormatError`` naming the line of a file that is not UTF-8."""
    if str(path) == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    try:
        return data.decode("utf-8"), str(path)
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InstanceFormatError(
            str(path), line, None, f"not UTF-8 text ({err.reason} at byte {err.start})"
        ) from None


def text_lines(text: str) -> list[Line]:
    """The non-blank lines of ``text`` with their 1-based numbers (lines end at ``\\n``; CRLF and a byte-order mark at
    the start are accepted; blank means ASCII whitespace only)."""
    text = text.removeprefix("\ufeff")
    lines = (raw.strip(_ASCII_SPACE) for raw in text.split("\n"))
    return [Line(i, raw) for i, raw in enumerate(lines, 1) if raw]


def whole_number(token: str, source: str, line: int | None, field: str, minimum: int | None = 0) -> int:
    """``token`` as an int; ``InstanceFormatError`` when it is not a whole number of at most ``MAX_DIGITS`` ASCII
    digits (or is below ``minimum``)."""
    problem = number_problem(token)
    if problem is not None:
        raise InstanceFormatError(source, line, field, problem)
    value = int(token)
    if minimum is not None and value < minimum:
        raise InstanceFormatError(source, line, field, f"must be at least {minimum}, got {value}")
    return value


def check_machine(machine: int, num_machines: int, source: str, line: int | None, field: str, base: int = 0) -> int:
    """``machine`` (numbered from ``base``) as a 0-based id; an error when it is outside ``base..num_machines-1+base``."""
    if not base <= machine < num_machines + base:
        raise InstanceFormatError(
            source,
            line,
            field,
            f"machine {machine} is outside {base}..{num_machines - 1 + base} (the instance has {num_machines} machines"
            + (", numbered from 1 in this format)" if base else ")"),
        )
    return machine - base


def is_header(line: Line) -> bool:
    """A comment or title line before the numbers: ``# ...`` (JSPLIB), ``+++`` or a title (OR-Library), a label.

    A line that starts with a digit (of any script, after any spaces or invisible characters) or a sign is data, even
    when it goes on with text: that is a number field gone wrong, which the reader reports instead of skipping.
    """
    text = line.text
    while text and _LEADING_ODD_RE.match(text):
        text = text[1:]
    return not (text[:1].isdigit() or text[:1] in ("+", "-") and text[1:2].isdigit())


def size_line(lines: list[Line], source: str, what: str = "the size line 'jobs machines'") -> tuple[int, int, int]:
    """``(index, N, M)``: the first line after the header lines, read as ``N M`` (further numbers are the caller's)."""
    index = next((i for i, line in enumerate(lines) if not is_header(line)), None)
    if index is None:
        raise InstanceFormatError(source, None, None, f"no numbers found: expected {what}")
    line = lines[index]
    if len(line.tokens) < 2:
        raise InstanceFormatError(source, line.number, "size", f"expected {what}, got {line.text[:60]!r}")
    num_jobs = whole_number(line.tokens[0], source, line.number, "size (jobs)", minimum=1)
    num_machines = whole_number(line.tokens[1], source, line.number, "size (machines)", minimum=1)
    return index, num_jobs, num_machines


def missing_line(lines: list[Line], source: str, field: str, what: str) -> InstanceFormatError:
    """The error for a file that ends before ``what`` (named after the line where it should have been)."""
    last = lines[-1].number if lines else 0
    return InstanceFormatError(source, last + 1, field, f"missing: the file ends after line {last}, before {what}")


def no_trailing_data(lines: list[Line], start: int, source: str, what: str) -> None:
    """Only comment lines (``#``, ``+++``) may follow the data; anything else is an error, not silently dropped."""
    for line in lines[start:]:
        if not line.text.startswith(("#", "+")):
            raise InstanceFormatError(
                source, line.number, None, f"unexpected line after {what}: {line.text[:60]!r} (a count is wrong?)"
            )


def csv_rows(reader, width: int, position: Mapping[str, int], source: str) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a ``csv.reader`` after its header: ``(line, {column: cell})`` of each non-blank row, with the cells
    at ``position`` stripped of ASCII spaces; a row of other than ``width`` cells is an error."""
    for row in reader:
        line = reader.line_num
        if not any(cell.strip(" \t\r") for cell in row):
            continue
        if len(row) != width:
            raise InstanceFormatError(source, line, None, f"expected {width} columns, found {len(row)}")
        yield line, {column: row[index].strip(" \t\r") for column, index in position.items()}
