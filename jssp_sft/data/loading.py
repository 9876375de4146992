"""Load Starjob records from any source into a validated, filtered, split ``DatasetDict``, and format it for TRL.

``load_starjob(source, ...)`` reads a local ``.json`` (a list of records, ``{"data": [...]}`` as in
``starjob130k.json``, or JSON lines), ``.jsonl``, ``.parquet``, a directory of those, or a Hub dataset id. A ``.json``
file is stream-decoded one record at a time into Arrow on disk, so the 1.9 GB Starjob file never sits in memory
(``datasets.load_dataset("json")`` decodes such a file whole). Each step is also a function of its own
(``load_records``, ``validate_records``, ``filter_by_size``, ``select_subset``, ``filter_by_token_length``,
``check_outputs``, ``split_train_test``) so that training scripts can compose them with their own arguments.
``format_dataset`` then maps raw records to the columns ``SFTTrainer`` expects, through ``templates.PromptFormat``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..core.codec import parse_instance, parse_instruction
from ..core.scoring import verify_prediction
from ..core.starjob_v1 import LEGACY_PROMPT_FIELDS, is_legacy_record, legacy_record_problem, normalize_record
from .templates import PromptFormat


if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict


logger = logging.getLogger(__name__)

INTEGER_FIELDS = ("num_jobs", "num_machines")
TEXT_FIELDS = ("instruction", "input", "output", "matrix")
SPEC_FIELDS = INTEGER_FIELDS + TEXT_FIELDS
# The Starjob authors held out 2% of the records for evaluation, split with seed 42.
DEFAULT_TEST_SIZE = 0.02
DEFAULT_SEED = 42
DATA_FILE_SUFFIXES = (".json", ".jsonl", ".parquet")
# How many validation problems an error message lists before "... and N more".
MAX_PROBLEMS_SHOWN = 10
# Bump when the .json reader changes what it writes, so that cached Arrow files made by an older reader are not reused.
_JSON_READER_VERSION = "2"
_HUB_ID_RE = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def starjob_features():
    """The Arrow schema of a Starjob record (the six fields of the spec)."""
    from datasets import Features, Value

    return Features(
        {name: Value("int64") for name in INTEGER_FIELDS} | {name: Value("string") for name in TEXT_FIELDS}
    )


# ------------------------------------------------------------------------------------------- streaming JSON reader


class JsonStreamReader:
    """Decodes the JSON values of a text stream one at a time, holding one value and one chunk in memory.

    Values are decoded by the C scanner of the standard ``json`` module (``JSONDecoder.raw_decode``) from a buffer
    that is refilled chunk by chunk; a value cut by the chunk's end is decoded again once more text is in.
    """

    _WHITESPACE = re.compile(r"[ \t\r\n]*")
    _CUT_MARGIN = 8  # longer than any literal or escape sequence (\uXXXX)

    def __init__(self, stream: TextIO, name: str, chunk_chars: int = 1 << 20, max_value_chars: int = 1 << 28):
        self.stream, self.name = stream, name
        self.chunk_chars, self.max_value_chars = chunk_chars, max_value_chars
        self.buffer, self.pos = "", 0
        self.line_base = 1  # line number of buffer[0]
        self.line_start = 0  # offset in buffer of the start of that line (negative: it began in an earlier chunk)
        self.eof = False
        self._decoder = json.JSONDecoder()

    def _read_more(self, num_chars: int) -> bool:
        """Drop what was consumed and append up to ``num_chars`` more characters; False at the end of the stream."""
        if self.eof:
            return False
        chunk = self.stream.read(num_chars)
        if not chunk:
            self.eof = True
            return False
        consumed = self.buffer[: self.pos]
        newlines = consumed.count("\n")
        if newlines:
            self.line_base += newlines
            self.line_start = consumed.rfind("\n") + 1
        self.line_start -= self.pos
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def where(self, pos: int | None = None) -> str:
        """``file: line L, column C`` of a position in the buffer (the current one by default)."""
        pos = self.pos if pos is None else pos
        line = self.line_base + self.buffer.count("\n", 0, pos)
        last_newline = self.buffer.rfind("\n", 0, pos)
        column = pos - (last_newline + 1 if last_newline >= 0 else self.line_start) + 1
        return f"{self.name}: line {line}, column {column}"

    def error(self, message: str, pos: int | None = None) -> ValueError:
        return ValueError(f"{self.where(pos)}: {message}")

    def peek(self) -> str | None:
        """The next non-whitespace character, not consumed; ``None`` at the end of the stream."""
        while True:
            self.pos = self._WHITESPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._read_more(self.chunk_chars):
                return None

    def expect(self, characters: str, context: str) -> str:
        """Consume the next non-whitespace character, which must be one of ``characters``."""
        char = self.peek()
        if char is None or char not in characters:
            found = "the end of the file" if char is None else repr(self.buffer[self.pos : self.pos + 20])
            expected = " or ".join(repr(c) for c in characters)
            raise self.error(f"expected {expected} {context}, found {found}")
        self.pos += 1
        return char

    def value(self) -> Any:
        """Decode the next JSON value."""
        if self.peek() is None:
            raise self.error("expected a JSON value, found the end of the file")
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as err:
                # Text cut by the chunk's end fails inside a string or within a few characters of the end (a
                # literal, number or escape cut short): decode again with more text. Any other error is real.
                cut = err.msg.startswith("Unterminated string") or err.pos >= len(self.buffer) - self._CUT_MARGIN
                pending = len(self.buffer) - self.pos
                if cut and pending <= self.max_value_chars and self._read_more(max(self.chunk_chars, pending)):
                    continue
                raise self.error(err.msg, err.pos) from None
            if end == len(self.buffer) and self._read_more(self.chunk_chars):
                continue  # a number at the chunk's end may go on in the next chunk
            self.pos = end
            return value

    def array_items(self) -> Iterator[Any]:
        """The items of the array that starts here, decoded one by one."""
        self.expect("[", "to open a list")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            if self.expect(",]", "after a list item") == "]":
                return


def iter_json_records(path: str | os.PathLike, chunk_chars: int = 1 << 20) -> Iterator[Any]:
    """Yield the records of a ``.json`` file without decoding the whole file: one at a time, in file order.

    Accepts a top-level list of records, an object whose ``"data"`` member is that list (``starjob130k.json``; other
    members are ignored), or records one after another (JSON lines). Items are yielded as decoded, whatever their
    type; malformed JSON raises ``ValueError`` naming the file, line and column.
    """
    path = Path(path)
    with open(path, encoding="utf-8-sig") as stream:
        reader = JsonStreamReader(stream, str(path), chunk_chars=chunk_chars)
        first = reader.peek()
        if first == "[":
            yield from reader.array_items()
        elif first == "{":
            # Either the {"data": [...]} wrapper or the first of several records: read it member by member so
            # that a wrapper's list is streamed rather than decoded whole.
            reader.expect("{", "to open an object")
            members: dict[str, Any] = {}
            wrapper = False
            if reader.peek() == "}":
                reader.pos += 1
            else:
                while True:
                    key = reader.value()
                    if not isinstance(key, str):
                        raise reader.error("expected a member name (a string)")
                    reader.expect(":", f"after the member name {key!r}")
                    if key == "data" and not wrapper and reader.peek() == "[":
                        wrapper = True
                        yield from reader.array_items()
                    else:
                        members[key] = reader.value()
                    if reader.expect(",}", "after an object member") == "}":
                        break
            if not wrapper:
                yield members
                while reader.peek() is not None:
                    yield reader.value()
        elif first is not None:
            raise reader.error(
                f"expected a list of records, an object with a 'data' list, or JSON lines; found {first!r}"
            )
        if reader.peek() is not None:
            raise reader.error("unexpected text after the records")


def _typed_row(record: Any) -> dict:
    """The spec fields of a decoded record, typed for Arrow; a missing or mistyped field becomes ``None``."""
    if not isinstance(record, Mapping):
        return dict.fromkeys(SPEC_FIELDS)
    record = normalize_record(record)  # a record of the authors' earlier release becomes today's (core.starjob_v1)
    row: dict[str, Any] = {}
    for name in INTEGER_FIELDS:
        value = record.get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        row[name] = value if isinstance(value, int) and not isinstance(value, bool) else None
    for name in TEXT_FIELDS:
        value = record.get(name)
        row[name] = value if isinstance(value, str) else None
    return row


def _json_rows(path: str, chunk_chars: int, **_cache_key) -> Iterator[dict]:
    """``Dataset.from_generator``'s generator: typed rows of a ``.json`` file (extra keyword args only key the cache)."""
    extra_fields: Counter = Counter()
    num_legacy = 0
    for record in iter_json_records(path, chunk_chars=chunk_chars):
        if isinstance(record, Mapping):
            if is_legacy_record(record):
                num_legacy += 1
            else:
                extra_fields.update(key for key in record if key not in SPEC_FIELDS)
        yield _typed_row(record)
    if num_legacy:
        logger.info("%s: %d records of the earlier Starjob release, read into today's fields", path, num_legacy)
    if extra_fields:
        logger.warning(
            "%s: kept the Starjob fields only; dropped %s",
            path, ", ".join(f"'{key}' ({count} records)" for key, count in sorted(extra_fields.items())),
        )  # fmt: skip


