"""The instance of a request, read by the package's readers (``jssp_sft.core.formats``) and checked against limits.

A request carries file text (format named or detected: starjob, standard, taillard, matrix, json, csv) or a JSON
value in the package's JSON instance shape. Every failure is an ``InstanceError`` naming the body field and, for
text, the line, so the service answers 422 with a message a person can act on.
"""

from __future__ import annotations

import json

from ..core.formats import FORMATS, InstanceFormatError, read_instance
from ..core.instance import Instance


SOURCE = "instance"  # how errors name the request's instance


class InstanceError(ValueError):
    """A request's instance cannot be read or is larger than the server accepts; ``field``/``line`` say where."""

    def __init__(self, message: str, field: str = "instance", line: int | None = None):
        super().__init__(message)
        self.field, self.line = field, line


def read_request_instance(instance: str | dict | list, format: str | None = None) -> Instance:
    """The instance a request carries: text in ``format`` (``None``: detected), or a JSON object or array."""
    if format is not None and format not in FORMATS:
        raise InstanceError(
            f"format: unknown instance format {format!r}; choose one of {', '.join(FORMATS)}", "format"
        )
    if not isinstance(instance, str):
        if format not in (None, "json"):
            raise InstanceError(f"format: {format!r} is a text format, but the instance is a JSON value", "format")
        instance, format = json.dumps(instance), "json"
    try:
        return read_instance(instance, format=format, source=SOURCE)
    except InstanceFormatError as err:
        raise InstanceError(str(err), field=err.field or SOURCE, line=err.line) from None
    except ValueError as err:  # the Instance's own checks (e.g. a machine outside 0..M-1)
        raise InstanceError(f"{SOURCE}: {err}") from None


def check_size(instance: Instance, max_jobs: int, max_machines: int) -> None:
    """Refuse an instance over the server's limits, naming the limit."""
    if instance.num_jobs > max_jobs or instance.num_machines > max_machines:
        raise InstanceError(
            f"{SOURCE}: {instance.num_jobs} jobs x {instance.num_machines} machines is larger than this server "
            f"accepts ({max_jobs} jobs x {max_machines} machines at most)"
        )
