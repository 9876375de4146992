"""The SFT trainer of every Starjob run (``jssp_sft.sft`` and each ``improve`` round): TRL's ``SFTTrainer`` with the
two Starjob levers.

- ``drop_long_examples``: an example longer than ``max_length`` tokens is dropped (and counted) instead of truncated,
  since a cut schedule teaches the model to stop mid-solution. The filter reads the trainer's own tokenized dataset
  (TRL's preprocessing, run without truncation), so lengths and masks are TRL's whatever its version.
- ``job_choice_loss_weight``: the job-choice tokens (``jssp_sft.training.job_choice``) count this many times in the
  training loss (1.0: exactly TRL's loss); ``job_token_accuracy`` is logged beside ``mean_token_accuracy``: how
  often the teacher-forced argmax over the whole vocabulary is the reference's job-number token (not ``diagnose``'s
  per-decision accuracy, whose argmax is over the unfinished jobs only).
"""

from __future__ import annotations

import copy
import logging

import torch
from trl import SFTTrainer

from .job_choice import JOB_CHOICE_MASK, JobChoiceCollator, JobChoiceMarker


logger = logging.getLogger(__name__)


class StarjobSFTTrainer(SFTTrainer):
    """``SFTTrainer`` that drops over-long examples (``drop_long_examples``) and weights the job-choice tokens in the
    training loss (``job_choice_loss_weight``); evaluation losses stay unweighted so that runs with different weights
    compare. ``num_dropped_long`` counts the examples dropped per dataset (``"train"``, ``"eval"``)."""

    def __init__(self, *args, drop_long_examples: bool = False, job_choice_loss_weight: float = 1.0, **kwargs):
        if job_choice_loss_weight < 0:
            raise ValueError(f"job_choice_loss_weight must be >= 0, got {job_choice_loss_weight}")
        self.drop_long_examples = drop_long_examples
        self.num_dropped_long: dict[str, int] = {}
        super().__init__(*args, **kwargs)
        self.job_choice_loss_weight = job_choice_loss_weight
        self.data_collator = JobChoiceCollator(self.data_collator, JobChoiceMarker(self.processing_class))

    def _prepare_dataset(self, dataset, processing_class, args, packing, formatting_func, dataset_name):
        """TRL's preparation; with ``drop_long_examples``, first without truncation or packing, then the examples
        longer than ``max_length`` are dropped, then packed if the run packs."""
        if not self.drop_long_examples or args.max_length is None:
            return super()._prepare_dataset(dataset, processing_class, args, packing, formatting_func, dataset_name)
        whole = copy.copy(args)
        whole.max_length = None
        prepared = super()._prepare_dataset(dataset, processing_class, whole, False, formatting_func, dataset_name)
        kept = prepared.filter(lambda ids: len(ids) <= args.max_length, input_columns=["input_ids"])
        if hasattr(prepared, "__len__"):  # a streamed dataset is filtered as it is read
            self.num_dropped_long[dataset_name] = dropped = len(prepared) - len(kept)
            logger.warning(
                "%s: dropped %d of %d examples longer than max_length=%d tokens (drop_long_examples)",
                dataset_name,
                dropped,
                len(prepared),
                args.max_length,
            )
            if not len(kept):
                raise ValueError(f"every {dataset_name} example is longer than max_length={args.max_length} tokens")
        if packing:
            return super()._prepare_dataset(kept, processing_class, args, packing, None, dataset_name)
        return kept

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
                metrics["job_token_accuracy"].append((right / num_choices).item())
        if mode == "train" and "attention_mask" in inputs:
            self._total_train_tokens += gather(inputs["attention_mask"].sum()).sum().item() // self._tp_size
        metrics["num_tokens"] = [self._total_train_tokens]
        return loss