def load_json_file(path: str | os.PathLike, cache_dir: str | None = None, chunk_chars: int = 1 << 20) -> Dataset:
    """A ``.json`` file's records as a ``Dataset`` written to Arrow on disk, decoding one record at a time.

    Peak memory stays near one chunk plus one writer batch, whatever the file's size. The Arrow file is cached
    (keyed by the file's path, size and modification time), so loading the same file again is instant.
    """
    from datasets import Dataset
    from datasets.exceptions import DatasetGenerationError

    path = Path(path).resolve()
    stat = path.stat()
    key = {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "reader": _JSON_READER_VERSION}
    fingerprint = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    try:
        return Dataset.from_generator(
            _json_rows,
            features=starjob_features(),
            cache_dir=cache_dir,
            gen_kwargs={
                "path": str(path),
                "chunk_chars": chunk_chars,
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
            },
            fingerprint=fingerprint,
        )
    except DatasetGenerationError as err:
        if isinstance(err.__cause__, ValueError):  # the reader's message names the file, line and column
            raise err.__cause__ from None
        raise


# ----------------------------------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class SourcePart:
    """One file of a loaded source: its records are rows ``start .. start + num_records - 1`` of the dataset."""

    name: str
    start: int
    num_records: int


def describe_index(index: int, parts: Sequence[SourcePart] = ()) -> str:
    """``record 12``, or ``record 12 (b.jsonl, record 2)`` when the source had several files."""
    if len(parts) > 1:
        for part in parts:
            if part.start <= index < part.start + part.num_records:
                return f"record {index} ({part.name}, record {index - part.start})"
    return f"record {index}"


