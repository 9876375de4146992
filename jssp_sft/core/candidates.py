"""Candidate lines: the state a scheduler chooses from, written into the answer before each operation.

In the ``candidates`` answer format a Starjob answer holds, before each operation line, one line that lists the jobs
the next operation may come from, each with numbers about its next operation (where it could start, how long it
takes, how much work its job has left, ...). The operation line that follows names the chosen job. The schedule is
still exactly the operation lines: readers, the verifier, the metric and repair recognise a candidate line as its own
line kind and never read it as operations (nor as junk).

Syntax (one line)::

    Next: <entry> | <entry> | ...

where each entry is space-separated fields, exactly one of them the job ``J<int>``, the others a lower-case tag
or ``M`` followed by an integer (``s12``, ``d35``, ``M3``).
"""

from __future__ import annotations

import re


CANDIDATES_PREFIX = "Next:"
CANDIDATE_SEPARATOR = " | "

_INT = r"[0-9]{1,15}(?![0-9])"
_FIELD = rf"(?:[a-z]|M)-?{_INT}"
_ENTRY = rf"(?:{_FIELD}[ \t]+)*J{_INT}(?:[ \t]+{_FIELD})*"
# A whole candidate line, without its line break (leading and trailing spaces allowed, as on any answer line).
CANDIDATE_LINE_RE = re.compile(rf"[ \t]*Next:[ \t]+{_ENTRY}(?:[ \t]*\|[ \t]*{_ENTRY})*[ \t\r]*", re.ASCII)


def is_candidate_line(line: str) -> bool:
    """Whether ``line`` (one line, no line break) is a well-formed candidate line."""
    return CANDIDATE_LINE_RE.fullmatch(line) is not None
