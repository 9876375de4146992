"""Supervised fine-tuning on Starjob with TRL's ``SFTTrainer``, in the shape of ``trl/scripts/sft.py`` and open-r1.

    accelerate launch --config_file recipes/accelerate_configs/ddp.yaml -m jssp_sft.sft \\
        --config recipes/Qwen2.5-0.5B-Instruct/sft/config_lora.yaml [--any_field value]
    jssp-sft train --config recipes/tiny/sft/config.yaml

Resumes from the last checkpoint in ``output_dir``; saves the final model or adapter, the tokenizer, the trainer
state, ``train_results.json``/``eval_results.json`` and the prompt settings (``jssp_sft_prompt.json``) that
``solve`` reuses; pushes to the Hub with a model card when ``push_to_hub`` is set.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .training.arguments import SFTScriptArguments, make_sft_parser
from .training.hub import RUN_INFO_FILE


logger = logging.getLogger(__name__)


@dataclass
class SFTData:
    """The datasets of a run: formatted train/eval examples, and the raw held-out records for the generation eval."""

    train: object
    eval: object | None
    eval_records: list[dict]


def load_sft_data(script_args: SFTScriptArguments, training_args, tokenizer) -> SFTData:
    """Load, validate, filter and split Starjob records (``jssp_sft.data.loading``) and format them with the run's template."""
    from .data.loading import format_dataset, load_starjob

    prompt_format = script_args.prompt_format()
    length_filter = script_args.drop_long_examples and training_args.max_length is not None
    evaluating = training_args.eval_strategy != "no"
    raw = load_starjob(
        script_args.dataset_name,
        split=script_args.dataset_train_split,
        subset_size=script_args.dataset_subset_size,
        max_jobs=script_args.max_jobs,
        max_machines=script_args.max_machines,
        tokenizer=tokenizer if length_filter else None,
        max_length=training_args.max_length if length_filter else None,
        prompt_format=prompt_format,
        test_size=script_args.eval_split_size if evaluating else 0,
        seed=training_args.data_seed if training_args.data_seed is not None else training_args.seed,
    )
    formatted = format_dataset(raw, prompt_format)
    eval_dataset = formatted["test"] if "test" in formatted else None
    eval_records = []
    if eval_dataset is not None and script_args.generation_eval_problems > 0:
        held_out = raw["test"]
        eval_records = [held_out[i] for i in range(min(script_args.generation_eval_problems, len(held_out)))]
    return SFTData(formatted["train"], eval_dataset, eval_records)


def model_init_kwargs(model_args, training_args) -> dict:
    """``from_pretrained`` keyword arguments from ``ModelConfig`` (as TRL's script builds them)."""
    kwargs = {
        "revision": model_args.model_revision,
        "attn_implementation": model_args.attn_implementation,
        "dtype": model_args.dtype,
    }
    if training_args.model_init_kwargs is not None:
        kwargs.update(training_args.model_init_kwargs)
    return kwargs


def last_checkpoint(output_dir: str) -> str | None:
    """The newest ``checkpoint-N`` in ``output_dir`` (open-r1's resume rule), or ``None``."""
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(output_dir) if os.path.isdir(output_dir) else None


def setup_logging(training_args) -> None:
    """Log format and levels of a training process (the main process logs at info, the others at warning)."""
    import datasets
    import transformers

    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    level = training_args.get_process_log_level()
    logging.getLogger("jssp_sft").setLevel(level)
    datasets.utils.logging.set_verbosity(level)
    transformers.utils.logging.set_verbosity(level)
    transformers.utils.logging.enable_default_handler()
    transformers.utils.logging.enable_explicit_format()