def _load_file(path: Path, cache_dir: str | None, num_proc: int | None) -> Dataset:
    """One local data file, chosen by its suffix."""
    import datasets

    suffix = path.suffix.lower()
    if suffix == ".json":
        return load_json_file(path, cache_dir=cache_dir)
    if suffix in (".jsonl", ".parquet"):
        builder = "json" if suffix == ".jsonl" else "parquet"
        return normalize_legacy_dataset(
            datasets.load_dataset(builder, data_files=str(path), split="train", cache_dir=cache_dir, num_proc=num_proc)
        )
    raise ValueError(f"{path}: unsupported file type {suffix!r}; expected one of {', '.join(DATA_FILE_SUFFIXES)}")


def normalize_legacy_dataset(dataset: Dataset, num_proc: int | None = None) -> Dataset:
    """A dataset of the authors' earlier release (``prompt_jobs_first``, ..., or verbose outputs) in today's six
    fields (``core.starjob_v1.normalize_record``); any other dataset unchanged."""
    columns = dataset.column_names
    if not any(name in columns for name in LEGACY_PROMPT_FIELDS):
        sample = dataset.select(range(min(len(dataset), 8)))
        if "output" not in columns or not any(is_legacy_record(row) for row in sample):
            return dataset
    return dataset.map(
        normalize_record, remove_columns=[c for c in columns if c not in SPEC_FIELDS], features=starjob_features(),
        num_proc=num_proc, desc="Converting the earlier Starjob release",
    )


