"""``jssp-sft quickstart`` (``make train``): data, tiny model, training, held-out solving, table and loss curve."""

import json
from pathlib import Path

import pytest
import yaml

from jssp_sft.quickstart import DEFAULT_RECIPE, RESULTS_FILE, QuickstartArguments, main, prepare


def small_recipe(tmp_path: Path) -> Path:
    """The real tiny recipe with a few steps and short answers."""
    recipe = yaml.safe_load(Path(DEFAULT_RECIPE).read_text())
    recipe.update(eval_steps=2, save_steps=2, logging_steps=1, eval_split_size=8, generation_eval_problems=2,
                  generation_eval_max_new_tokens=16, per_device_train_batch_size=4)  # fmt: skip
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_prepare_caches_data_and_model(tmp_path):
    args = QuickstartArguments(output_dir=str(tmp_path), num_instances=12)
    dataset, base = prepare(args)
    assert dataset.parent == tmp_path / "data" and len(dataset.read_text().splitlines()) == 12
    record = json.loads(dataset.read_text().splitlines()[0])
    assert 2 <= record["num_jobs"] <= 3 and 2 <= record["num_machines"] <= 3
    assert (base / "config.json").is_file() and (base / "tokenizer.json").is_file()
    stamps = dataset.stat().st_mtime_ns, (base / "model.safetensors").stat().st_mtime_ns
    assert prepare(args) == (dataset, base)
    assert (dataset.stat().st_mtime_ns, (base / "model.safetensors").stat().st_mtime_ns) == stamps


def test_quickstart_end_to_end(tmp_path, capsys):
    from jssp_sft.cli.main import main as cli_main

    out = tmp_path / "run"
    code = cli_main(["quickstart", "--output_dir", str(out), "--recipe", str(small_recipe(tmp_path)),
                     "--num_instances", "40", "--max_steps", "4", "--test_problems", "3"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    for row in ("3 held-out problems", "train loss", "eval loss", "parse rate", "feasible rate", "mean gap",
                "free decoding", "guaranteed decoding"):  # fmt: skip
        assert row in printed
    results = json.loads((out / RESULTS_FILE).read_text())
    assert results["steps"] == 4 and results["held_out_problems"] == 3
    assert 0 <= results["free"]["parse_rate"] <= 1 and 0 <= results["free"]["feasible_rate"] <= 1
    # Guaranteed decoding answers every problem feasibly, with the right makespan, whatever the model learned.
    assert results["guaranteed"]["feasible_rate"] == results["guaranteed"]["valid_rate"] == 1.0
    assert results["guaranteed"]["mean_gap"] >= 0
    assert results["train_loss_first"] > 0 and results["eval_loss"] > 0
    assert (out / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "model.safetensors").is_file() and (out / "jssp_sft_prompt.json").is_file()

    # run again: the finished run is evaluated, not trained further
    state = (out / "trainer_state.json").read_text()
    assert cli_main(["quickstart", "--output_dir", str(out), "--recipe", str(small_recipe(tmp_path)),
                     "--num_instances", "40", "--max_steps", "4", "--test_problems", "3"]) == 0  # fmt: skip
    assert (out / "trainer_state.json").read_text() == state
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert json.loads((out / RESULTS_FILE).read_text())["free"] == results["free"]


@pytest.mark.slow
def test_make_train_defaults_learn_the_format(tmp_path):
    """The real `make train` run: after its few minutes the tiny model writes parseable, finished answers."""
    assert main(QuickstartArguments(output_dir=str(tmp_path))) == 0
    results = json.loads((tmp_path / RESULTS_FILE).read_text())
    assert results["free"]["parse_rate"] > 0.5 and results["guaranteed"]["feasible_rate"] == 1.0
    assert results["train_loss_last"] < results["train_loss_first"] / 3
