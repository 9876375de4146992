"""``jssp-sft quickstart`` (``make train``): data, tiny model, training, held-out solving, table and loss curve."""

import json
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file

from jssp_sft import parse_instance
from jssp_sft.quickstart import DEFAULT_RECIPE, RESULTS_FILE, QuickstartArguments, held_out_sizes, main, prepare
from jssp_sft.sft import train
from jssp_sft.solvers.controls import random_control
from jssp_sft.training.arguments import make_sft_parser
from jssp_sft.training.run import run_held_out_records


def small_recipe(tmp_path: Path) -> Path:
    """The real tiny recipe with a few steps and short answers."""
    recipe = yaml.safe_load(Path(DEFAULT_RECIPE).read_text())
    recipe.update(
        eval_steps=2,
        save_steps=2,
        logging_steps=1,
        eval_split_size=8,
        generation_eval_problems=2,
        generation_eval_max_new_tokens=16,
        per_device_train_batch_size=4,
    )
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_prepare_caches_data_and_model(tmp_path):
    args = QuickstartArguments(output_dir=str(tmp_path), num_instances=12)
    dataset, base = prepare(args)
    assert dataset.parent == tmp_path / "data" and len(dataset.read_text().splitlines()) == 12
    record = json.loads(dataset.read_text().splitlines()[0])
    assert (record["num_jobs"], record["num_machines"]) == (4, 4)
    assert (base / "config.json").is_file() and (base / "tokenizer.json").is_file()
    stamps = dataset.stat().st_mtime_ns, (base / "model.safetensors").stat().st_mtime_ns
    assert prepare(args) == (dataset, base)
    assert (dataset.stat().st_mtime_ns, (base / "model.safetensors").stat().st_mtime_ns) == stamps
    # a base model built with other settings (an older version's defaults) is rebuilt, not reused
    settings = json.loads((base / "tiny_model_args.json").read_text())
    (base / "tiny_model_args.json").write_text(json.dumps(settings | {"number_tokens": 0}))
    prepare(args)
    assert (base / "model.safetensors").stat().st_mtime_ns != stamps[1]
    assert json.loads((base / "tiny_model_args.json").read_text()) == settings


def test_quickstart_end_to_end(tmp_path, capsys):
    from jssp_sft.cli.main import main as cli_main

    out = tmp_path / "run"
    argv = ["quickstart", "--output_dir", str(out), "--recipe", str(small_recipe(tmp_path)), "--num_instances", "40"]
    argv += ["--max_steps", "4", "--test_problems", "3"]
    argv += ["--zero_shot_sizes", "5x5", "--zero_shot_problems", "2", "--zero_shot_benchmark", "ft:6x6"]
    code = cli_main(argv)
    assert code == 0
    printed = capsys.readouterr().out
    for row in (
        "3 held-out problems",
        "train loss",
        "eval loss",
        "lift over the random control",
        "model, greedy (N=1)",
        "random control, 1 sample",
        "model, best of 8",
        "random control, best of 8",
        "round robin",
        "best fixed job order per size",
        "best dispatching rule: ",
        "CP-SAT",
        "free decoding, greedy: parse",
        "per-decision accuracy",
        "another same-size instance's prompt",
        "size panel",
        "best of all rules, per instance",
        "answers: starjob",
    ):
        assert row in printed, row
    results = json.loads((out / RESULTS_FILE).read_text())
    assert results["steps"] == 4 and results["held_out_problems"] == 3
    # Guaranteed decoding answers every problem feasibly, with the right makespan, whatever the model learned.
    assert results["guaranteed"]["feasible_rate"] == results["guaranteed"]["valid_rate"] == 1.0
    assert results["train_loss_first"] > 0 and results["eval_loss"] > 0
    # the controls are those of the very held-out records, read back from the run; the lift is their difference
    records = run_held_out_records(out, 3)
    assert results["held_out_sizes"] == held_out_sizes(records)
    instances = [parse_instance(r["input"]) for r in records]
    bounds = [r["makespan"] for r in records]
    random_gaps = [(random_control(inst, 8, seed=0).makespan - b) / b for inst, b in zip(instances, bounds)]
    assert results["controls"]["random"]["8"] == pytest.approx(sum(random_gaps) / 3)
    assert results["lift"]["8"] == pytest.approx(sum(random_gaps) / 3 - results["best_of_n"]["mean_gap"])
    assert results["lift"]["1"] == pytest.approx(
        results["controls"]["random"]["1"] - results["guaranteed"]["mean_gap"]
    )
    assert results["diagnostics"]["records"] == 3 and results["diagnostics"]["decisions"] > 0
    # the size panel: the training size, then zero-shot sizes, each with its rules and the same-decoder control
    panel = results["size_panel"]
    assert [(p["size"], p["instances"]) for p in panel] == [("4x4", 3), ("5x5", 2), ("6x6", 1)]
    assert panel[0]["random_same_decoder"]["1"] == pytest.approx(results["controls"]["random"]["1"])
    for scores in panel:
        assert scores["best_of_rules"] <= min(scores["rules"].values()) + 1e-12
        assert scores["rules"][scores["best_rule"]] == min(scores["rules"].values())
    # ft06's column, recomputed: every rule in both variants against its best known makespan (55)
    from jssp_sft.benchmarks.instances import load_benchmark
    from jssp_sft.solvers.dispatching import RULES, dispatching_rule

    ft06, info = load_benchmark("ft06")
    expected = {
        f"{rule} ({variant})": (dispatching_rule(ft06, rule, variant).makespan - info.upper_bound) / info.upper_bound
        for rule in RULES
        for variant in ("insertion", "non_delay")
    }
    assert panel[2]["rules"] == pytest.approx(expected)
    assert panel[2]["best_of_rules"] == pytest.approx(min(expected.values()))
    assert (out / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "model.safetensors").is_file() and (out / "jssp_sft_prompt.json").is_file()

    # run again: the finished run is evaluated, not trained further
    state = (out / "trainer_state.json").read_text()
    assert cli_main(argv) == 0
    assert (out / "trainer_state.json").read_text() == state
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    again = json.loads((out / RESULTS_FILE).read_text())

    def untimed(run):  # the figures, without the wall times
        panel = [{k: v for k, v in scores.items() if k != "seconds"} for scores in run["size_panel"]]
        return {k: v for k, v in run.items() if k != "wall_time_s"} | {"size_panel": panel}

    assert untimed(again) == untimed(results)