def _concatenate(datasets_: list[Dataset], names: list[str]) -> Dataset:
    """Concatenate the files of one source, keeping the columns they all have (and logging the others)."""
    from datasets import concatenate_datasets

    if len(datasets_) == 1:
        return datasets_[0]
    common = [name for name in datasets_[0].column_names if all(name in d.column_names for d in datasets_)]
    missing = [field_ for field_ in SPEC_FIELDS if field_ not in common]
    if missing:
        holders = [n for d, n in zip(datasets_, names) if not all(f in d.column_names for f in SPEC_FIELDS)]
        raise ValueError(f"{', '.join(holders)}: missing the field(s) {', '.join(missing)}")
    aligned = []
    for dataset, name in zip(datasets_, names):
        dropped = [c for c in dataset.column_names if c not in common]
        if dropped:
            logger.warning("%s: dropping the column(s) %s, which other files lack", name, ", ".join(dropped))
        dataset = dataset.select_columns(common)
        if dataset.features != datasets_[0].select_columns(common).features:
            dataset = dataset.cast(datasets_[0].select_columns(common).features)
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
    """A Hub dataset through ``datasets``: its data files are resolved by ``load_dataset_builder``; ``.json`` files
    (``starjob130k.json``) are downloaded by ``datasets``' download manager and stream-decoded like local ones, other
    formats go through ``datasets.load_dataset``."""
    import datasets

    builder = datasets.load_dataset_builder(repo_id, revision=revision, token=token, cache_dir=cache_dir)
    data_files = builder.config.data_files or {}
    if split not in data_files:
        raise ValueError(
            f"{repo_id}: no split {split!r}; the dataset has {', '.join(map(str, data_files)) or 'no data files'}"
        )
    urls = [str(url) for url in data_files[split]]
    if urls and all(url.lower().endswith(".json") for url in urls):
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


