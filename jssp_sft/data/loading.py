"""Load Starjob records from any source into a validated, filtered, split ``DatasetDict``, and format it for TRL.

``load_starjob(source, ...)`` composes the steps of the data package, each a function of its own so that training
scripts can compose them with their own arguments: read (``sources.load_source``: local ``.json``/``.jsonl``/
``.parquet``, a directory of those, or a Hub dataset id), validate (``validation.validate_records``), verify the
outputs (``quality.check_outputs``), filter by size, take a seeded subset, split. ``format_dataset`` then maps raw
records to the columns ``SFTTrainer`` expects, through ``templates.PromptFormat``; the trainer tokenizes them and drops
the examples longer than ``max_length`` (``jssp_sft.training.trainer``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .json_stream import JsonFileError, iter_json_records
from .quality import OutputQuality, check_outputs
from .records import SPEC_FIELDS, normalize_record, starjob_features
from .sources import SourceNotFoundError, SourcePart, describe_index, is_hub_id, load_records, load_source
from .templates import PromptFormat
from .tokenization import token_lengths, training_token_length
from .validation import find_invalid_records, format_problems, record_problem, validate_records


if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict


__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_TEST_SIZE",
    "SPEC_FIELDS",
    "JsonFileError",
    "LoadReport",
    "OutputQuality",
    "SourceNotFoundError",
    "SourcePart",
    "check_outputs",
    "describe_index",
    "filter_by_size",
    "find_invalid_records",
    "format_dataset",
    "format_problems",
    "is_hub_id",
    "iter_json_records",
    "load_records",
    "load_source",
    "load_starjob",
    "normalize_record",
    "record_problem",
    "select_subset",
    "split_train_test",
    "starjob_features",
    "token_lengths",
    "training_token_length",
    "validate_records",
]

logger = logging.getLogger(__name__)

# The Starjob authors held out 2% of the records for evaluation, split with seed 42.
DEFAULT_TEST_SIZE = 0.02
DEFAULT_SEED = 42


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
    """A seeded random sample of ``subset_size`` records, kept in their original order (all when ``None`` or
    larger)."""
    import numpy as np

    if subset_size is None or subset_size >= len(dataset):
        return dataset
    if subset_size < 1:
        raise ValueError(f"subset_size must be positive, got {subset_size}")
    indices = np.sort(np.random.default_rng(seed).choice(len(dataset), size=subset_size, replace=False))
    return dataset.select(indices.tolist())


def split_train_test(
    dataset: Dataset, test_size: float | int = DEFAULT_TEST_SIZE, seed: int = DEFAULT_SEED
) -> DatasetDict:
    """``{"train", "test"}`` by ``Dataset.train_test_split`` (deterministic for a seed); ``{"train"}`` when
    ``test_size`` is 0. ``test_size`` is a fraction below 1 (rounded up, so at least one record is held out) or a
    number of records.
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
    split_sizes: dict[str, int] = field(default_factory=dict)
    output_quality: OutputQuality | None = None

    @property
    def num_invalid(self) -> int:
        return len(self.invalid)

    @property
    def num_unsolved(self) -> int:
        """Invalid records whose ``output`` holds no parseable solution (a subset of ``invalid``)."""
        return sum("holds no parseable solution" in problem for _, problem in self.invalid)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["num_invalid"] = self.num_invalid
        out["num_unsolved"] = self.num_unsolved
        out["output_quality"] = self.output_quality.to_dict() if self.output_quality else None
        return out


