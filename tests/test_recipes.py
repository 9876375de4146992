"""Every recipe parses with the real parser (unknown keys raise) and dry-builds its configs; accelerate configs load."""

from pathlib import Path

import pytest
import torch
import yaml

from jssp_sft.training.arguments import SFTScriptArguments, make_sft_parser


RECIPES = Path(__file__).resolve().parent.parent / "recipes"
SFT_RECIPES = sorted(RECIPES.glob("*/sft/*.yaml"))
ACCELERATE_CONFIGS = sorted((RECIPES / "accelerate_configs").glob("*.yaml"))


def parse(recipe: Path):
    """The recipe as `jssp-sft train --config` parses it; on a machine without a GPU, bf16 is turned off (the only
    setting transformers checks against the hardware when it builds the config)."""
    overrides = []
    if yaml.safe_load(recipe.read_text()).get("bf16") and not torch.cuda.is_available():
        overrides = ["--bf16", "false"]
    return make_sft_parser().parse_args_and_config(["--config", str(recipe), *overrides])


def test_recipes_exist():
    names = {str(p.relative_to(RECIPES)) for p in SFT_RECIPES}
    assert {
        "tiny/sft/config.yaml",
        "Qwen2.5-0.5B-Instruct/sft/config_lora.yaml",
        "Llama-3.1-8B-Instruct/sft/config_qlora.yaml",
    } <= names
    assert {p.name for p in ACCELERATE_CONFIGS} >= {"ddp.yaml", "fsdp.yaml", "zero3.yaml", "multi_cpu.yaml"}


