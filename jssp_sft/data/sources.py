"""Read the raw records of a Starjob source: a local file, a directory of files, or a Hub dataset id.

``.json`` and ``.jsonl`` files (local or downloaded from the Hub) are streamed one record at a time
(``json_stream``) into Arrow on disk through ``records.normalize_record``, so every JSON source types its fields the
same way and a 1.9 GB file never sits in memory; ``.parquet`` files and other Hub formats go through
``datasets.load_dataset``. A local path is never taken for a Hub id: see ``is_hub_id``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.starjob_v1 import LEGACY_PROMPT_FIELDS
from .json_stream import iter_records
from .records import LINE_COLUMN, PROBLEM_COLUMN, SPEC_FIELDS, normalize_record, starjob_features


if TYPE_CHECKING:
    from datasets import Dataset


logger = logging.getLogger(__name__)

DATA_FILE_SUFFIXES = (".json", ".jsonl", ".parquet")
JSON_SUFFIXES = (".json", ".jsonl")
# Bump when the JSON reader changes what it writes, so that cached Arrow files made by an older reader are not reused.
_JSON_READER_VERSION = "4"
_HUB_ID_RE = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


class SourceNotFoundError(FileNotFoundError, ValueError):
    """A data source that is neither a local file or directory nor a Hub dataset id."""


# ----------------------------------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class SourcePart:
    """One file of a loaded source: its records are rows ``start .. start + num_records - 1`` of the dataset."""

    name: str
    start: int
    num_records: int


def describe_index(index: int, parts: Sequence[SourcePart] = (), line: int | None = None) -> str:
    """``record 12``, ``record 12 (b.jsonl, record 2)`` when the source had several files, and the file's 1-based
    ``line`` when known (JSON lines): ``record 2 (b.jsonl, line 3)``."""
    where = []
    if len(parts) > 1:
        for part in parts:
            if part.start <= index < part.start + part.num_records:
                where.append(f"{part.name}, record {index - part.start}")
    elif line is not None and parts:
        where.append(parts[0].name)
    if line is not None:
        where.append(f"line {line}")
    return f"record {index}" + (f" ({', '.join(where)})" if where else "")


# ------------------------------------------------------------------------------------------------- JSON files


_EXTRA_TYPES = {bool: "bool", int: "int64", float: "float64", str: "string"}
# Fields that end up in the spec fields: the spec's own, and the earlier release's prompts (``normalize_record``).
_CONVERTED = frozenset(SPEC_FIELDS) | frozenset(LEGACY_PROMPT_FIELDS)


def _extra_fields(first: Any) -> dict[str, str]:
    """Fields beyond the spec kept from a JSON file: those of its first record with a scalar value, with that type."""
    if not isinstance(first, Mapping):
        return {}
    return {k: _EXTRA_TYPES[type(v)] for k, v in first.items() if k not in _CONVERTED and type(v) in _EXTRA_TYPES}


def _extra_value(value: Any, dtype: str) -> Any:
    if dtype == "float64" and type(value) is int:
        return float(value)
    return value if _EXTRA_TYPES.get(type(value)) == dtype else None


def _json_rows(path: str, extras: dict[str, str], **_cache_key) -> Iterator[dict]:
    """``Dataset.from_generator``'s generator: the typed rows of a JSON file (the extra keyword arguments only key
    the cache)."""
    dropped: Counter = Counter()
    nulled: Counter = Counter()
    for line, record in iter_records(path):
        row, problem = normalize_record(record)
        row[PROBLEM_COLUMN], row[LINE_COLUMN] = problem, line
        if isinstance(record, Mapping):
            dropped.update(k for k in record if k not in _CONVERTED and k not in extras)
            for name, dtype in extras.items():
                row[name] = _extra_value(record.get(name), dtype)
                nulled[name] += row[name] is None and record.get(name) is not None
        yield row
    if dropped:
        counts = ", ".join(f"'{key}' ({count} records)" for key, count in sorted(dropped.items()))
        logger.warning("%s: dropped the field(s) the first record lacks or holds no scalar in: %s", path, counts)
    if any(nulled.values()):
        counts = ", ".join(f"'{key}' ({count} records)" for key, count in sorted(nulled.items()) if count)
        logger.warning(
            "%s: set to null the extra field values of another type than the first record's: %s", path, counts
        )


def load_json_file(path: str | os.PathLike, cache_dir: str | None = None) -> Dataset:
    """A ``.json`` or ``.jsonl`` file's records as a ``Dataset`` written to Arrow on disk, one record at a time.

    The six spec fields are typed by ``normalize_record`` (a problem it finds is kept for validation); fields beyond
    the spec are kept when the first record holds a scalar in them. Peak memory stays near one record plus one
    writer batch, whatever the file's size. The Arrow file is cached (keyed by the file's path, size and
    modification time), so loading the same file again is instant. Malformed JSON raises ``JsonFileError`` naming the
    file and 1-based line.
    """
    from datasets import Dataset, Features, Value
    from datasets.exceptions import DatasetGenerationError

    path = Path(path).resolve()
    stat = path.stat()
    with closing(iter_records(path)) as records:
        first = next((record for _, record in records), None)
    if first is None:
        raise ValueError(f"{path}: the file holds no records")
    extras = _extra_fields(first)
    features = Features(
        {**starjob_features(), PROBLEM_COLUMN: Value("string"), LINE_COLUMN: Value("int64")}
        | {name: Value(dtype) for name, dtype in extras.items()}
    )
    key = {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "reader": _JSON_READER_VERSION}
    fingerprint = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    try:
        return Dataset.from_generator(
            _json_rows,
            features=features,
            cache_dir=cache_dir,
            gen_kwargs={"path": str(path), "extras": extras, **{k: v for k, v in key.items() if k != "path"}},
            fingerprint=fingerprint,
        )
    except DatasetGenerationError as err:
        if isinstance(err.__cause__, ValueError):  # the reader's message names the file and line
            raise err.__cause__ from None
        raise


# ----------------------------------------------------------------------------------------------------- sources


def _typed_row(record: Mapping) -> dict:
    row, problem = normalize_record(record)
    return {**row, PROBLEM_COLUMN: problem}


def _load_file(path: Path, cache_dir: str | None, num_proc: int | None) -> Dataset:
    """One local data file, chosen by its suffix."""
    import datasets
    from datasets import Features, Value

    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return load_json_file(path, cache_dir=cache_dir)
    if suffix == ".parquet":
        dataset = datasets.load_dataset(
            "parquet", data_files=str(path), split="train", cache_dir=cache_dir, num_proc=num_proc
        )
        if len(dataset) == 0:
            raise ValueError(f"{path}: the file holds no records")
        if any(name in dataset.column_names for name in LEGACY_PROMPT_FIELDS):  # the earlier release: today's fields
            features = Features({**starjob_features(), PROBLEM_COLUMN: Value("string")})
            dataset = dataset.map(
                _typed_row,
                remove_columns=dataset.column_names,
                features=features,
                num_proc=num_proc,
                desc="Converting the earlier release",
            )
        return dataset
    raise ValueError(f"{path}: unsupported file type {suffix!r}; expected one of {', '.join(DATA_FILE_SUFFIXES)}")


def _concatenate(datasets_: list[Dataset], names: list[str]) -> Dataset:
    """Concatenate the files of one source, keeping the columns they all have (and logging the others); the JSON
    reader's bookkeeping columns are kept (null for the rows of other files)."""
    from datasets import Value, concatenate_datasets

    if len(datasets_) == 1:
        return datasets_[0]
    common = [name for name in datasets_[0].column_names if all(name in d.column_names for d in datasets_)]
    missing = [field_ for field_ in SPEC_FIELDS if field_ not in common]
    if missing:
        holders = [n for d, n in zip(datasets_, names) if not all(f in d.column_names for f in SPEC_FIELDS)]
        raise ValueError(f"{', '.join(holders)}: missing the field(s) {', '.join(missing)}")
    notes = {PROBLEM_COLUMN: Value("string"), LINE_COLUMN: Value("int64")}
    notes = {name: dtype for name, dtype in notes.items() if any(name in d.column_names for d in datasets_)}
    common = [name for name in common if name not in notes]
    features = datasets_[0].select_columns(common).features.copy()
    features.update(notes)
    aligned = []
    for dataset, name in zip(datasets_, names):
        dropped = [c for c in dataset.column_names if c not in common and c not in notes]
        if dropped:
            logger.warning("%s: dropping the column(s) %s, which other files lack", name, ", ".join(dropped))
        for column in notes:
            if column not in dataset.column_names:
                dataset = dataset.add_column(column, [None] * len(dataset))
        dataset = dataset.select_columns(list(features))
        if dataset.features != features:
            dataset = dataset.cast(features)
        aligned.append(dataset)
    return concatenate_datasets(aligned)


