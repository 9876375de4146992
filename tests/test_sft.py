"""The SFT entry point end to end on the tiny model: real TRL training runs of a few steps on CPU-solved data.

Covers the recipe parser, completion-only loss, eval loss and the generation-eval callback's metrics in the log,
what a run saves, resuming from the last checkpoint, early stopping, LoRA variants, packing, the messages template
and the ``jssp-sft train`` command.
"""

import json
from pathlib import Path

import pytest
from conftest import TINY_LORA_ARGS, argv

from jssp_sft.data.templates import SETTINGS_FILE, PromptFormat
from jssp_sft.sft import train
from jssp_sft.training.arguments import make_sft_parser
from jssp_sft.training.run import last_checkpoint


RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "tiny" / "sft" / "config.yaml"


@pytest.fixture(scope="module")
def dataset_path(tmp_path_factory) -> Path:
    """A small real dataset: random 2x2-2x3 instances solved by CP-SAT."""
    from jssp_sft.data.generator import ensure_default_dataset

    return ensure_default_dataset(tmp_path_factory.mktemp("data"), progress=False, num_instances=40, sizes="2x2-3")


def sft_args(model_dir, dataset_path, output_dir, *overrides):
    """The tiny recipe, shrunk to a few steps of a few examples."""
    shrunk = argv(
        config=RECIPE,
        model_name_or_path=model_dir,
        dataset_name=dataset_path,
        output_dir=output_dir,
        max_steps=4,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=8,
        logging_steps=1,
        eval_steps=2,
        save_steps=2,
        eval_split_size=8,
        generation_eval_problems=3,
        generation_eval_max_new_tokens=24,
        max_length=512,
        learning_rate=1e-2,
    )
    return make_sft_parser().parse_args_and_config([*shrunk, *overrides])