def load_source(
    source: str | os.PathLike,
    split: str = "train",
    cache_dir: str | None = None,
    num_proc: int | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
) -> tuple[Dataset, list[SourcePart]]:
    """The raw records of ``source`` (no validation) and where each came from; see ``load_records``."""
    path = Path(source)
    if path.is_file():
        return _load_files([path], cache_dir, num_proc)
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in DATA_FILE_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )  # fmt: skip
        if not files:
            raise FileNotFoundError(f"{path}: no {', '.join(DATA_FILE_SUFFIXES)} files in this directory")
        return _load_files(files, cache_dir, num_proc, root=path)
    if isinstance(source, str) and _HUB_ID_RE.fullmatch(source) and not os.path.exists(source):
        return _load_hub(source, split, revision, token, cache_dir, num_proc)
    raise FileNotFoundError(f"{source}: no such file or directory, and not a Hub dataset id (owner/name)")


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
    ``.json`` file whose field is missing or has the wrong type has ``None`` there.
    """
    return load_source(source, split, cache_dir, num_proc, revision, token)[0]


# -------------------------------------------------------------------------------------------------- validation


def record_problem(record: Mapping) -> str | None:
    """What is wrong with one raw record, or ``None`` when it is a valid Starjob record.

    Valid means: the six fields of the spec with the right types, an ``input`` that parses with the record's
    ``num_machines`` into ``num_jobs`` jobs, and an ``instruction`` that, if it states the size, states this one.
    The ``output`` is not checked here (see ``check_outputs``).
    """
    if not isinstance(record, Mapping):
        return f"not an object but {type(record).__name__}"
    if is_legacy_record(record):  # earlier-release text that normalize_record could not convert: say why
        return f"a record of the earlier Starjob release that does not convert: {legacy_record_problem(record)}"
    missing = [name for name in SPEC_FIELDS if record.get(name) is None]
    if len(missing) == len(SPEC_FIELDS):
        return f"not a Starjob record: none of the fields {', '.join(SPEC_FIELDS)} (or not a JSON object)"
    if missing:
        plural = "s" if len(missing) > 1 else ""
        return f"field{plural} {', '.join(repr(m) for m in missing)} missing, null or of the wrong type"
    for name in INTEGER_FIELDS:
        value = record[name]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"field {name!r} must be a positive integer, got {value!r}"
    for name in TEXT_FIELDS:
        if not isinstance(record[name], str):
            return f"field {name!r} must be a string, got {type(record[name]).__name__}"
    num_jobs, num_machines = record["num_jobs"], record["num_machines"]
    try:
        instance = parse_instance(record["input"], num_machines=num_machines)
    except ValueError as err:
        return f"field 'input' does not parse: {err}"
    if instance.num_jobs != num_jobs:
        return f"field 'input' lists {instance.num_jobs} jobs but 'num_jobs' is {num_jobs}"
    stated = parse_instruction(record["instruction"])
    if stated is not None and stated != (num_jobs, num_machines):
        return f"field 'instruction' states {stated[0]} jobs and {stated[1]} machines, the record {num_jobs} and {num_machines}"
    return None


def _problems_batch(batch: dict[str, list]) -> dict[str, list]:
    names = list(batch)
    return {"problem": [record_problem(dict(zip(names, values))) for values in zip(*batch.values())]}


def find_invalid_records(dataset: Dataset, num_proc: int | None = None) -> list[tuple[int, str]]:
    """``(index, problem)`` of every invalid record (see ``record_problem``), in index order."""
    if any(name not in dataset.column_names for name in SPEC_FIELDS):
        missing = [name for name in SPEC_FIELDS if name not in dataset.column_names]
        return [(i, f"field(s) {', '.join(repr(m) for m in missing)} missing") for i in range(len(dataset))]
    checked = dataset.map(
        _problems_batch,
        batched=True,
        remove_columns=dataset.column_names,
        num_proc=num_proc,
        desc="Validating records",
    )
    problems = checked.with_format("arrow")["problem"].to_pylist()
    return [(i, problem) for i, problem in enumerate(problems) if problem is not None]


def format_problems(
    problems: Sequence[tuple[int, str]], parts: Sequence[SourcePart] = (), limit: int = MAX_PROBLEMS_SHOWN
):
    """One line per problem (the first ``limit``), each naming its record."""
    lines = [f"{describe_index(i, parts)}: {problem}" for i, problem in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more")
    return "\n".join(lines)


def validate_records(
    dataset: Dataset,
    skip_invalid: bool = False,
    num_proc: int | None = None,
    parts: Sequence[SourcePart] = (),
) -> tuple[Dataset, list[tuple[int, str]]]:
    """Check every record; return the valid ones and the ``(index, problem)`` of the others.

    An invalid record raises ``ValueError`` naming its index and the problem, unless ``skip_invalid``, which drops
    it and logs how many were dropped.
    """
    problems = find_invalid_records(dataset, num_proc=num_proc)
    if problems and not skip_invalid:
        raise ValueError(
            f"{len(problems)} of {len(dataset)} records are invalid (pass skip_invalid=True to drop them):\n"
            + format_problems(problems, parts)
        )
    if problems:
        logger.warning(
            "dropped %d invalid records of %d (skip_invalid=True); first: %s",
            len(problems), len(dataset), format_problems(problems[:3], parts, limit=3).replace("\n", "; "),
        )  # fmt: skip
        bad = {i for i, _ in problems}
        dataset = dataset.select([i for i in range(len(dataset)) if i not in bad])
    return dataset, problems


# ------------------------------------------------------------------------------------------------------ filters


def _size_mask(num_jobs: list[int], num_machines: list[int], max_jobs: int | None, max_machines: int | None):
    return [
        (max_jobs is None or n <= max_jobs) and (max_machines is None or m <= max_machines)
        for n, m in zip(num_jobs, num_machines)
    ]


def filter_by_size(
    dataset: Dataset, max_jobs: int | None = None, max_machines: int | None = None, num_proc: int | None = None
) -> tuple[Dataset, int]:
    """Keep the records with at most ``max_jobs`` jobs and ``max_machines`` machines; return them and how many
    were removed."""
    if max_jobs is None and max_machines is None:
        return dataset, 0
    kept = dataset.filter(
        _size_mask,
        batched=True,
        input_columns=["num_jobs", "num_machines"],
        fn_kwargs={"max_jobs": max_jobs, "max_machines": max_machines},
        num_proc=num_proc,
        desc="Filtering by size",
    )
    removed = len(dataset) - len(kept)
    logger.info("size filter (max_jobs=%s, max_machines=%s) removed %d records", max_jobs, max_machines, removed)
    return kept, removed


def select_subset(dataset: Dataset, subset_size: int | None, seed: int = DEFAULT_SEED) -> Dataset:
    """A seeded random sample of ``subset_size`` records, kept in their original order (all when ``None`` or larger)."""
    import numpy as np

    if subset_size is None or subset_size >= len(dataset):
        return dataset
    if subset_size < 1:
        raise ValueError(f"subset_size must be positive, got {subset_size}")
    indices = np.sort(np.random.default_rng(seed).choice(len(dataset), size=subset_size, replace=False))
    return dataset.select(indices.tolist())


def _eos_suffixed(text: str, eos_token: str | None) -> str:
    return text if not eos_token or text.endswith(eos_token) else text + eos_token


def training_token_length(example: Mapping, tokenizer) -> int:
    """Tokens ``SFTTrainer`` makes of one formatted example (before truncation), as its own preprocessing does:
    conversations through the chat template, text with the EOS token appended."""
    if "messages" in example:
        encoded = tokenizer.apply_chat_template(list(example["messages"]), tokenize=True, return_dict=True)
        return len(encoded["input_ids"])
    text = example["text"] if "text" in example else example["prompt"] + example["completion"]
    return len(tokenizer(_eos_suffixed(text, tokenizer.eos_token))["input_ids"])


def _token_length_batch(batch: dict[str, list], tokenizer, prompt_format: PromptFormat) -> dict[str, list]:
    names = list(batch)
    examples = [prompt_format.training_example(dict(zip(names, values))) for values in zip(*batch.values())]
    if prompt_format.template == "messages":
        return {"num_tokens": [training_token_length(example, tokenizer) for example in examples]}
    texts = [
        example["text"] if "text" in example else example["prompt"] + example["completion"] for example in examples
    ]
    encoded = tokenizer([_eos_suffixed(text, tokenizer.eos_token) for text in texts])["input_ids"]
    return {"num_tokens": [len(ids) for ids in encoded]}


def token_lengths(
    dataset: Dataset, tokenizer, prompt_format: PromptFormat | None = None, num_proc: int | None = None
) -> list[int]:
    """The training length in tokens of each record once formatted with ``prompt_format`` (see
    ``training_token_length``)."""
    counted = dataset.map(
        _token_length_batch,
        batched=True,
        fn_kwargs={"tokenizer": tokenizer, "prompt_format": prompt_format or PromptFormat()},
        remove_columns=dataset.column_names,
        num_proc=num_proc,
        desc="Counting tokens",
    )
    return counted.with_format("arrow")["num_tokens"].to_pylist()


def filter_by_token_length(
    dataset: Dataset,
    tokenizer,
    max_length: int,
    prompt_format: PromptFormat | None = None,
    num_proc: int | None = None,
) -> tuple[Dataset, int]:
    """Keep the records whose formatted training example fits in ``max_length`` tokens, so that none is truncated
    (a cut solution teaches a wrong one); return them and how many were removed (also logged)."""
    lengths = token_lengths(dataset, tokenizer, prompt_format, num_proc=num_proc)
    keep = [i for i, length in enumerate(lengths) if length <= max_length]
    removed = len(dataset) - len(keep)
    if removed:
        dataset = dataset.select(keep)
    longest = max(lengths, default=0)
    logger.warning(
        "token-length filter (max_length=%d) removed %d of %d records (longest: %d tokens)",
        max_length, removed, len(lengths), longest,
    )  # fmt: skip
    return dataset, removed


# ---------------------------------------------------------------------------------------------- output checking


@dataclass
class OutputQuality:
    """How the data's own solutions fare under the verifier (the Starjob records are CP-SAT solutions)."""

    num_records: int = 0
    num_parsed: int = 0
    num_feasible: int = 0
    num_declaring_makespan: int = 0
    num_makespan_matches: int = 0
    violations: dict[str, int] = field(default_factory=dict)
    # (index, first violation message) of the first infeasible or mismatching records
    examples: list[tuple[int, str]] = field(default_factory=list)

    @property
    def feasible_rate(self) -> float | None:
        return self.num_feasible / self.num_records if self.num_records else None

    @property
    def makespan_match_rate(self) -> float | None:
        """Records whose declared makespan equals the schedule's, over all records (as ``score_predictions``)."""
        return self.num_makespan_matches / self.num_records if self.num_records else None

    def to_dict(self) -> dict:
        return {**asdict(self), "feasible_rate": self.feasible_rate, "makespan_match_rate": self.makespan_match_rate}


