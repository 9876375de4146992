"""The parts of a training run that SFT, GRPO and improve share: logging, resuming, the starting model, and the ending
(metrics, state, model, prompt settings and run info saved, final evaluation, push with our model card)."""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path

from .hub import RUN_INFO_FILE


logger = logging.getLogger(__name__)


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


def start_run(script_args, training_args, model_args):
    """The opening of every training run (SFT, GRPO, each improve round): logging, the seed, and the run's prompt
    settings and tokenizer, ``(prompt_format, tokenizer)``."""
    from transformers import set_seed

    from ..modeling.loading import load_tokenizer

    setup_logging(training_args)
    set_seed(training_args.seed)
    logger.warning(
        "process rank %d of %d (%s), device %s",
        training_args.process_index,
        training_args.world_size,
        training_args.distributed_state.distributed_type,
        training_args.device,
    )
    logger.info("model %s, script %s", model_args, script_args)
    prompt_format = script_args.prompt_format(model_args.model_name_or_path)
    logger.info("prompts: %s", prompt_format)
    tokenizer = load_tokenizer(
        model_args.model_name_or_path, model_args.model_revision, training_args.trust_remote_code
    )
    return prompt_format, tokenizer


def last_checkpoint(output_dir: str) -> str | None:
    """The newest ``checkpoint-N`` in ``output_dir`` (open-r1's resume rule), or ``None``."""
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(output_dir) if os.path.isdir(output_dir) else None


def resume_checkpoint(training_args) -> str | None:
    """The checkpoint a run resumes from: ``resume_from_checkpoint`` if set, else the newest in ``output_dir``."""
    checkpoint = training_args.resume_from_checkpoint or last_checkpoint(training_args.output_dir)
    if checkpoint is not None:
        logger.info("resuming from %s", checkpoint)
    return checkpoint


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


def load_starting_model(model_args, training_args):
    """``(model, peft_config)`` for a TRL trainer: a name (loaded by the trainer) or a model built from an adapter.

    A base or merged model is named, with a fresh LoRA (``peft_config``) when ``use_peft``. A LoRA run's output is
    trained further as an adapter when ``use_peft`` (GRPO: TRL keeps a frozen copy as the KL reference), or merged
    into its base model and trained in full otherwise.
    """
    from trl import get_peft_config, get_quantization_config

    from ..modeling.loading import adapter_base_model, load_trained_model

    path = model_args.model_name_or_path
    if adapter_base_model(path, model_args.model_revision) is None:
        training_args.model_init_kwargs = model_init_kwargs(model_args, training_args)
        return path, get_peft_config(model_args)
    if model_args.use_peft:
        logger.info("continuing to train the LoRA adapter in %s (its own LoRA settings apply)", path)
    else:
        logger.info("merging the adapter in %s into its base model and training all weights", path)
    model = load_trained_model(
        path,
        merge=not model_args.use_peft,
        trainable=model_args.use_peft,
        revision=model_args.model_revision,
        dtype=model_args.dtype,
        quantization_config=get_quantization_config(model_args),
        attn_implementation=model_args.attn_implementation,
        trust_remote_code=training_args.trust_remote_code,
    )
    return model, None


def trainer_model(model_args, training_args) -> dict:
    """The model keyword arguments of a TRL trainer (``model``, ``peft_config``, ``quantization_config``), from
    ``load_starting_model``."""
    from trl import get_quantization_config

    model, peft_config = load_starting_model(model_args, training_args)
    quantization = get_quantization_config(model_args) if isinstance(model, str) else None
    return {"model": model, "peft_config": peft_config, "quantization_config": quantization}


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


def take_push(training_args) -> bool:
    """Take ``push_to_hub`` out of the trainer's hands and return it: a run is pushed once at the end, with our model
    card (``finish_run``), by the same path as ``jssp-sft push``."""
    push_to_hub, training_args.push_to_hub = training_args.push_to_hub, False
    return push_to_hub


def finish_run(trainer, train_result, num_train: int, prompt_format, run_info: dict, eval_dataset=None):
    """The end of a training run (SFT or GRPO): metrics, state, model, prompt settings and run info saved, the final
    evaluation, and the push to the Hub with our model card when the recipe asked for it (``push_after_training``).
    """
    from .hub import push_run

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


def run_held_out_records(run_dir: str | Path, limit: int | None = None) -> list[dict]:
    """The held-out records of a training run, split exactly as the run split them: its saved script arguments
    (``jssp_sft_run.json``) through ``SFTScriptArguments.load_records``, the rule training itself used."""
    import dataclasses
    from types import SimpleNamespace

    from .arguments import SFTScriptArguments

    path = Path(run_dir) / RUN_INFO_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir} has no {RUN_INFO_FILE}: give the records with --dataset")
    info = json.loads(path.read_text())
    names = {f.name for f in dataclasses.fields(SFTScriptArguments) if f.init}
    script_args = SFTScriptArguments(**{k: v for k, v in info["script_args"].items() if k in names})
    if not script_args.eval_split_size:
        raise ValueError(f"{path}: the run held out no records (eval_split_size 0): give the records with --dataset")
    training = info["training_args"]
    held_out = script_args.load_records(SimpleNamespace(seed=training["seed"], data_seed=training.get("data_seed")))
    held_out = held_out["test"]
    return [held_out[i] for i in range(len(held_out) if limit is None else min(limit, len(held_out)))]