def load_starjob(
    source: str | os.PathLike,
    *,
    split: str = "train",
    subset_size: int | None = None,
    max_jobs: int | None = None,
    max_machines: int | None = None,
    test_size: float | int = DEFAULT_TEST_SIZE,
    seed: int = DEFAULT_SEED,
    skip_invalid: bool = False,
    require_solution: bool = True,
    verify_outputs: bool = False,
    num_proc: int | None = None,
    cache_dir: str | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
    return_report: bool = False,
) -> DatasetDict | tuple[DatasetDict, LoadReport]:
    """Starjob records from ``source``, validated, filtered and split into ``train``/``test`` (raw record columns).

    Steps, in order: read (``load_source``; ``split`` picks a Hub dataset's split) -> validate (an invalid record,
    including one whose ``output`` holds no parseable solution, is a ``ValueError`` naming its index and file line,
    unless ``skip_invalid`` drops and counts it; ``require_solution=False`` keeps records without a solution, for
    their prompts) -> optionally verify the outputs and log the data's feasibility and makespan-match rates
    (``verify_outputs``) -> keep sizes up to ``max_jobs`` x ``max_machines`` -> a seeded random ``subset_size`` ->
    split off ``test_size`` (the authors' 2%, seed 42; 0 for no test split). With ``return_report=True`` returns
    ``(DatasetDict, LoadReport)``, whose counts say what each step removed.
    """
    report = LoadReport(source=str(source))
    dataset, parts = load_source(source, split, cache_dir, num_proc, revision, token)
    report.num_read = len(dataset)
    logger.info("read %d records from %s", len(dataset), source)
    dataset, report.invalid = validate_records(
        dataset, skip_invalid=skip_invalid, num_proc=num_proc, parts=parts, require_solution=require_solution
    )
    if report.num_unsolved:
        logger.warning("%d records hold no parseable solution in 'output' (dropped)", report.num_unsolved)
    if verify_outputs:
        invalid = {i for i, _ in report.invalid}
        kept = [i for i in range(report.num_read) if i not in invalid] if invalid else None
        report.output_quality = quality = check_outputs(dataset, num_proc=num_proc, source_indices=kept)
        logger.info(
            "the data's own solutions: %.2f%% feasible, %.2f%% declare the right makespan",
            100 * (quality.feasible_rate or 0),
            100 * (quality.makespan_match_rate or 0),
        )
    dataset, report.num_too_large = filter_by_size(dataset, max_jobs, max_machines, num_proc=num_proc)
    before = len(dataset)
    dataset = select_subset(dataset, subset_size, seed)
    report.num_outside_subset = before - len(dataset)
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
    from datasets import DatasetDict

    prompt_format = prompt_format or PromptFormat()
    if isinstance(dataset, DatasetDict):
        return DatasetDict({name: format_dataset(split, prompt_format, num_proc) for name, split in dataset.items()})
    return dataset.map(
        _training_examples,
        batched=True,
        fn_kwargs={"prompt_format": prompt_format},
        remove_columns=dataset.column_names,
        num_proc=num_proc,
        new_fingerprint=_format_fingerprint(dataset, prompt_format),
        desc=f"Formatting ({prompt_format.template}, {prompt_format.answer_format} answers)",
    )


def _format_fingerprint(dataset: Dataset, prompt_format: PromptFormat) -> str:
    """The formatted dataset's cache key: the records', the prompt settings' and the source of the code that writes
    answers. ``datasets`` would hash the map function alone, so an edit of the answer writer (a candidate line's
    fields, say) would silently reuse examples written by the old code."""
    from ..core import answers, builder, candidates, codec
    from . import templates

    digest = hashlib.sha256(f"{dataset._fingerprint}:{json.dumps(asdict(prompt_format), sort_keys=True)}".encode())
    for module in (answers, builder, candidates, codec, templates):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:32]


def _training_examples(batch: dict[str, list], prompt_format: PromptFormat) -> dict[str, list]:
    """``PromptFormat.training_example`` of every record of a batch, as columns (one batched pass: ``datasets``
    builds no dictionary per record)."""
    names = list(batch)
    examples = [prompt_format.training_example(dict(zip(names, values))) for values in zip(*batch.values())]
    keys = examples[0].keys() if examples else ()
    return {key: [example[key] for example in examples] for key in keys}
