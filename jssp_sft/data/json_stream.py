"""Stream the records of a JSON or JSON-lines file one at a time, so that a 1.9 GB file never sits in memory.

A JSON document (a list of records, or ``{"data": [...]}`` as in ``starjob130k.json``) is decoded by ``ijson``'s C
backend (yajl2_c), one list item at a time; JSON lines are decoded by ``json.loads``, one line at a time. Malformed
JSON raises ``JsonFileError`` (a ``ValueError``) naming the file and the 1-based line and column.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import ijson


# How much of a file is read to tell its shape (a list, a {"data": [...]} wrapper, or JSON lines).
HEAD_BYTES = 1 << 16
BUFFER_BYTES = 1 << 16
_BOM = b"\xef\xbb\xbf"


class JsonFileError(ValueError):
    """Malformed JSON in a data file; the message names the file and the 1-based line (and column)."""


def iter_json_lines(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """``(line, value)`` for each non-blank line of a JSON-lines file, ``line`` 1-based."""
    path = Path(path)
    with open(path, "rb") as stream:
        for number, raw in enumerate(stream, 1):
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            raw = raw.rstrip(b"\r\n")
            if not raw.strip():
                continue
            try:
                yield number, json.loads(raw)
            except json.JSONDecodeError as err:
                raise JsonFileError(f"{path}: line {number}, column {err.colno}: invalid JSON: {err.msg}") from None
            except UnicodeDecodeError as err:
                raise JsonFileError(f"{path}: line {number}: not UTF-8 text ({err.reason})") from None


class _TrackedStream:
    """A binary file that remembers its last chunk, where it began and the lines before it, to place an error."""

    def __init__(self, stream: BinaryIO):
        self.stream, self.chunk = stream, b""
        self.chunk_start = 0  # file offset of the chunk
        self.lines_before = 0  # newlines before the chunk
        self.line_start = 0  # file offset where the line the chunk starts in begins

    def read(self, size: int = -1) -> bytes:
        newlines = self.chunk.count(b"\n")
        if newlines:
            self.lines_before += newlines
            self.line_start = self.chunk_start + self.chunk.rfind(b"\n") + 1
        self.chunk_start += len(self.chunk)
        self.chunk = self.stream.read(size)
        return self.chunk


def _yajl_context(chunk: bytes, offset: int) -> bytes:
    """The context line yajl's verbose error prints for an error at ``offset`` of the chunk it was parsing."""
    spaces = 40 - offset if offset < 30 else 10
    start, end = max(0, offset - 30), min(len(chunk), offset + 30)
    return b" " * spaces + chunk[start:end].replace(b"\n", b" ").replace(b"\r", b" ")


def _located_error(path: Path, tracked: _TrackedStream, err: Exception) -> JsonFileError:
    """``err`` from ijson as a ``JsonFileError`` naming the line and column, found from yajl's context line."""
    lines = str(err).split("\n")
    message = lines[0].removeprefix("parse error: ").strip()
    chunk = tracked.chunk
    if "premature EOF" in message or not chunk:
        last_line = tracked.lines_before + chunk.count(b"\n") + 1
        return JsonFileError(f"{path}: line {last_line}: invalid JSON: the file ends inside a value")
    offset = None
    if len(lines) > 1:
        context = lines[1].encode("utf-8", errors="surrogateescape")
        offset = next((o for o in range(len(chunk) + 1) if _yajl_context(chunk, o) == context), None)
    if offset is None:  # the context did not match (e.g. non-UTF-8 text): name the chunk's first line
        return JsonFileError(f"{path}: near line {tracked.lines_before + 1}: invalid JSON: {message}")
    at = max(offset - 1, 0)  # yajl reports the offset after the offending token's last byte
    line = tracked.lines_before + chunk.count(b"\n", 0, at) + 1
    newline = chunk.rfind(b"\n", 0, at)
    line_start = tracked.chunk_start + newline + 1 if newline >= 0 else tracked.line_start
    column = tracked.chunk_start + at - line_start + 1
    return JsonFileError(f"{path}: line {line}, column {column}: invalid JSON: {message}")


def _document_shape(path: Path) -> str:
    """``"empty"``, ``"list"``, ``"wrapper"`` (``{"data": [...]}``), ``"lines"`` (one record per line) or
    ``"values"`` (records one after another, spread over lines); ``"other"`` for anything else."""
    with open(path, "rb") as stream:
        head = stream.read(HEAD_BYTES).removeprefix(_BOM).lstrip()
        if not head:
            return "empty"
        if head[:1] == b"[":
            return "list"
        if head[:1] != b"{":
            return "other"
        try:
            first = json.loads(head.split(b"\n", 1)[0])
        except ValueError:
            first = None
        if isinstance(first, dict) and "data" not in first:
            return "lines"
        # A wrapper whose list may come after other members, or a record spread over several lines: read the members
        # of the first object (not its values) until "data" or its end.
        stream.seek(0)
        try:
            for prefix, event, value in ijson.parse(_skip_bom(stream), buf_size=BUFFER_BYTES):
                if prefix == "" and event == "map_key" and value == "data":
                    return "wrapper"
                if prefix == "" and event == "end_map":
                    return "values"
        except ijson.JSONError:
            return "wrapper"  # reading it as one document reports the error with its line
    return "wrapper"


def _skip_bom(stream: BinaryIO) -> BinaryIO:
    if stream.read(len(_BOM)) != _BOM:
        stream.seek(0)
    return stream


def iter_json_document(path: str | os.PathLike, buf_size: int = BUFFER_BYTES) -> Iterator[tuple[int | None, Any]]:
    """``(line, record)`` for each record of a ``.json`` file, in file order, without decoding the whole file.

    Accepts a top-level list of records, an object whose ``"data"`` member is that list (``starjob130k.json``; other
    members are ignored), or records one after another (JSON lines). ``line`` is the record's 1-based line for JSON
    lines, ``None`` inside one document. Items are yielded as decoded, whatever their type.
    """
    path = Path(path)
    shape = _document_shape(path)
    if shape == "empty":
        return
    if shape == "lines":
        yield from iter_json_lines(path)
        return
    if shape == "other":
        raise JsonFileError(f"{path}: line 1: expected a list of records, an object with a 'data' list, or JSON lines")
    prefix = {"list": "item", "wrapper": "data.item", "values": ""}[shape]
    with open(path, "rb") as raw:
        tracked = _TrackedStream(_skip_bom(raw))
        items = ijson.items(tracked, prefix, buf_size=buf_size, use_float=True, multiple_values=shape == "values")
        try:
            for item in items:
                yield None, item
        except ijson.JSONError as err:
            raise _located_error(path, tracked, err) from None


def iter_json_records(path: str | os.PathLike, buf_size: int = BUFFER_BYTES) -> Iterator[Any]:
    """The records of a ``.json`` file, in file order, one at a time (see ``iter_json_document``)."""
    for _, record in iter_json_document(path, buf_size):
        yield record


def iter_records(path: str | os.PathLike) -> Iterator[tuple[int | None, Any]]:
    """``(line, record)`` of a ``.jsonl`` (one record per line) or ``.json`` file (see ``iter_json_document``)."""
    path = Path(path)
    return iter_json_lines(path) if path.suffix.lower() == ".jsonl" else iter_json_document(path)
