"""The job-choice tokens of a Starjob answer: marked in every batch, weighted in the loss, scored as an accuracy.

In an answer ``J2-M3: 0+13 -> 13, J1-M0: ...`` only the job numbers after each ``J`` are decisions; the machine,
start, duration and end follow from them (guaranteed decoding forces them). ``JobChoiceCollator`` wraps the trainer's
own collator and adds a boolean ``job_choice_mask`` over the tokens that spell those job numbers (only in the trained
part of each row, after ``Solution:``). ``JobChoiceSFTTrainer`` is TRL's ``SFTTrainer`` whose loss counts those tokens
``job_choice_loss_weight`` times (1.0: exactly TRL's loss) and which logs ``job_choice_accuracy``: how often the
teacher-forced argmax is the reference's next job, the per-decision accuracy to read beside chance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import torch
from trl import SFTTrainer


JOB_CHOICE_MASK = "job_choice_mask"
_SOLUTION = "Solution:"
_JOB_NUMBER_RE = re.compile(r"J(\d+)")


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
            for match in _JOB_NUMBER_RE.finditer(text, start, end if end != -1 else len(text)):
                for char in range(match.start(1), match.end(1)):
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


class JobChoiceSFTTrainer(SFTTrainer):
    """``SFTTrainer`` whose training loss weights the job-choice tokens and which logs ``job_choice_accuracy``.

    The loss is TRL's (sum of token losses over the number of trained tokens) with each job-choice token counted
    ``job_choice_loss_weight`` times; evaluation losses stay unweighted so that runs with different weights compare.
    """

    def __init__(self, *args, job_choice_loss_weight: float = 1.0, **kwargs):
        if job_choice_loss_weight < 0:
            raise ValueError(f"job_choice_loss_weight must be >= 0, got {job_choice_loss_weight}")
        super().__init__(*args, **kwargs)
        self.job_choice_loss_weight = job_choice_loss_weight
        self.data_collator = JobChoiceCollator(self.data_collator, JobChoiceMarker(self.processing_class))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        job_mask = inputs.pop(JOB_CHOICE_MASK, None)
        if job_mask is None or return_outputs or "labels" not in inputs or "shift_labels" in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        mode = "train" if self.model.training else "eval"
        inputs["use_cache"] = False
        outputs = model(**inputs, fused_lm_head=True)
        chosen = job_mask[:, 1:].to(outputs.log_probs.dtype)  # log_probs[:, t] scores the token at t + 1
        weight = self.job_choice_loss_weight if mode == "train" else 1.0
        per_token_loss = -outputs.log_probs * (1.0 + (weight - 1.0) * chosen)
        num_tokens = outputs.label_mask.sum() if num_items_in_batch is None else num_items_in_batch
        loss = per_token_loss.sum() / torch.as_tensor(num_tokens).clamp(min=1)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None:
            loss = loss * (self.accelerator.num_processes // self.get_tp_size())

        gather = self.accelerator.gather_for_metrics
        num_valid = gather(outputs.label_mask.sum()).sum()
        metrics = self._metrics[mode]
        if outputs.entropy is not None:
            entropy = gather(outputs.entropy.detach().sum()).sum()
            metrics["entropy"].append((entropy / num_valid).item() if num_valid > 0 else 0.0)
        if outputs.is_top1 is not None:
            correct = gather(outputs.is_top1.sum()).sum()
            metrics["mean_token_accuracy"].append((correct / num_valid).item() if num_valid > 0 else 0.0)
            num_choices = gather(chosen.sum()).sum()
            if num_choices > 0:
                right = gather((outputs.is_top1.to(chosen.dtype) * chosen).sum()).sum()
                metrics["job_choice_accuracy"].append((right / num_choices).item())
        if mode == "train" and "attention_mask" in inputs:
            self._total_train_tokens += gather(inputs["attention_mask"].sum()).sum().item() // self._tp_size
        metrics["num_tokens"] = [self._total_train_tokens]
        return loss