def _verify_batch(batch: dict[str, list]) -> dict[str, list]:
    out: dict[str, list] = {name: [] for name in ("parsed", "feasible", "declared", "matches", "kinds", "message")}
    for text, output, num_machines in zip(batch["input"], batch["output"], batch["num_machines"]):
        report = verify_prediction(parse_instance(text, num_machines=num_machines), output)
        out["parsed"].append(report.parsed)
        out["feasible"].append(report.feasible)
        out["declared"].append(report.declared_makespan is not None)
        out["matches"].append(report.makespan_matches is True)
        out["kinds"].append([v.kind for v in report.violations])
        out["message"].append(report.violations[0].message if report.violations else None)
    return out


def check_outputs(
    dataset: Dataset,
    num_proc: int | None = None,
    source_indices: Sequence[int] | None = None,
    max_examples: int = MAX_PROBLEMS_SHOWN,
) -> OutputQuality:
    """Verify each (valid) record's ``output`` against its ``input`` and count feasibility and makespan matches.

    ``quality.examples`` name records by ``source_indices[i]`` when given (their index before invalid ones were
    dropped), else by their position in ``dataset``.
    """
    checked = dataset.map(
        _verify_batch,
        batched=True,
        remove_columns=dataset.column_names,
        num_proc=num_proc,
        desc="Verifying outputs",
    )
    columns = checked.with_format("arrow")[:]
    quality = OutputQuality(num_records=len(dataset))
    quality.num_parsed = sum(columns["parsed"].to_pylist())
    quality.num_feasible = sum(columns["feasible"].to_pylist())
    quality.num_declaring_makespan = sum(columns["declared"].to_pylist())
    quality.num_makespan_matches = sum(columns["matches"].to_pylist())
    violations: Counter = Counter()
    for kinds in columns["kinds"].to_pylist():
        violations.update(kinds)
    quality.violations = dict(sorted(violations.items()))
    for i, message in enumerate(columns["message"].to_pylist()):
        if message is not None and len(quality.examples) < max_examples:
            quality.examples.append((i if source_indices is None else source_indices[i], message))
    return quality