@pytest.fixture(scope="module")
def finished_run(tiny_model_dir, dataset_path, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("run")
    trainer = train(*sft_args(tiny_model_dir, dataset_path, output_dir))
    return trainer, output_dir


def test_recipe_fills_the_run_name_and_defaults(tiny_model_dir, dataset_path, tmp_path):
    script_args, training_args, model_args = sft_args(tiny_model_dir, dataset_path, tmp_path)
    assert script_args.recipe_name == str(RECIPE)
    assert training_args.use_cpu and not training_args.bf16
    assert training_args.lr_scheduler_type == "cosine" and training_args.max_grad_norm == 1.0
    assert script_args.prompt_format() == PromptFormat("prompt_completion")


def test_run_saves_everything_solve_and_push_need(finished_run):
    trainer, output_dir = finished_run
    files = {p.name for p in output_dir.iterdir()}
    assert {
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "chat_template.jinja",
        SETTINGS_FILE,
        "train_results.json",
        "eval_results.json",
        "trainer_state.json",
        "jssp_sft_run.json",
    } <= files
    assert PromptFormat.from_pretrained(output_dir) == PromptFormat("prompt_completion")
    run_info = json.loads((output_dir / "jssp_sft_run.json").read_text())
    assert run_info["recipe"] == str(RECIPE) and run_info["dataset"].endswith(".jsonl")
    assert "hub_token" not in run_info["training_args"]
    assert json.loads((output_dir / "train_results.json").read_text())["train_samples"] == 32
    assert sorted(p.name for p in output_dir.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert trainer.state.best_model_checkpoint is not None  # load_best_model_at_end
    model = trainer.model  # the best checkpoint was loaded; the tied output layer still shares the embeddings
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()


def test_log_has_loss_lr_grad_norm_eval_loss_and_generation_metrics(finished_run):
    trainer, output_dir = finished_run
    history = trainer.state.log_history
    train_logs = [e for e in history if "loss" in e]
    assert len(train_logs) == 4
    assert all("learning_rate" in e and "grad_norm" in e for e in train_logs)
    rates = [e["learning_rate"] for e in train_logs]
    assert max(rates) > rates[-1]  # warmup, then cosine decay
    assert any("eval_loss" in e for e in history)
    generation_logs = [e for e in history if "eval_feasible_rate" in e]
    assert [e["step"] for e in generation_logs] == [2, 4, 4]  # two evaluations during training, one at the end
    for entry in generation_logs:
        assert 0 <= entry["eval_parse_rate"] <= 1 and 0 <= entry["eval_feasible_rate"] <= 1
        assert 1 <= entry["eval_mean_new_tokens"] <= 24
    eval_results = json.loads((output_dir / "eval_results.json").read_text())
    assert "eval_feasible_rate" in eval_results and "eval_loss" in eval_results
    dumped = [json.loads(line) for line in (output_dir / "generations" / "step-4.jsonl").read_text().splitlines()]
    assert len(dumped) == 3 and all(len(d["samples"]) == 1 and d["reference_makespan"] > 0 for d in dumped)


def test_completion_only_loss(finished_run):
    trainer, _ = finished_run
    tokenizer = trainer.processing_class
    example = trainer.train_dataset[0]
    batch = trainer.data_collator([example])
    labels, ids = batch["labels"][0].tolist(), batch["input_ids"][0].tolist()
    trained = [i for i, label in zip(ids, labels) if label != -100]
    assert labels[0] == -100
    assert tokenizer.decode(trained).startswith("Solution:\n")
    assert trained[-1] == tokenizer.eos_token_id


def test_resumes_from_the_last_checkpoint(tiny_model_dir, dataset_path, tmp_path):
    train(*sft_args(tiny_model_dir, dataset_path, tmp_path, "--max_steps", "2", "--generation_eval_problems", "0"))
    checkpoint = last_checkpoint(str(tmp_path))
    assert checkpoint.endswith("checkpoint-2")
    # mark the interrupted run's state: only a run that resumes from it carries the mark on
    state_path = Path(checkpoint) / "trainer_state.json"
    state = json.loads(state_path.read_text())
    state["log_history"][0]["resume_marker"] = True
    state_path.write_text(json.dumps(state))
    trainer = train(*sft_args(tiny_model_dir, dataset_path, tmp_path, "--generation_eval_problems", "0"))
    assert trainer.state.global_step == 4
    assert trainer.state.log_history[0].get("resume_marker") is True
    assert [e["step"] for e in trainer.state.log_history if "loss" in e] == [1, 2, 3, 4]


def test_early_stopping(tiny_model_dir, dataset_path, tmp_path):
    trainer = train(
        *sft_args(
            tiny_model_dir,
            dataset_path,
            tmp_path,
            "--max_steps",
            "20",
            "--eval_steps",
            "1",
            "--save_steps",
            "1",
            "--early_stopping_patience",
            "1",
            "--early_stopping_threshold",
            "100",
            "--generation_eval_problems",
            "0",
        )
    )
    # no evaluation can improve eval_loss by 100: the first sets the best, the second runs out of patience
    assert trainer.state.global_step == 2


@pytest.mark.parametrize(
    "variant, expected",
    [
        (["--use_rslora"], {"use_rslora": True, "use_dora": False}),
        (["--use_dora"], {"use_rslora": False, "use_dora": True}),
    ],
)
def test_lora_variants_save_an_adapter(tiny_model_dir, dataset_path, tmp_path, variant, expected):
    trainer = train(
        *sft_args(
            tiny_model_dir,
            dataset_path,
            tmp_path,
            "--max_steps",
            "2",
            "--generation_eval_problems",
            "1",
            *TINY_LORA_ARGS,
            "--activation_checkpointing",
            "true",
            *variant,
        )
    )
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert {k: config[k] for k in expected} == expected
    assert config["base_model_name_or_path"] == str(tiny_model_dir)
    assert {name.split(".")[-1] for name in config["target_modules"]} >= {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
    }
    assert (tmp_path / "adapter_model.safetensors").is_file() and not (tmp_path / "model.safetensors").exists()
    assert trainer.args.gradient_checkpointing
    assert all(e["grad_norm"] > 0 for e in trainer.state.log_history if "loss" in e)


def test_packing_and_padding_free(tiny_model_dir, dataset_path, tmp_path):
    packed = train(
        *sft_args(
            tiny_model_dir,
            dataset_path,
            tmp_path / "packed",
            "--max_steps",
            "2",
            "--packing",
            "true",
            "--generation_eval_problems",
            "0",
        )
    )
    batch = next(iter(packed.get_train_dataloader()))
    assert batch["input_ids"].shape[0] == 1 and "position_ids" in batch  # one padding-free row
    assert (batch["position_ids"] == 0).sum() > 1  # several examples in it
    free = train(
        *sft_args(
            tiny_model_dir,
            dataset_path,
            tmp_path / "free",
            "--max_steps",
            "2",
            "--padding_free",
            "true",
            "--max_length",
            "None",
            "--drop_long_examples",
            "false",
            "--generation_eval_problems",
            "0",
        )
    )
    assert all(e["loss"] > 0 for e in free.state.log_history if "loss" in e)


def test_messages_template_with_assistant_only_loss(tiny_model_dir, dataset_path, tmp_path):
    trainer = train(
        *sft_args(
            tiny_model_dir,
            dataset_path,
            tmp_path,
            "--max_steps",
            "2",
            "--template",
            "messages",
            "--system_prompt",
            "You schedule jobs.",
            "--assistant_only_loss",
            "true",
            "--generation_eval_problems",
            "1",
        )
    )
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    trained = trainer.processing_class.decode([i for i, label in zip(ids, labels) if label != -100])
    assert trained.startswith("Solution:\n") and trained.endswith("<|im_end|>")
    assert PromptFormat.from_pretrained(tmp_path) == PromptFormat("messages", "You schedule jobs.")
    assert any("eval_parse_rate" in e for e in trainer.state.log_history)


def test_train_command(tiny_model_dir, dataset_path, tmp_path):
    from jssp_sft.cli.main import main

    flags = argv(
        config=RECIPE,
        model_name_or_path=tiny_model_dir,
        dataset_name=dataset_path,
        output_dir=tmp_path,
        max_steps=1,
        eval_strategy="no",
        save_strategy="no",
        load_best_model_at_end="false",
        per_device_train_batch_size=2,
    )
    assert main(["train", *flags]) == 0
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / SETTINGS_FILE).is_file()
    assert not (tmp_path / "eval_results.json").exists()


def test_help_of_the_training_commands_renders():
    from jssp_sft import quickstart, sft
    from jssp_sft.cli import push

    for module in (sft, push, quickstart):
        text = module.make_parser(prog="jssp-sft").format_help()
        assert "--output_dir" in text
    assert "2%" in " ".join(sft.make_parser().format_help().split())  # a literal % in a help text is escaped
