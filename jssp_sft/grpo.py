"""Reinforcement learning with the verifier as reward: TRL's ``GRPOTrainer``, in the shape of open-r1's ``grpo.py``.

    accelerate launch --config_file recipes/accelerate_configs/ddp.yaml -m jssp_sft.grpo \\
        --config recipes/Qwen2.5-0.5B-Instruct/grpo/config.yaml [--any_field value]
    jssp-sft grpo --config recipes/tiny/grpo/config.yaml

The policy starts from a base model or an SFT run's output: a full (or merged) model is loaded by name, with a fresh
LoRA when ``use_peft``; a LoRA run's adapter is trained further (``use_peft: true``) or merged into its base model
and trained in full (``use_peft: false``). Prompts come from Starjob records (a file, a directory, a Hub id), from
CP-SAT-solved records generated on the spot, or from benchmark instances, all written by the same
``templates.PromptFormat`` as SFT and solve (by default the template the SFT run saved), each with its
``reference_makespan``. Rewards are the functions of ``jssp_sft.rewards.REWARDS`` that ``reward_funcs`` names,
weighted by ``reward_weights``; they also log the rollouts' feasible rate and mean gap at every step. Resumes from
the last checkpoint in ``output_dir``; saves and pushes like ``jssp_sft.sft``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .data.templates import PromptFormat
from .rewards import get_reward_funcs
from .training.arguments import GRPOScriptArguments, make_grpo_parser
from .training.run import finish_run, resume_checkpoint, run_info_of, start_run, take_push, trainer_model


logger = logging.getLogger(__name__)


def make_parser(prog: str | None = None):
    """``jssp-sft grpo``: the same parser as ``python -m jssp_sft.grpo``."""
    return make_grpo_parser(prog)


# ------------------------------------------------------------------------------------------------------ prompts


def prompt_row(problem, prompt_format: PromptFormat, reference: float | None) -> dict:
    """One GRPO dataset row: the prompt (``PromptFormat.prompt_example``), the reference makespan and the size."""
    from .core.codec import parse_instance
    from .core.instance import Instance

    if isinstance(problem, Instance):
        size = (problem.num_jobs, problem.num_machines)
    elif "num_jobs" in problem and "num_machines" in problem:
        size = (problem["num_jobs"], problem["num_machines"])
    else:
        instance = parse_instance(problem["input"])
        size = (instance.num_jobs, instance.num_machines)
    return {
        **prompt_format.prompt_example(problem),
        "reference_makespan": None if reference is None else float(reference),
        "num_jobs": int(size[0]),
        "num_machines": int(size[1]),
    }


def records_to_prompts(records, prompt_format: PromptFormat, num_proc: int | None = None):
    """Starjob records (a ``Dataset``) -> prompt-only rows, the reference makespan read from each record's output."""
    from .core.codec import record_makespan

    def to_row(record: dict) -> dict:
        return prompt_row(record, prompt_format, record_makespan(record))

    columns = records.column_names
    if isinstance(columns, dict):  # a DatasetDict: every split has the same raw columns
        columns = next(iter(columns.values()), [])
    return records.map(to_row, remove_columns=columns, num_proc=num_proc, desc="Building GRPO prompts")


def benchmarks_to_prompts(spec: str, prompt_format: PromptFormat):
    """Benchmark instances (``"ft06,la01"``, ``"la"``, ``"ta:15x15"``; parsed by ``jssp_sft.solve.problems``) ->
    prompt-only rows whose reference makespan is the best known upper bound."""
    from datasets import Dataset

    from .solve.problems import benchmark_problems

    rows = [prompt_row(problem.instance, prompt_format, problem.bound) for problem in benchmark_problems(spec)]
    return Dataset.from_list(rows)


def generated_records_path(script_args: GRPOScriptArguments, output_dir: str) -> Path:
    """Generate (once; the file is reused) the CP-SAT-solved records the run trains on; returns the JSONL path."""
    from .data.generator import ensure_default_dataset

    overrides = {"num_instances": script_args.generated_num_instances}
    if script_args.generated_sizes is not None:
        overrides["sizes"] = script_args.generated_sizes
    if script_args.generated_seed is not None:
        overrides["seed"] = script_args.generated_seed
    directory = script_args.generated_data_dir or str(Path(output_dir) / "data")
    return ensure_default_dataset(directory, **overrides)


def prompt_source(script_args: GRPOScriptArguments, output_dir: str) -> str:
    """Where the run's prompts come from: the Starjob source, the generated JSONL file, or ``benchmarks: <spec>``."""
    if script_args.benchmarks is not None:
        return f"benchmarks: {script_args.benchmarks}"
    if script_args.dataset_name is not None:
        return script_args.dataset_name
    return str(generated_records_path(script_args, output_dir))


def load_prompt_datasets(script_args: GRPOScriptArguments, training_args, prompt_format: PromptFormat):
    """``(train, eval or None)`` prompt-only datasets with ``reference_makespan``, from the run's one source."""
    if script_args.benchmarks is not None:
        return benchmarks_to_prompts(script_args.benchmarks, prompt_format), None
    raw = script_args.load_records(training_args, source=prompt_source(script_args, training_args.output_dir))
    prompts = records_to_prompts(raw, prompt_format)
    return prompts["train"], prompts["test"] if "test" in prompts else None


# --------------------------------------------------------------------------------------------------------- main


def train(script_args: GRPOScriptArguments, training_args, model_args):
    """Train, save (and push) one GRPO run; returns the trainer."""
    from trl import GRPOTrainer

    prompt_format, tokenizer = start_run(script_args, training_args, model_args)
    checkpoint = resume_checkpoint(training_args)
    with training_args.main_process_first(desc="GRPO prompts"):  # one process generates/caches, the others read
        train_dataset, eval_dataset = load_prompt_datasets(script_args, training_args, prompt_format)
    push_to_hub = take_push(training_args)
    trainer = GRPOTrainer(
        **trainer_model(model_args, training_args),
        reward_funcs=get_reward_funcs(script_args.reward_funcs),
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
    )
    trainer.push_after_training = push_to_hub
    train_result = trainer.train(resume_from_checkpoint=checkpoint)
    run_info = run_info_of(script_args, model_args, training_args)
    run_info.update(
        trainer="grpo",
        dataset=prompt_source(script_args, training_args.output_dir),
        reward_funcs=list(script_args.reward_funcs),
        reward_weights=training_args.reward_weights,
    )
    finish_run(trainer, train_result, len(train_dataset), prompt_format, run_info, eval_dataset)
    return trainer


def main(script_args: GRPOScriptArguments, training_args, model_args) -> int:
    """The ``jssp-sft grpo`` command: ``train``, then exit status 0."""
    train(script_args, training_args, model_args)
    return 0


if __name__ == "__main__":
    main(*make_parser().parse_args_and_config())