# -------------------------------------------------------------------------------------------------------- split


def split_train_test(
    dataset: Dataset, test_size: float | int = DEFAULT_TEST_SIZE, seed: int = DEFAULT_SEED
) -> DatasetDict:
    """``{"train", "test"}`` by ``Dataset.train_test_split`` (deterministic for a seed); ``{"train"}`` when
    ``test_size`` is 0. ``test_size`` is a fraction below 1 (rounded up, so at least one record is held out) or a number
    of records.
    """
    from datasets import DatasetDict

    if not test_size:
        return DatasetDict({"train": dataset})
    if isinstance(test_size, float) and test_size >= 1 and test_size.is_integer():
        test_size = int(test_size)  # a count given as a float (e.g. from a YAML config)
    if len(dataset) < 2:
        raise ValueError(f"cannot split {len(dataset)} record(s) into train and test; pass test_size=0")
    return dataset.train_test_split(test_size=test_size, seed=seed)


# ---------------------------------------------------------------------------------------------------- pipeline


@dataclass
class LoadReport:
    """What ``load_starjob`` read, dropped and kept, step by step."""

    source: str
    num_read: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)
    num_too_large: int = 0
    num_outside_subset: int = 0
    num_too_long: int = 0
    split_sizes: dict[str, int] = field(default_factory=dict)
    output_quality: OutputQuality | None = None

    @property
    def num_invalid(self) -> int:
        return len(self.invalid)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["num_invalid"] = self.num_invalid
        out["output_quality"] = self.output_quality.to_dict() if self.output_quality else None
        return out