def _load_files(paths: list[Path], cache_dir: str | None, num_proc: int | None, root: Path | None = None):
    loaded = [_load_file(path, cache_dir, num_proc) for path in paths]
    names = [str(path.relative_to(root)) if root else path.name for path in paths]
    parts, start = [], 0
    for dataset, name in zip(loaded, names):
        parts.append(SourcePart(name, start, len(dataset)))
        start += len(dataset)
    return _concatenate(loaded, names), parts


def _load_hub(
    repo_id: str,
    split: str,
    revision: str | None,
    token: str | bool | None,
    cache_dir: str | None,
    num_proc: int | None,
):
    """A Hub dataset through ``datasets``: its data files are resolved by ``load_dataset_builder``; ``.json`` and
    ``.jsonl`` files (``starjob130k.json``) are downloaded by ``datasets``' download manager and streamed like local
    ones, other formats go through ``datasets.load_dataset``."""
    import datasets

    builder = datasets.load_dataset_builder(repo_id, revision=revision, token=token, cache_dir=cache_dir)
    data_files = builder.config.data_files or {}
    if split not in data_files:
        raise ValueError(
            f"{repo_id}: no split {split!r}; the dataset has {', '.join(map(str, data_files)) or 'no data files'}"
        )
    urls = [str(url) for url in data_files[split]]
    if urls and all(url.lower().endswith(JSON_SUFFIXES) for url in urls):
        download = datasets.DownloadManager(
            dataset_name=repo_id, download_config=datasets.DownloadConfig(cache_dir=cache_dir, token=token)
        )
        paths = [Path(path) for path in download.download(urls)]
        logger.info("%s: downloaded %s", repo_id, ", ".join(str(path) for path in paths))
        dataset, parts = _load_files(paths, cache_dir, num_proc)
        return dataset, [SourcePart(url.rsplit("/", 1)[-1], p.start, p.num_records) for url, p in zip(urls, parts)]
    dataset = datasets.load_dataset(
        repo_id, split=split, revision=revision, token=token, cache_dir=cache_dir, num_proc=num_proc
    )
    return dataset, [SourcePart(repo_id, 0, len(dataset))]


