"""The Starjob record: its six fields, their Arrow schema, and the one function that reads a raw record of any source.

``normalize_record`` is the single place where a raw record (a decoded JSON object, a Parquet or Hub row) becomes a
typed row: every file format accepts the same types, and a new record variant (another release's field names) is
one more branch there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.starjob_v1 import convert_record, is_legacy_record


INTEGER_FIELDS = ("num_jobs", "num_machines")
TEXT_FIELDS = ("instruction", "input", "output", "matrix")
SPEC_FIELDS = INTEGER_FIELDS + TEXT_FIELDS
# Bookkeeping columns the JSON reader adds for validation (removed by ``validate_records``): the problem
# ``normalize_record`` found, which a typed column cannot hold (``"3"`` in an integer field), and the record's
# 1-based line in a JSON-lines file.
PROBLEM_COLUMN = "_jssp_read_problem"
LINE_COLUMN = "_jssp_line"


def starjob_features():
    """The Arrow schema of a Starjob record (the six fields of the spec)."""
    from datasets import Features, Value

    return Features(
        {name: Value("int64") for name in INTEGER_FIELDS} | {name: Value("string") for name in TEXT_FIELDS}
    )


def _describe_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def normalize_record(raw: Any) -> tuple[dict, str | None]:
    """``(row, problem)``: the six spec fields of a raw record typed for Arrow (``None`` where missing or mistyped),
    and what is wrong with the record's fields and types (``None`` when nothing is).

    Integer fields take JSON integers (a float with an integral value, as Parquet may store them, counts); text
    fields take strings. Nothing else is converted: ``"num_jobs": "3"`` is an error in every format.
    """
    if not isinstance(raw, Mapping):
        return dict.fromkeys(SPEC_FIELDS), f"not an object but {type(raw).__name__}"
    if is_legacy_record(raw):  # the authors' earlier verbose release, verified and converted (core.starjob_v1)
        try:
            raw = convert_record(raw)
        except ValueError as err:
            return dict.fromkeys(SPEC_FIELDS), f"a record of the earlier Starjob release that does not convert: {err}"
    row: dict[str, Any] = {}
    missing, wrong = [], []
    for name in SPEC_FIELDS:
        value = raw.get(name)
        if name in INTEGER_FIELDS and isinstance(value, float) and value.is_integer():
            value = int(value)
        if value is None:
            missing.append(name)
        elif name in INTEGER_FIELDS and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            wrong.append(f"field {name!r} must be a positive integer, got {_describe_value(value)}")
            value = None
        elif name in TEXT_FIELDS and not isinstance(value, str):
            wrong.append(f"field {name!r} must be a string, got {type(value).__name__}")
            value = None
        row[name] = value
    if len(missing) == len(SPEC_FIELDS):
        return row, f"not a Starjob record: none of the fields {', '.join(SPEC_FIELDS)}"
    if missing:
        plural = "s" if len(missing) > 1 else ""
        return row, f"field{plural} {', '.join(repr(m) for m in missing)} missing or null"
    return row, (wrong[0] if wrong else None)