@pytest.mark.parametrize("recipe", SFT_RECIPES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_recipe_parses_and_dry_builds(recipe):
    from trl import get_peft_config, get_quantization_config

    script_args, training_args, model_args = parse(recipe)
    assert isinstance(script_args, SFTScriptArguments) and script_args.recipe_name == str(recipe)
    script_args.prompt_format()
    script_args.sampling_settings()
    peft_config = get_peft_config(model_args)
    assert (peft_config is not None) == model_args.use_peft
    get_quantization_config(model_args)
    # every recipe clips gradients, decays the learning rate on a cosine and keeps the best checkpoint
    assert training_args.max_grad_norm == 1.0 and training_args.lr_scheduler_type == "cosine"
    assert training_args.load_best_model_at_end and training_args.metric_for_best_model == "eval_loss"
    assert script_args.dataset_name and model_args.model_name_or_path and training_args.output_dir


def test_candidates_recipes_exist():
    names = {str(p.relative_to(RECIPES)) for p in SFT_RECIPES}
    assert {
        "tiny/sft/config_candidates.yaml",
        "tiny/sft/config_taillard.yaml",
        "Qwen2.5-0.5B-Instruct/sft/config_candidates_lora.yaml",
        "Llama-3.1-8B-Instruct/sft/config_candidates_qlora.yaml",
    } <= names


@pytest.mark.parametrize("recipe", SFT_RECIPES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_recipe_answer_format(recipe):
    """Recipes named for candidates (or Taillard) write candidate lines; every other recipe keeps the plain answer."""
    script_args, _, model_args = parse(recipe)
    prompt_format = script_args.prompt_format(model_args.model_name_or_path)
    if "candidates" in recipe.stem or "taillard" in recipe.stem:
        assert prompt_format.answer_format == "candidates"
        assert (prompt_format.candidate_fields, prompt_format.candidate_top_k) == ("sdw", 4)
    else:
        assert prompt_format.answer_format == "starjob"


def test_tiny_candidates_recipes_fit_their_answers():
    """The tiny candidates recipes run on CPU and leave room for their answers (about 4x the plain one's tokens)."""
    plain_script, plain, _ = parse(RECIPES / "tiny" / "sft" / "config.yaml")
    for name in ("config_candidates.yaml", "config_taillard.yaml"):
        script_args, training_args, model_args = parse(RECIPES / "tiny" / "sft" / name)
        assert training_args.use_cpu and not training_args.bf16 and not model_args.use_peft
        assert training_args.max_length >= 1536 > plain.max_length
        assert script_args.generation_eval_max_new_tokens > 3 * plain_script.generation_eval_max_new_tokens


def test_recipe_rejects_unknown_keys(tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text((RECIPES / "tiny" / "sft" / "config.yaml").read_text() + "\nlearning_rte: 1.0e-4\n")
    with pytest.raises(ValueError, match="learning_rte"):
        make_sft_parser().parse_args_and_config(["--config", str(recipe)])


def test_paper_setting_in_the_llama_recipe():
    script_args, training_args, model_args = parse(RECIPES / "Llama-3.1-8B-Instruct" / "sft" / "config_qlora.yaml")
    assert model_args.load_in_4bit and model_args.bnb_4bit_quant_type == "nf4"
    assert (model_args.lora_r, model_args.lora_alpha, model_args.use_rslora) == (64, 64, True)
    assert training_args.learning_rate == 2e-4 and training_args.num_train_epochs == 2
    assert (training_args.per_device_train_batch_size, training_args.gradient_accumulation_steps) == (4, 4)
    assert "8bit" in training_args.optim and script_args.eval_split_size == 0.02
    # our deliberate changes
    assert training_args.completion_only_loss and training_args.packing


def test_tiny_recipe_runs_on_cpu():
    script_args, training_args, model_args = parse(RECIPES / "tiny" / "sft" / "config.yaml")
    assert training_args.use_cpu and not training_args.bf16 and not model_args.use_peft
    assert training_args.train_sampling_strategy == "group_by_length" and not training_args.packing


@pytest.mark.parametrize("config", ACCELERATE_CONFIGS, ids=lambda p: p.name)
def test_accelerate_config_loads(config):
    from accelerate.commands.config.config_args import ClusterConfig

    cluster = ClusterConfig.from_yaml_file(str(config))
    expected = {"ddp.yaml": "MULTI_GPU", "fsdp.yaml": "FSDP", "zero3.yaml": "DEEPSPEED", "multi_cpu.yaml": "MULTI_CPU"}
    if config.name in expected:
        assert str(cluster.distributed_type).endswith(expected[config.name])


# ----- GRPO recipes (recipes/*/grpo/*.yaml), parsed by `jssp-sft grpo`'s parser

GRPO_RECIPES = sorted(RECIPES.glob("*/grpo/*.yaml"))


def parse_grpo(recipe: Path):
    """The recipe as `jssp-sft grpo --config` parses it (bf16 off on a machine without a GPU, as in `parse`)."""
    from jssp_sft.grpo import make_parser

    overrides = []
    if yaml.safe_load(recipe.read_text()).get("bf16") and not torch.cuda.is_available():
        overrides = ["--bf16", "false"]
    return make_parser().parse_args_and_config(["--config", str(recipe), *overrides])


def test_grpo_recipes_exist():
    names = {str(p.relative_to(RECIPES)) for p in GRPO_RECIPES}
    assert {
        "tiny/grpo/config.yaml",
        "Qwen2.5-0.5B-Instruct/grpo/config.yaml",
        "Llama-3.1-8B-Instruct/grpo/config.yaml",
    } <= names


@pytest.mark.parametrize("recipe", GRPO_RECIPES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_grpo_recipe_parses_and_dry_builds(recipe):
    from trl import get_peft_config, get_quantization_config

    from jssp_sft.grpo import GRPOScriptArguments
    from jssp_sft.rewards import get_reward_funcs

    assert recipe.read_text().startswith("# "), "a recipe opens with a comment saying what hardware it needs"
    script_args, training_args, model_args = parse_grpo(recipe)
    assert isinstance(script_args, GRPOScriptArguments) and script_args.recipe_name == str(recipe)
    assert len(get_reward_funcs(script_args.reward_funcs)) == len(training_args.reward_weights)
    assert training_args.generation_batch_size % training_args.num_generations == 0
    assert (get_peft_config(model_args) is not None) == model_args.use_peft
    get_quantization_config(model_args)
    assert model_args.model_name_or_path and training_args.output_dir and training_args.max_completion_length


def test_grpo_recipes_hardware():
    from jssp_sft.quickstart import QuickstartArguments

    _, tiny, tiny_model = parse_grpo(RECIPES / "tiny" / "grpo" / "config.yaml")
    assert tiny.use_cpu and not tiny.bf16 and not tiny.use_vllm
    assert tiny_model.model_name_or_path == QuickstartArguments.output_dir  # starts from the `make train` output
    _, qwen, qwen_model = parse_grpo(RECIPES / "Qwen2.5-0.5B-Instruct" / "grpo" / "config.yaml")
    assert qwen_model.use_peft and not qwen.use_vllm
    _, llama, _ = parse_grpo(RECIPES / "Llama-3.1-8B-Instruct" / "grpo" / "config.yaml")
    assert llama.use_vllm and llama.vllm_mode == "server"
