"""What every instance reader shares: the error it raises, numbered lines, number and machine checks, headers."""

from __future__ import annotations

import re
from dataclasses import dataclass


_WHOLE_RE = re.compile(r"[+-]?\d{1,15}")


class InstanceFormatError(ValueError):
    """A malformed instance file: the message names the source, the 1-based line and the field that is wrong.

    ``source``, ``line`` (``None`` when the problem concerns no single line), ``field`` and ``problem`` are kept as
    attributes so that callers (an HTTP API, a test) can use them apart from the message.
    """

    def __init__(self, source: str, line: int | None, field: str | None, problem: str):
        self.source, self.line, self.field, self.problem = source, line, field, problem
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}, {field}: {problem}" if field else f"{where}: {problem}")


@dataclass(frozen=True)
class Line:
    """One non-blank line of a text file: its 1-based number, its text (stripped) and its whitespace-split tokens."""

    number: int
    text: str

    @property
    def tokens(self) -> list[str]:
        return self.text.split()


def text_lines(text: str) -> list[Line]:
    """The non-blank lines of ``text`` with their 1-based numbers (CRLF and a byte-order mark are accepted)."""
    text = text.removeprefix("\ufeff")
    return [Line(i, raw.strip()) for i, raw in enumerate(text.splitlines(), 1) if raw.strip()]


def whole_number(token: str, source: str, line: int | None, field: str, minimum: int | None = 0) -> int:
    """``token`` as an int; ``InstanceFormatError`` when it is not a whole number (or is below ``minimum``)."""
    if not _WHOLE_RE.fullmatch(token):
        raise InstanceFormatError(source, line, field, f"expected a whole number, got {token[:40]!r}")
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

    A line that starts with a digit or a sign is data, even when it goes on with text: that is a number field gone
    wrong, which the reader reports instead of skipping.
    """
    return not (line.text[0].isdigit() or line.text[0] in "+-" and line.text[1:2].isdigit())


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