def is_hub_id(source: str | os.PathLike) -> bool:
    """Whether ``source`` names a Hub dataset rather than a local path.

    A Hub id is ``owner/name`` (one slash; letters, digits, ``-``, ``_``, ``.``) that does not exist locally, whose
    ``owner`` is not a local directory, and whose name does not end in a data file suffix (``.json``, ``.jsonl``,
    ``.parquet``). Anything else is a local path: ``data/train.jsonl`` or ``./x/y`` that does not exist is "no such
    file", never a download.
    """
    if not isinstance(source, str) or not _HUB_ID_RE.fullmatch(source) or os.path.exists(source):
        return False
    owner, name = source.split("/")
    return not os.path.isdir(owner) and not name.lower().endswith(DATA_FILE_SUFFIXES)


def load_source(
    source: str | os.PathLike,
    split: str = "train",
    cache_dir: str | None = None,
    num_proc: int | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
) -> tuple[Dataset, list[SourcePart]]:
    """The records of ``source`` as read (no content validation) and where each came from; see ``load_records``.

    Records from JSON files carry two bookkeeping columns for ``validate_records`` (the type problem found while
    reading, the record's line); ``load_records`` drops them.
    """
    path = Path(source).expanduser()
    if path.is_file():
        return _load_files([path], cache_dir, num_proc)
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in DATA_FILE_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            raise SourceNotFoundError(f"{path}: no {', '.join(DATA_FILE_SUFFIXES)} files in this directory")
        return _load_files(files, cache_dir, num_proc, root=path)
    if is_hub_id(source):
        return _load_hub(str(source), split, revision, token, cache_dir, num_proc)
    raise SourceNotFoundError(f"{source}: no such file or directory (a Hub dataset id is owner/name)")


def load_records(
    source: str | os.PathLike,
    split: str = "train",
    cache_dir: str | None = None,
    num_proc: int | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
) -> Dataset:
    """The raw records of a ``.json``/``.jsonl``/``.parquet`` file, a directory of those, or a Hub dataset id.

    ``split`` picks the split of a Hub dataset. Nothing is validated yet (see ``validate_records``); a record of a
    JSON file whose field is missing or has the wrong type has ``None`` there.
    """
    dataset, _ = load_source(source, split, cache_dir, num_proc, revision, token)
    private = [name for name in (PROBLEM_COLUMN, LINE_COLUMN) if name in dataset.column_names]
    return dataset.remove_columns(private) if private else dataset
