"""Fresh training records, labelled by CP-SAT as training consumes them, instead of a fixed set.

Labelling a tiny instance costs milliseconds (``jssp_sft.data.generator``: about 7 ms for 4x4, 35 ms for 6x6 on one
core), far less than a training step, so a run can see a new instance at every example. Record ``i`` of a stream is
``generate_record`` of index ``i`` (its instance and its label depend only on the settings and ``i``), so a stream is
reproducible and two runs with the same settings see the same examples in the same order.

Curriculum by size: with ``curriculum_records`` N > 0, records ``0..N-1`` come from the first size entry, the next N
from the second, and so on, the last entry thereafter; with 0, record ``i`` comes from entry ``i mod entries``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from .generator import GenerateArguments, generate_record, parse_sizes
from .templates import PromptFormat


@dataclass(frozen=True)
class StreamSettings:
    """What a stream generates: sizes (generator syntax, ``"4x4"`` or ``"3x3,4x4"``), seed, durations, curriculum."""

    sizes: str
    seed: int = 1
    max_duration: int | None = 99
    curriculum_records: int = 0
    time_limit: float = 10.0

    def __post_init__(self):
        parse_sizes(self.sizes)  # a bad entry fails here, naming itself
        if self.curriculum_records < 0:
            raise ValueError(f"curriculum_records must be >= 0, got {self.curriculum_records}")

    def _generator_args(self, sizes: str) -> GenerateArguments:
        return GenerateArguments(
            output="", sizes=sizes, seed=self.seed, max_duration=self.max_duration, time_limit=self.time_limit
        )

    def record(self, index: int) -> dict:
        """Record ``index`` of the stream (CP-SAT-labelled, checked by the generator)."""
        if self.curriculum_records:
            specs = parse_sizes(self.sizes)
            stage = min(index // self.curriculum_records, len(specs) - 1)
            return generate_record(self._generator_args(str(specs[stage])), index)
        return generate_record(self._generator_args(self.sizes), index)


def stream_records(settings: StreamSettings, start: int = 0, step: int = 1) -> Iterator[dict]:
    """Records ``start, start + step, ...`` of the stream, without end."""
    for index in itertools.count(start, step):
        yield settings.record(index)


def _examples(settings: StreamSettings, prompt_format: PromptFormat, shards: list[int], num_shards: int):
    for shard in shards:  # one shard per dataloader worker: worker k labels records k, k + n, k + 2n, ...
        for record in stream_records(settings, start=shard, step=num_shards):
            yield prompt_format.training_example(record)


def training_stream(settings: StreamSettings, prompt_format: PromptFormat, num_shards: int = 1):
    """An endless ``datasets.IterableDataset`` of formatted training examples (the template's columns only).

    ``num_shards`` > 1 splits the stream among dataloader workers (``dataloader_num_workers``), each labelling its
    own records, so that labelling overlaps training.
    """
    from datasets import IterableDataset

    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    return IterableDataset.from_generator(
        _examples,
        gen_kwargs={
            "settings": settings,
            "prompt_format": prompt_format,
            "shards": list(range(num_shards)),
            "num_shards": num_shards,
        },
    )