def load_starjob(
    source: str | os.PathLike,
    *,
    split: str = "train",
    subset_size: int | None = None,
    max_jobs: int | None = None,
    max_machines: int | None = None,
    tokenizer=None,
    max_length: int | None = None,
    prompt_format: PromptFormat | None = None,
    test_size: float | int = DEFAULT_TEST_SIZE,
    seed: int = DEFAULT_SEED,
    skip_invalid: bool = False,
    verify_outputs: bool = False,
    num_proc: int | None = None,
    cache_dir: str | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
    return_report: bool = False,
) -> DatasetDict | tuple[DatasetDict, LoadReport]:
    """Starjob records from ``source``, validated, filtered and split into ``train``/``test`` (raw record columns).

    Steps, in order: read (``load_records``; ``split`` picks a Hub dataset's split) -> validate (an invalid record
    is a ``ValueError`` naming its index, unless ``skip_invalid``) -> optionally verify the outputs and log the
    data's feasibility and makespan-match rates (``verify_outputs``) -> keep sizes up to ``max_jobs`` x
    ``max_machines`` -> a seeded random ``subset_size`` -> drop records whose training example (formatted with
    ``prompt_format``, default prompt-completion) is longer than ``max_length`` tokens of ``tokenizer`` (last because
    it is the costly step, so it may leave fewer than ``subset_size``) -> split off ``test_size`` (the authors' 2%,
    seed 42; 0 for no test split). With ``return_report=True`` returns ``(DatasetDict, LoadReport)``, whose counts
    say what each step removed.
    """
    if (tokenizer is None) != (max_length is None):
        raise ValueError("the token-length filter needs both tokenizer and max_length")
    report = LoadReport(source=str(source))
    dataset, parts = load_source(source, split, cache_dir, num_proc, revision, token)
    report.num_read = len(dataset)
    logger.info("read %d records from %s", len(dataset), source)
    dataset, report.invalid = validate_records(dataset, skip_invalid=skip_invalid, num_proc=num_proc, parts=parts)
    if verify_outputs:
        invalid = {i for i, _ in report.invalid}
        kept = [i for i in range(report.num_read) if i not in invalid] if invalid else None
        report.output_quality = quality = check_outputs(dataset, num_proc=num_proc, source_indices=kept)
        logger.info(
            "the data's own solutions: %.2f%% feasible, %.2f%% declare the right makespan",
            100 * (quality.feasible_rate or 0), 100 * (quality.makespan_match_rate or 0),
        )  # fmt: skip
    dataset, report.num_too_large = filter_by_size(dataset, max_jobs, max_machines, num_proc=num_proc)
    before = len(dataset)
    dataset = select_subset(dataset, subset_size, seed)
    report.num_outside_subset = before - len(dataset)
    if tokenizer is not None:
        dataset, report.num_too_long = filter_by_token_length(
            dataset, tokenizer, max_length, prompt_format, num_proc=num_proc
        )
    if len(dataset) == 0:
        raise ValueError(f"{source}: no records left after validation and filtering ({report.to_dict()})")
    dataset_dict = split_train_test(dataset, test_size=test_size, seed=seed)
    report.split_sizes = {name: len(split_) for name, split_ in dataset_dict.items()}
    logger.info("Starjob splits: %s", report.split_sizes)
    return (dataset_dict, report) if return_report else dataset_dict


# -------------------------------------------------------------------------------------------------- formatting


def format_dataset(
    dataset: Dataset | DatasetDict, prompt_format: PromptFormat | None = None, num_proc: int | None = None
) -> Dataset | DatasetDict:
    """Raw records -> the training columns of ``prompt_format``'s template (``prompt``/``completion``,
    ``messages`` or ``text``), built by ``PromptFormat.training_example``; every raw column is removed so that
    ``SFTTrainer`` sees nothing else."""
    prompt_format = prompt_format or PromptFormat()
    columns = dataset.column_names
    if isinstance(columns, dict):  # a DatasetDict: every split has the same raw columns
        columns = next(iter(columns.values()), [])
    return dataset.map(
        prompt_format.training_example,
        remove_columns=columns,
        num_proc=num_proc,
        desc=f"Formatting ({prompt_format.template})",
    )
