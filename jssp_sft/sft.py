"""Supervised fine-tuning on Starjob with TRL's ``SFTTrainer``, in the shape of ``trl/scripts/sft.py`` and open-r1.

    accelerate launch --config_file recipes/accelerate_configs/ddp.yaml -m jssp_sft.sft \\
        --config recipes/Qwen2.5-0.5B-Instruct/sft/config_lora.yaml [--any_field value]
    jssp-sft train --config recipes/tiny/sft/config.yaml

Resumes from the last checkpoint in ``output_dir``; saves the final model or adapter, the tokenizer, the trainer
state, ``train_results.json``/``eval_results.json`` and the prompt settings (``jssp_sft_prompt.json``) that
``solve`` reuses; pushes to the Hub with a model card when ``push_to_hub`` is set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .data.templates import PromptFormat
from .training.arguments import SFTScriptArguments, make_sft_parser
from .training.run import finish_run, resume_checkpoint, run_info_of, start_run, take_push, trainer_model


logger = logging.getLogger(__name__)


@dataclass
class SFTData:
    """The datasets of a run: formatted train/eval examples, the raw held-out records for the generation eval, and
    the prompt settings they were written with."""

    train: object
    eval: object | None
    eval_records: list[dict]
    prompt_format: PromptFormat


def load_sft_data(script_args: SFTScriptArguments, training_args, prompt_format: PromptFormat) -> SFTData:
    """Load, validate, filter and split Starjob records (``jssp_sft.data.loading``) and format them with
    ``prompt_format``; the trainer tokenizes them (and drops the long ones, ``drop_long_examples``)."""
    from .data.loading import format_dataset

    evaluating = training_args.eval_strategy != "no"
    raw = script_args.load_records(training_args, test_size=script_args.eval_split_size if evaluating else 0)
    formatted = format_dataset(raw, prompt_format)
    eval_dataset = formatted["test"] if "test" in formatted else None
    eval_records = []
    if eval_dataset is not None and script_args.generation_eval_problems > 0:
        held_out = raw["test"]
        eval_records = [held_out[i] for i in range(min(script_args.generation_eval_problems, len(held_out)))]
    train_dataset = formatted["train"]
    if script_args.stream_sizes is not None:
        from .data.stream import StreamSettings, training_stream

        settings = StreamSettings(
            script_args.stream_sizes,
            seed=script_args.stream_seed,
            max_duration=script_args.stream_max_duration,
            curriculum_records=script_args.curriculum_records,
        )
        train_dataset = training_stream(
            settings, prompt_format, num_shards=max(1, training_args.dataloader_num_workers)
        )
    return SFTData(train_dataset, eval_dataset, eval_records, prompt_format)


def build_trainer(script_args: SFTScriptArguments, training_args, model_args, callbacks: list | None = None):
    """The ``SFTTrainer`` of a run (``train`` and every ``improve`` round), with its data, levers and callbacks,
    before training: ``(trainer, data)``.

    ``training_args.push_to_hub`` is taken out of the trainer's hands (``train`` pushes once at the end, with our
    model card) and left on ``trainer.push_after_training``.
    """
    from transformers import EarlyStoppingCallback

    from .modeling.loading import ensure_training_chat_template
    from .training.callbacks import GenerationEvalCallback
    from .training.trainer import StarjobSFTTrainer

    prompt_format, tokenizer = start_run(script_args, training_args, model_args)
    if prompt_format.template == "messages" and training_args.assistant_only_loss:
        ensure_training_chat_template(tokenizer)
    data = load_sft_data(script_args, training_args, prompt_format)
    push_to_hub = take_push(training_args)
    trainer = StarjobSFTTrainer(
        **trainer_model(model_args, training_args),
        args=training_args,
        train_dataset=data.train,
        eval_dataset=data.eval,
        processing_class=tokenizer,
        callbacks=callbacks,
        drop_long_examples=script_args.drop_long_examples,
        job_choice_loss_weight=script_args.job_choice_loss_weight,
    )
    trainer.push_after_training = push_to_hub
    if data.eval_records:
        trainer.add_callback(
            GenerationEvalCallback(
                trainer,
                data.eval_records,
                prompt_format,
                script_args.sampling_settings(),
                num_samples=script_args.generation_eval_num_samples,
                batch_size=script_args.generation_eval_batch_size,
                seed=training_args.seed,
                decoding=script_args.generation_eval_decoding,
            )
        )
    if script_args.early_stopping_patience is not None:
        trainer.add_callback(
            EarlyStoppingCallback(script_args.early_stopping_patience, script_args.early_stopping_threshold)
        )
    return trainer, data


def train(
    script_args: SFTScriptArguments,
    training_args,
    model_args,
    callbacks: list | None = None,
    run_info: dict | None = None,
):
    """Train, evaluate, save (and push) one run; returns the trainer. ``callbacks`` are added to the trainer's;
    ``run_info`` entries are added to the saved run info (``jssp_sft_run.json``)."""
    trainer, data = build_trainer(script_args, training_args, model_args, callbacks)
    train_result = trainer.train(resume_from_checkpoint=resume_checkpoint(training_args))
    run_info = {**run_info_of(script_args, model_args, training_args), **(run_info or {})}
    # a streamed train set has no length: count the examples the steps consumed
    batch = training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps
    streamed = trainer.state.global_step * batch * training_args.world_size
    num_train = len(data.train) if hasattr(data.train, "__len__") else streamed
    finish_run(trainer, train_result, num_train, data.prompt_format, run_info, data.eval)
    return trainer


def main(script_args: SFTScriptArguments, training_args, model_args) -> int:
    """``jssp-sft train`` / ``python -m jssp_sft.sft``: one run, exit status 0."""
    train(script_args, training_args, model_args)
    return 0


def make_parser(prog: str | None = None):
    """``jssp-sft train``: the same parser as ``python -m jssp_sft.sft``."""
    return make_sft_parser(prog)


if __name__ == "__main__":
    main(*make_parser().parse_args_and_config())