@pytest.mark.slow
def test_make_train_defaults_learn_the_format(tmp_path):
    """The real `make train` run: after its few minutes the tiny model writes parseable, finished answers."""
    assert main(QuickstartArguments(output_dir=str(tmp_path))) == 0
    results = json.loads((tmp_path / RESULTS_FILE).read_text())
    assert results["free"]["parse_rate"] > 0.5 and results["guaranteed"]["feasible_rate"] == 1.0
    assert results["train_loss_last"] < results["train_loss_first"] / 3


# ----- reproducibility: the same seed gives the same data, initial model and trained weights


def _weights(directory):
    return load_file(str(directory / "model.safetensors"))


def _assert_equal_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].equal(b[name]), name


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """The quickstart's data and base model, built twice from scratch in two directories."""
    runs = []
    for name in ("first", "second"):
        directory = tmp_path_factory.mktemp(name)
        runs.append(prepare(QuickstartArguments(output_dir=str(directory), num_instances=24)))
    return runs


def test_data_and_initial_model_are_the_same_twice(prepared):
    (data_a, base_a), (data_b, base_b) = prepared
    assert data_a.read_bytes() == data_b.read_bytes()
    assert (base_a / "tokenizer.json").read_text() == (base_b / "tokenizer.json").read_text()
    _assert_equal_weights(_weights(base_a), _weights(base_b))


def test_two_short_training_runs_with_the_same_seed_give_equal_weights(prepared, tmp_path):
    """The real tiny recipe (data order by length groups, dropout-free Qwen2, AdamW) for a few steps, twice."""
    (data, base), _ = prepared
    recipe = small_recipe(tmp_path)
    trained = []
    for name in ("a", "b"):
        argv = [
            "--config",
            str(recipe),
            "--model_name_or_path",
            str(base),
            "--dataset_name",
            str(data),
            "--output_dir",
            str(tmp_path / name),
            "--max_steps",
            "3",
            "--eval_strategy",
            "no",
            "--save_strategy",
            "no",
            "--load_best_model_at_end",
            "false",
        ]
        train(*make_sft_parser().parse_args_and_config(argv))
        trained.append(_weights(tmp_path / name))
    _assert_equal_weights(*trained)
    initial = _weights(base)
    assert any(not trained[0][k].equal(initial[k]) for k in initial if k in trained[0])  # it did train
