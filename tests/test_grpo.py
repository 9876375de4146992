"""The GRPO entry point: arguments, prompt datasets from every source, and real GRPO runs on CPU with a tiny model."""

import json
from pathlib import Path

import pytest
import yaml

from jssp_sft import parse_solution
from jssp_sft.data.templates import PromptFormat
from jssp_sft.grpo import (
    GRPOScriptArguments,
    benchmarks_to_prompts,
    load_prompt_datasets,
    make_parser,
    records_to_prompts,
)
from jssp_sft.grpo import train as train_grpo
from jssp_sft.training.hub import build_model_card


@pytest.fixture(scope="module")
def records_file(tmp_path_factory):
    """Twelve CP-SAT-solved 2x2 and 3x2 records, written by the generator."""
    from jssp_sft.data.generator import ensure_default_dataset

    return ensure_default_dataset(tmp_path_factory.mktemp("grpo-data"), num_instances=12, sizes="2x2,3x2", seed=5)


def parse(args: list[str], config: dict | None = None, tmp_path: Path | None = None):
    argv = list(args)
    if config is not None:
        path = tmp_path / "recipe.yaml"
        path.write_text(yaml.safe_dump(config))
        argv = ["--config", str(path), *argv]
    return make_parser().parse_args_and_config(argv)


# --------------------------------------------------------------------------------------------------- arguments


def test_recipe_yaml_and_flags_parse_into_the_three_dataclasses(tmp_path, records_file):
    config = {
        "model_name_or_path": "some/model",
        "dataset_name": str(records_file),
        "reward_funcs": ["feasibility", "makespan_quality"],
        "reward_weights": [1.0, 2.0],
        "use_cpu": True,
        "bf16": False,
        "output_dir": str(tmp_path / "out"),
        "num_generations": 4,
        "per_device_train_batch_size": 4,
    }
    script_args, training_args, model_args = parse(["--max_completion_length", "64"], config, tmp_path)
    assert script_args.reward_funcs == ["feasibility", "makespan_quality"]
    assert training_args.reward_weights == [1.0, 2.0]
    assert training_args.max_completion_length == 64
    assert model_args.model_name_or_path == "some/model"
    assert script_args.recipe_name == str(tmp_path / "recipe.yaml")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({}, "exactly one prompt source"),
        ({"dataset_name": "x.jsonl", "benchmarks": "ft06"}, "exactly one prompt source"),
        ({"benchmarks": "ft06", "eval_split_size": 0.1}, "benchmarks are not split"),
        ({"dataset_name": "x.jsonl", "reward_funcs": ["accuracy"]}, "unknown reward function"),
        ({"dataset_name": "x.jsonl", "template": "alpaca", "system_prompt": "hi"}, "system prompt"),
    ],
)
def test_bad_script_arguments_fail_early(fields, message):
    with pytest.raises(ValueError, match=message):
        GRPOScriptArguments(**fields)


def test_prompt_format_defaults_to_the_one_saved_with_the_model(tmp_path):
    PromptFormat("messages", "Be brief.").save_pretrained(tmp_path)
    args = GRPOScriptArguments(dataset_name="x.jsonl")
    assert args.prompt_format(str(tmp_path)) == PromptFormat("messages", "Be brief.")
    assert args.prompt_format("Qwen/Qwen2.5-0.5B-Instruct") == PromptFormat()
    forced = GRPOScriptArguments(dataset_name="x.jsonl", template="prompt_completion")
    assert forced.prompt_format(str(tmp_path)) == PromptFormat()


# ------------------------------------------------------------------------------------------------------ prompts


@pytest.mark.parametrize("template", ["prompt_completion", "messages", "alpaca"])
def test_starjob_records_become_prompts_with_their_reference(records_file, template):
    from datasets import load_dataset

    prompt_format = PromptFormat(template)
    records = load_dataset("json", data_files=str(records_file), split="train")
    prompts = records_to_prompts(records, prompt_format)
    assert sorted(prompts.column_names) == ["num_jobs", "num_machines", "prompt", "reference_makespan"]
    for record, row in zip(records, prompts):
        assert row["prompt"] == prompt_format.prompt_example(record)["prompt"]
        assert row["reference_makespan"] == parse_solution(record["output"]).makespan == record["makespan"]
        assert (row["num_jobs"], row["num_machines"]) == (record["num_jobs"], record["num_machines"])


def test_benchmarks_become_prompts_with_the_best_known_bound():
    from jssp_sft.benchmarks.instances import load_benchmark

    prompts = benchmarks_to_prompts("ft06, la:10x5", PromptFormat())
    assert len(prompts) == 1 + 5  # la01-la05 are the 10x5 Lawrence instances
    instance, info = load_benchmark("ft06")
    assert prompts[0]["prompt"] == PromptFormat().prompt_example(instance)["prompt"]
    assert prompts[0]["reference_makespan"] == info.upper_bound == 55
    assert {(row["num_jobs"], row["num_machines"]) for row in prompts.select(range(1, 6))} == {(10, 5)}
    with pytest.raises(ValueError, match="unknown benchmark"):
        benchmarks_to_prompts("ft07", PromptFormat())


