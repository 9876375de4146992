"""Data-parallel training in two real CPU processes (torchrun, gloo): the tiny recipe for a few steps."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "tiny" / "sft" / "config.yaml"


@pytest.mark.skipif(
    shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists(),
    reason="torchrun (from torch) is not installed",
)
def test_two_cpu_processes_train_the_tiny_recipe(tiny_model_dir, tmp_path):
    from jssp_sft.data.generator import ensure_default_dataset

    data = ensure_default_dataset(tmp_path / "data", progress=False, num_instances=40, sizes="2x2-3")
    output_dir = tmp_path / "run"
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    command = [
        torchrun,
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "jssp_sft.sft",
        "--config",
        str(RECIPE),
        "--model_name_or_path",
        str(tiny_model_dir),
        "--dataset_name",
        str(data),
        "--output_dir",
        str(output_dir),
        "--max_steps",
        "3",
        "--save_steps",
        "3",
        "--eval_steps",
        "3",
        "--logging_steps",
        "1",
        "--per_device_train_batch_size",
        "4",
        "--eval_split_size",
        "8",
        "--generation_eval_problems",
        "3",
        "--generation_eval_max_new_tokens",
        "16",
        "--max_length",
        "512",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]

    ranks = set(re.findall(r"process rank (\d) of (\d) \(DistributedType\.MULTI_CPU\)", output))
    assert ranks == {("0", "2"), ("1", "2")}, output[-4000:]
    state = json.loads((output_dir / "trainer_state.json").read_text())
    losses = [e["loss"] for e in state["log_history"] if "loss" in e]
    assert len(losses) == 3 and all(0 < loss < 100 for loss in losses)
    # every step saw both processes' batches: 3 steps x 2 processes x 4 examples
    assert state["global_step"] == 3
    assert json.loads((output_dir / "train_results.json").read_text())["epoch"] == pytest.approx(3 * 2 * 4 / 32)
    assert sorted(p.name for p in output_dir.glob("checkpoint-*")) == ["checkpoint-3"]
    assert (output_dir / "model.safetensors").is_file()
    assert any("eval_feasible_rate" in e for e in state["log_history"])  # the callback ran across both ranks
