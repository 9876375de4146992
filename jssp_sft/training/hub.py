"""Push a training run to the Hugging Face Hub with a model card: base model, dataset, recipe and final results.

Used by ``jssp-sft train`` (``push_to_hub: true`` in a recipe) and ``jssp-sft push OUTPUT_DIR``. A LoRA run is
pushed as its adapter; ``merge=True`` merges it into the base model (``merge_and_unload``) and pushes the merged
model instead. Only the files a user needs are uploaded (no checkpoints, cached data or evaluation dumps).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from ..data.templates import SETTINGS_FILE
from ..modeling.loading import is_adapter_dir


logger = logging.getLogger(__name__)

RUN_INFO_FILE = "jssp_sft_run.json"
LOSS_CURVE_FILE = "loss_curve.png"
# What a run's directory contributes to the Hub repo; everything else (checkpoint-*/, data, generations/) stays local.
UPLOAD_PATTERNS = [
    "README.md",
    "*.safetensors",
    "adapter_config.json",
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    SETTINGS_FILE,
    RUN_INFO_FILE,
    "*_results.json",
    "trainer_state.json",
    LOSS_CURVE_FILE,
]
# The TRL trainer named in the card, by the `trainer` key of jssp_sft_run.json (absent: an SFT run).
TRAINER_CLASSES = {"sft": "SFTTrainer", "grpo": "GRPOTrainer"}
# Rows of the results table: (metric key in all_results.json / eval_results.json, label).
CARD_METRICS = [
    ("train_loss", "train loss"),
    ("eval_loss", "eval loss"),
    ("eval_parse_rate", "parse rate"),
    ("eval_feasible_rate", "feasible rate"),
    ("eval_valid_rate", "valid rate (feasible and right makespan)"),
    ("eval_mean_gap", "mean gap to the reference makespan"),
]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def final_metrics(output_dir: str | Path) -> dict:
    """The run's final numbers: ``all_results.json``/``train_results.json``/``eval_results.json`` merged."""
    directory = Path(output_dir)
    metrics = {}
    for name in ("train_results.json", "eval_results.json", "all_results.json"):
        metrics.update(read_json(directory / name))
    return metrics


def _format_value(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def build_model_card(output_dir: str | Path, repo_id: str, merged: bool = False):
    """A ``huggingface_hub.ModelCard`` for a run: metadata for the Hub's filters and a human-readable summary."""
    from huggingface_hub import ModelCard, ModelCardData

    directory = Path(output_dir)
    info = read_json(directory / RUN_INFO_FILE)
    prompt = read_json(directory / SETTINGS_FILE) or {"template": "prompt_completion", "system_prompt": None}
    base_model = info.get("base_model") or read_json(directory / "adapter_config.json").get("base_model_name_or_path")
    dataset = info.get("dataset")
    recipe = info.get("recipe")
    trainer = info.get("trainer", "sft")  # "grpo" for jssp_sft.grpo runs
    is_adapter = is_adapter_dir(directory) and not merged
    metrics = final_metrics(directory)
    hub_dataset = dataset if dataset and "/" in dataset and not Path(dataset).exists() else None
    data = ModelCardData(
        base_model=base_model if base_model and not Path(base_model).exists() else None,
        datasets=[hub_dataset] if hub_dataset else None,
        library_name="peft" if is_adapter else "transformers",
        pipeline_tag="text-generation",
        tags=["jssp-sft", "job-shop-scheduling", "trl", trainer, *(["lora"] if is_adapter else [])],
    )
    rows = "\n".join(f"| {label} | {_format_value(metrics[key])} |" for key, label in CARD_METRICS if key in metrics)
    results = f"| metric | value |\n|---|---|\n{rows}" if rows else "No evaluation results were recorded."
    kind = "a LoRA adapter for" if is_adapter else ("a merged fine-tune of" if merged else "a fine-tune of")
    training = info.get("training_args", {})
    settings = ", ".join(
        f"{key}={training[key]}"
        for key in (
            "learning_rate",
            "num_train_epochs",
            "max_steps",
            "per_device_train_batch_size",
            "gradient_accumulation_steps",
            "max_length",
            "packing",
            "lr_scheduler_type",
        )
        if key in training
    )
    content = f"""---
{data.to_yaml()}
---

# {repo_id.split("/")[-1]}

This model is {kind} `{base_model}`, trained with [jssp-sft](https://github.com/jssp-sft/jssp-sft) (TRL's
`{TRAINER_CLASSES.get(trainer, trainer)}`) to solve job-shop scheduling problems written in the Starjob format.

- **Base model:** `{base_model}`
- **Dataset:** `{dataset}`
- **Recipe:** `{recipe}`
- **Prompt template:** `{prompt.get("template")}`{f" (system prompt: {prompt['system_prompt']!r})" if prompt.get("system_prompt") else ""}
- **Training settings:** {settings or "see jssp_sft_run.json"}

## Results

Final evaluation on the run's held-out split (the generation eval verifies every schedule strictly):

{results}

## Usage

```bash
jssp-sft solve --model {repo_id} --instance problem.txt --decoding guaranteed --output schedule.json
```

`problem.txt` holds your instance in any format `jssp-sft solve` reads (detected): the Starjob `input` text, the
OR-Library/JSPLIB standard format, Taillard's, the Starjob `matrix`, JSON or CSV. The command prints the schedule and
writes it as JSON (`.txt` gives Starjob text, `.csv` a table; `--gantt schedule.png` draws it). Guaranteed decoding
keeps every answer feasible; every answer is checked by the verifier either way.

The prompt settings are in `{SETTINGS_FILE}`; the full configuration of the run is in `{RUN_INFO_FILE}`.
"""
    return ModelCard(content)


def _merged_copy(output_dir: Path, target: Path) -> None:
    """Merge a run's adapter into its base model and save it, with the run's tokenizer and metadata, to ``target``."""
    from ..modeling.loading import load_tokenizer, load_trained_model

    model = load_trained_model(output_dir, merge=True)
    model.save_pretrained(target)
    load_tokenizer(str(output_dir)).save_pretrained(target)
    for name in (
        SETTINGS_FILE,
        RUN_INFO_FILE,
        "train_results.json",
        "eval_results.json",
        "all_results.json",
        "trainer_state.json",
        LOSS_CURVE_FILE,
    ):
        if (output_dir / name).is_file():
            shutil.copy2(output_dir / name, target / name)


def push_run(
    output_dir: str | Path,
    repo_id: str,
    merge: bool = False,
    private: bool | None = None,
    token: str | None = None,
    revision: str | None = None,
    commit_message: str | None = None,
) -> str:
    """Upload a run (its adapter, or with ``merge`` the merged model) with a model card; returns the commit URL."""
    from huggingface_hub import HfApi

    directory = Path(output_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a training run directory")
    if merge and not is_adapter_dir(directory):
        raise ValueError(f"--merge needs a LoRA run, but {directory} holds no adapter_config.json")
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) if merge else directory
        if merge:
            _merged_copy(directory, folder)
        card = build_model_card(folder, repo_id, merged=merge)
        card.save(folder / "README.md")
        repo_url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        if revision is not None:
            api.create_branch(repo_url.repo_id, branch=revision, exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_url.repo_id,
            folder_path=folder,
            allow_patterns=UPLOAD_PATTERNS,
            ignore_patterns=["*/*"],  # top-level files only: no checkpoint-*/, data/, base-model/, generations/
            revision=revision,
            commit_message=commit_message or ("Upload merged model" if merge else "Upload jssp-sft run"),
        )
    logger.info("pushed %s to %s", directory, commit.commit_url)
    return commit.commit_url