def build_trainer(script_args: SFTScriptArguments, training_args, model_args, callbacks: list | None = None):
    """The ``SFTTrainer`` of a run, with its data and callbacks, before training: ``(trainer, data)``.

    ``training_args.push_to_hub`` is taken out of the trainer's hands (``train`` pushes once at the end, with our
    model card) and left on ``trainer.push_after_training``.
    """
    from transformers import EarlyStoppingCallback, set_seed
    from trl import SFTTrainer, get_peft_config, get_quantization_config

    from .modeling.loading import ensure_training_chat_template, load_tokenizer
    from .training.callbacks import GenerationEvalCallback

    setup_logging(training_args)
    set_seed(training_args.seed)
    logger.warning(
        "process rank %d of %d (%s), device %s",
        training_args.process_index, training_args.world_size,
        training_args.distributed_state.distributed_type, training_args.device,
    )  # fmt: skip
    logger.info("model %s, script %s", model_args, script_args)

    prompt_format = script_args.prompt_format()
    tokenizer = load_tokenizer(
        model_args.model_name_or_path, model_args.model_revision, training_args.trust_remote_code
    )
    if prompt_format.template == "messages" and training_args.assistant_only_loss:
        ensure_training_chat_template(tokenizer)
    data = load_sft_data(script_args, training_args, tokenizer)

    training_args.model_init_kwargs = model_init_kwargs(model_args, training_args)
    # One pushing path for `jssp-sft train` and `jssp-sft push`: the run is pushed once at the end, with our card.
    push_to_hub, training_args.push_to_hub = training_args.push_to_hub, False
    trainer = SFTTrainer(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=data.train,
        eval_dataset=data.eval,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
        quantization_config=get_quantization_config(model_args),
        callbacks=callbacks,
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
            )
        )
    if script_args.early_stopping_patience is not None:
        trainer.add_callback(
            EarlyStoppingCallback(script_args.early_stopping_patience, script_args.early_stopping_threshold)
        )
    return trainer, data


def train(script_args: SFTScriptArguments, training_args, model_args, callbacks: list | None = None):
    """Train, evaluate, save (and push) one run; returns the trainer. ``callbacks`` are added to the trainer's."""
    trainer, data = build_trainer(script_args, training_args, model_args, callbacks)
    checkpoint = training_args.resume_from_checkpoint or last_checkpoint(training_args.output_dir)
    if checkpoint is not None:
        logger.info("resuming from %s", checkpoint)
    train_result = trainer.train(resume_from_checkpoint=checkpoint)
    run_info = run_info_of(script_args, model_args, training_args)
    finish_run(trainer, train_result, len(data.train), script_args.prompt_format(), run_info, data.eval)
    return trainer


def finish_run(trainer, train_result, num_train: int, prompt_format, run_info: dict, eval_dataset=None):
    """The end of a training run (SFT or GRPO): metrics, state, model, prompt settings and run info saved, the final
    evaluation, and the push to the Hub with our model card when the recipe asked for it (``push_after_training``).
    """
    from .training.hub import push_run

    training_args = trainer.args
    metrics = dict(train_result.metrics, train_samples=num_train)
    trainer.log_metrics("train", metrics)
    trainer.save_metrics("train", metrics)
    trainer.save_state()
    trainer.save_model(training_args.output_dir)
    if trainer.accelerator.is_main_process:
        prompt_format.save_pretrained(training_args.output_dir)
        (Path(training_args.output_dir) / RUN_INFO_FILE).write_text(json.dumps(run_info, indent=2, default=str) + "\n")
        trainer.model.config.use_cache = True
        if not hasattr(trainer.model, "peft_config"):
            trainer.model.config.save_pretrained(training_args.output_dir)

    if eval_dataset is not None:
        eval_metrics = trainer.evaluate()
        eval_metrics["eval_samples"] = len(eval_dataset)
        trainer.log_metrics("eval", eval_metrics)
        trainer.save_metrics("eval", eval_metrics)

    if getattr(trainer, "push_after_training", False) and trainer.accelerator.is_main_process:
        url = push_run(
            training_args.output_dir,
            repo_id=training_args.hub_model_id or Path(training_args.output_dir).name,
            private=training_args.hub_private_repo,
            token=training_args.hub_token,
            revision=training_args.hub_revision,
        )
        logger.info("pushed to %s", url)
    trainer.accelerator.wait_for_everyone()
    if hasattr(trainer, "end"):
        trainer.end()  # transformers >= 5.18: finish the trackers and the process group


def main(script_args: SFTScriptArguments, training_args, model_args) -> int:
    """``jssp-sft train`` / ``python -m jssp_sft.sft``: one run, exit status 0."""
    train(script_args, training_args, model_args)
    return 0


def run_info_of(script_args, model_args, training_args) -> dict:
    """What the model card needs later (``jssp_sft_run.json``): the recipe, base model, dataset and settings."""
    training = {k: v for k, v in training_args.to_dict().items() if "token" not in k}
    return {
        "recipe": script_args.recipe_name,
        "base_model": model_args.model_name_or_path,
        "dataset": script_args.dataset_name,
        "script_args": asdict(script_args),
        "model_args": asdict(model_args),
        "training_args": training,
    }


def make_parser(prog: str | None = None):
    """``jssp-sft train``: the same parser as ``python -m jssp_sft.sft``."""
    return make_sft_parser(prog)


if __name__ == "__main__":
    main(*make_parser().parse_args_and_config())
