"""Trainer callbacks: a generation eval that solves held-out problems and logs feasibility and gap beside the loss.

Eval loss says little about whether schedules come out feasible; this callback generates answers for a few held-out
problems at every evaluation, scores them with ``jssp_sft.core.scoring.score_predictions`` (the metric's core function)
and logs ``eval_parse_rate``, ``eval_feasible_rate``, ``eval_mean_gap``, ... through ``Trainer.log``, so that
whatever ``report_to`` names (trackio, tensorboard, wandb) records them, and ``metric_for_best_model`` and early
stopping can use them. Beside the gap, the seeded random control on the same problems with the same number of
samples (``jssp_sft.solvers.controls.random_control``): ``eval_random_gap`` (its mean gap per sample) and
``eval_lift`` (its gap minus the model's, paired over the model's feasible samples: positive is better than chance).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from transformers import TrainerCallback

from ..core.codec import parse_instance, record_makespan
from ..core.scoring import gap, mean, score_predictions
from ..data.templates import PromptFormat, problem_text
from ..solve.guaranteed import guaranteed_generate
from ..solve.sampling import SamplingSettings, generate


logger = logging.getLogger(__name__)

GENERATIONS_DIR = "generations"


class GenerationEvalCallback(TrainerCallback):
    """At each evaluation, solve ``problems`` (Starjob records) with the model and log the metric's numbers.

    The problems are split between processes, generated with ``jssp_sft.solve.sampling.generate`` on the model
    unwrapped for generation (DDP/FSDP/ZeRO-3), gathered and scored on every process, so that every process sees the
    same numbers. The answers of each evaluation are written to ``output_dir/generations/step-N.jsonl``. With
    ``decoding="guaranteed"`` the model only chooses jobs (``jssp_sft.solve.guaranteed``, in the run's answer format):
    every answer is feasible and the gap measures the choices.
    """

    def __init__(
        self,
        trainer,
        problems: Sequence[Mapping],
        prompt_format: PromptFormat,
        settings: SamplingSettings | None = None,
        num_samples: int = 1,
        batch_size: int = 8,
        seed: int = 0,
        decoding: str = "free",
    ):
        if decoding not in ("free", "guaranteed"):
            raise ValueError(f"unknown generation eval decoding {decoding!r}; choose free or guaranteed")
        self.decoding = decoding
        self.trainer = trainer
        self.problems = list(problems)
        self.prompt_format = prompt_format
        self.settings = settings or SamplingSettings(do_sample=False)
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.seed = seed
        self.references = [problem_text(p) for p in self.problems]
        self.reference_makespans = [record_makespan(p) for p in self.problems]
        self.random_gaps = self._random_gaps()

    def _random_gaps(self) -> list[list[float] | None]:
        """Per problem, the random control's gap of each of ``num_samples`` samples (``None`` without a reference).

        Seeded by the controls' one rule (``jssp_sft.solvers.controls.instance_seed``), so the row is the one a
        report would show."""
        from ..solvers.controls import random_control

        gaps = []
        for problem, reference in zip(self.problems, self.reference_makespans):
            if not reference:
                gaps.append(None)
                continue
            instance = parse_instance(problem["input"], num_machines=problem.get("num_machines"))
            drawn = random_control(instance, self.num_samples, seed=self.seed).makespans
            gaps.append([gap(makespan, reference) for makespan in drawn])
        return gaps

    def _score(self, texts, num_tokens, finished) -> dict[str, float]:
        n = self.num_samples
        predictions = [t for row in texts for t in row]
        scores = score_predictions(
            predictions,
            [r for r in self.references for _ in range(n)],
            [m for m in self.reference_makespans for _ in range(n)],
            return_details=True,
        )
        # Paired with the random control's sample of the same problem and index, over the model's feasible samples.
        lifts = [
            self.random_gaps[k // n][k % n] - detail["gap"]
            for k, detail in enumerate(scores["details"])
            if detail["gap"] is not None and self.random_gaps[k // n] is not None
        ]
        metrics = {
            "eval_parse_rate": scores["parse_rate"],
            "eval_feasible_rate": scores["feasible_rate"],
            "eval_valid_rate": scores["valid_rate"],
            "eval_mean_gap": scores["mean_gap"],
            "eval_random_gap": mean([g for gaps in self.random_gaps if gaps for g in gaps]),
            "eval_lift": mean(lifts),
            "eval_finished_rate": sum(f for row in finished for f in row) / len(predictions),
            "eval_mean_new_tokens": sum(t for row in num_tokens for t in row) / len(predictions),
        }
        # Loggers want numbers: a gap exists only once some answer is feasible.
        return {k: float(v) for k, v in metrics.items() if v is not None}

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not self.problems:
            return
        from accelerate.utils import gather_object
        from trl.models.utils import unwrap_model_for_generation

        accelerator = self.trainer.accelerator
        tokenizer = self.trainer.processing_class
        indices = list(range(len(self.problems)))
        with accelerator.split_between_processes(indices) as mine:
            with unwrap_model_for_generation(
                self.trainer.model_wrapped,
                accelerator,
                gradient_checkpointing_kwargs=args.gradient_checkpointing_kwargs,
            ) as model:
                prompts = [self.prompt_format.prompt_text(self.problems[i], tokenizer) for i in mine]
                if self.decoding == "guaranteed":
                    out = guaranteed_generate(
                        model,
                        tokenizer,
                        prompts,
                        self.num_samples,
                        self.settings,
                        self.batch_size,
                        self.seed,
                        instances=[parse_instance(self.problems[i]["input"]) for i in mine],
                        **self.prompt_format.decoding_options(),
                    )
                else:
                    out = generate(
                        model, tokenizer, prompts, self.num_samples, self.settings, self.batch_size, self.seed
                    )
            local = [(i, t, k, f) for i, t, k, f in zip(mine, out.texts, out.num_tokens, out.finished)]
        gathered = sorted(gather_object(local) if accelerator.num_processes > 1 else local)
        texts, num_tokens, finished = ([row[j] for row in gathered] for j in (1, 2, 3))
        new_metrics = self._score(texts, num_tokens, finished)
        if metrics is not None:
            metrics.update(new_metrics)  # seen by metric_for_best_model and early stopping
        self.trainer.log(new_metrics)
        if state.is_world_process_zero:
            self._save_generations(args.output_dir, state.global_step, texts)
        logger.info("generation eval at step %d: %s", state.global_step, new_metrics)

    def _save_generations(self, output_dir: str, step: int, texts: list[list[str]]) -> None:
        path = Path(output_dir) / GENERATIONS_DIR / f"step-{step}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w") as f:
            for reference, makespan, samples in zip(self.references, self.reference_makespans, texts):
                f.write(json.dumps({"problem": reference, "reference_makespan": makespan, "samples": samples}) + "\n")
