"""The job-choice tokens of a Starjob answer, marked in every batch (weighted in the loss and scored by
``jssp_sft.training.trainer.StarjobSFTTrainer``).

In an answer ``J2-M3: 0+13 -> 13, J1-M0: ...`` only the job numbers after each ``J`` are decisions; the machine,
start, duration and end follow from them (guaranteed decoding forces them). In the candidates answer format the
decision is the label that ends each candidate line (``... =B``), and the operation line after it follows
(``jssp_sft.core.answers.decision_spans``). ``JobChoiceCollator`` wraps the trainer's own collator and adds a boolean
``job_choice_mask`` over the tokens that spell the decisions (only in the trained part of each row, after
``Solution:``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..core.answers import decision_spans


JOB_CHOICE_MASK = "job_choice_mask"
_SOLUTION = "Solution:"


@dataclass
class JobChoiceMarker:
    """Finds the job-choice tokens of token rows, reading each token's text off ``tokenizer`` (cached per id)."""

    tokenizer: Any
    _surfaces: dict[int, str] = field(default_factory=dict, repr=False)

    def surface(self, token_id: int) -> str:
        text = self._surfaces.get(token_id)
        if text is None:
            text = self._surfaces[token_id] = self.tokenizer.decode([token_id])
        return text

    def row_mask(self, input_ids: list[int], trained: list[bool]) -> list[bool]:
        """Which positions spell a job number after ``Solution:`` within the trained (``trained``) tokens."""
        owners: list[int] = []  # the position of each character of the trained text
        pieces: list[str] = []
        for position, (token_id, keep) in enumerate(zip(input_ids, trained)):
            if keep:
                text = self.surface(token_id)
                pieces.append(text)
                owners.extend([position] * len(text))
        text = "".join(pieces)
        mask = [False] * len(input_ids)
        start = text.find(_SOLUTION)
        while start != -1:
            end = text.find(_SOLUTION, start + 1)
            for first, last in decision_spans(text, start, end if end != -1 else len(text)):
                for char in range(first, last):
                    mask[owners[char]] = True
            start = end
        return mask

    def mask(self, input_ids: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """A boolean tensor shaped like ``input_ids``: the job-choice tokens among those with a label."""
        trained = (labels != -100).tolist()
        rows = [self.row_mask(ids, keep) for ids, keep in zip(input_ids.tolist(), trained)]
        return torch.tensor(rows, dtype=torch.bool, device=input_ids.device).reshape(input_ids.shape)


@dataclass
class JobChoiceCollator:
    """The trainer's collator plus ``job_choice_mask`` (``JobChoiceMarker.mask`` of its ``input_ids`` and ``labels``)."""

    collator: Any
    marker: JobChoiceMarker

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.collator(examples)
        batch[JOB_CHOICE_MASK] = self.marker.mask(batch["input_ids"], batch["labels"])
        return batch