def test_generated_source_and_held_out_split(tmp_path):
    script_args, training_args, _ = parse(
        [
            "--model_name_or_path",
            "m",
            "--generated_num_instances",
            "10",
            "--generated_sizes",
            "2x2",
            "--generated_seed",
            "3",
            "--eval_split_size",
            "2",
            "--output_dir",
            str(tmp_path),
            "--use_cpu",
            "true",
            "--bf16",
            "false",
            "--per_device_eval_batch_size",
            "8",
            "--num_generations",
            "8",
        ]
    )
    train_prompts, held_out = load_prompt_datasets(script_args, training_args, PromptFormat())
    assert (len(train_prompts), len(held_out)) == (8, 2)
    assert len(list((tmp_path / "data").glob("generated-2x2-n10-seed3-*.jsonl"))) == 1
    assert all(row["reference_makespan"] > 0 for row in train_prompts)


# ------------------------------------------------------------------------------------------------- GRPO runs


def grpo_args(tmp_path, model_dir, records_file, **overrides):
    config = {
        "model_name_or_path": str(model_dir),
        "dtype": "float32",
        "dataset_name": str(records_file),
        "reward_funcs": ["format", "feasibility", "operations", "makespan_quality"],
        "reward_weights": [0.1, 1.0, 0.5, 1.0],
        "use_cpu": True,
        "bf16": False,
        "output_dir": str(tmp_path / "run"),
        "per_device_train_batch_size": 4,
        "num_generations": 4,
        "max_completion_length": 16,
        "max_steps": 2,
        "logging_steps": 1,
        "save_steps": 2,
        "learning_rate": 1e-4,
        "report_to": "none",
        "seed": 0,
        "dataloader_num_workers": 0,
        **overrides,
    }
    return parse([], config, tmp_path)


def test_grpo_runs_logs_rewards_and_saves_a_checkpoint_then_resumes(tmp_path, tiny_model_dir, records_file):
    trainer = train_grpo(*grpo_args(tmp_path, tiny_model_dir, records_file))
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 2
    for entry in logs:
        for name in ("format", "feasibility", "operations", "makespan_quality"):
            assert 0.0 <= entry[f"rewards/{name}_reward/mean"] <= 2.0
        assert 0.0 <= entry["rollout/feasible_rate"] <= 1.0
        assert 0.0 <= entry["rollout/parse_rate"] <= 1.0
    # The logged rewards are the verifier's verdicts on the logged completions (TRL keeps the last logged step's in `_logs`).
    from jssp_sft.rewards import REWARDS

    prompts, completions = list(trainer._logs["prompt"]), list(trainer._logs["completion"])
    assert len(completions) == 4 and all(isinstance(c, str) for c in completions)
    for name in ("format", "feasibility", "operations"):
        assert list(trainer._logs["rewards"][f"{name}_reward"]) == REWARDS[name](prompts, completions)
    run = tmp_path / "run"
    assert (run / "checkpoint-2" / "model.safetensors").is_file()
    assert (run / "checkpoint-2" / "trainer_state.json").is_file()
    assert PromptFormat.from_pretrained(run) == PromptFormat()
    info = json.loads((run / "jssp_sft_run.json").read_text())
    assert info["trainer"] == "grpo" and info["base_model"] == str(tiny_model_dir)
    assert info["reward_funcs"] == ["format", "feasibility", "operations", "makespan_quality"]
    assert info["dataset"] == str(records_file) and info["reward_weights"] == [0.1, 1.0, 0.5, 1.0]
    card = str(build_model_card(run, "someone/tiny-grpo"))  # what `push_to_hub: true` uploads as README.md
    assert "`GRPOTrainer`" in card and "- grpo" in card and "SFTTrainer" not in card
    assert (run / "model.safetensors").is_file() and (run / "tokenizer.json").is_file()

    resumed = train_grpo(*grpo_args(tmp_path, tiny_model_dir, records_file, max_steps=3, save_steps=3))
    assert resumed.state.global_step == 3
    assert [e["step"] for e in resumed.state.log_history if "loss" in e] == [1, 2, 3]  # steps 1-2 from the checkpoint
    assert (run / "checkpoint-3").is_dir()


@pytest.mark.parametrize("use_peft", [True, False])
def test_grpo_starts_from_an_sft_adapter(tmp_path, tiny_model_dir, records_file, use_peft):
    from peft import LoraConfig, PeftModel, get_peft_model

    from jssp_sft.modeling.loading import load_model, load_tokenizer

    adapter_dir = tmp_path / "sft-lora"
    sft = get_peft_model(load_model(str(tiny_model_dir)), LoraConfig(r=4, target_modules="all-linear"))
    sft.save_pretrained(adapter_dir)
    load_tokenizer(str(tiny_model_dir)).save_pretrained(adapter_dir)
    PromptFormat("messages").save_pretrained(adapter_dir)

    script_args, training_args, model_args = grpo_args(
        tmp_path, adapter_dir, records_file, max_steps=1, save_steps=1, use_peft=use_peft, beta=0.01
    )
    trainer = train_grpo(script_args, training_args, model_args)
    run = tmp_path / "run"
    assert PromptFormat.from_pretrained(run).template == "messages"  # the SFT run's template was reused
    assert "rewards/feasibility_reward/mean" in trainer.state.log_history[0]
    if use_peft:
        assert isinstance(trainer.model, PeftModel)
        assert (run / "adapter_config.json").is_file()
        assert json.loads((run / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_model_dir)
        assert any(p.requires_grad for n, p in trainer.model.named_parameters() if "lora_" in n)
    else:
        assert not isinstance(trainer.model, PeftModel)
        assert not (run / "adapter_config.json").exists() and (run / "model.safetensors").is_file()


def test_cli_registers_grpo():
    from jssp_sft.cli.main import COMMANDS

    assert COMMANDS["grpo"][0] == "jssp_sft.grpo"
