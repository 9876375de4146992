"""The generation-eval callback's random control: eval_random_gap and eval_lift beside eval_mean_gap."""

import pytest

from jssp_sft import parse_instance
from jssp_sft.data.templates import PromptFormat
from jssp_sft.solvers.controls import random_control
from jssp_sft.training.callbacks import GenerationEvalCallback


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from jssp_sft.data.generator import ensure_default_dataset
    from jssp_sft.evaluation.diagnostics import dataset_records

    path = ensure_default_dataset(tmp_path_factory.mktemp("data"), progress=False, num_instances=6, sizes="3x3")
    return dataset_records(str(path))


def test_random_control_and_lift_are_paired_with_the_model_samples(records):
    callback = GenerationEvalCallback(None, records, PromptFormat(), num_samples=2, seed=3)
    expected = []
    for record in records:
        drawn = random_control(parse_instance(record["input"]), 2, seed=3).makespans
        expected.append([(m - record["makespan"]) / record["makespan"] for m in drawn])
    assert [g for row in callback.random_gaps for g in row] == pytest.approx([g for row in expected for g in row])
    random_gap = sum(sum(row) for row in expected) / (2 * len(records))
    # the optimal answer (gap 0) as sample 0, an unparseable one as sample 1: the lift pairs sample 0 only
    texts = [[record["output"], "no idea"] for record in records]
    metrics = callback._score(texts, [[10, 2]] * len(records), [[True, True]] * len(records))
    assert metrics["eval_mean_gap"] == 0.0 and metrics["eval_feasible_rate"] == 0.5
    assert metrics["eval_random_gap"] == pytest.approx(random_gap)
    assert metrics["eval_lift"] == pytest.approx(sum(row[0] for row in expected) / len(records))
    assert metrics["eval_random_gap"] > 0  # 3x3 random schedules are rarely all optimal
    # no feasible sample: no gap and no lift are logged, the random control still is
    metrics = callback._score([["no", "no"]] * len(records), [[1, 1]] * len(records), [[True, True]] * len(records))
    assert "eval_lift" not in metrics and "eval_mean_gap" not in metrics and metrics["eval_random_gap"] > 0


def test_a_training_run_logs_the_random_control_beside_the_gap(tiny_model_dir, tmp_path):
    from jssp_sft.data.generator import ensure_default_dataset
    from jssp_sft.quickstart import DEFAULT_RECIPE
    from jssp_sft.sft import train
    from jssp_sft.training.arguments import make_sft_parser

    data = ensure_default_dataset(tmp_path / "data", progress=False, num_instances=24, sizes="2x2-3")
    argv = [
        "--config",
        DEFAULT_RECIPE,
        "--model_name_or_path",
        str(tiny_model_dir),
        "--dataset_name",
        str(data),
        "--output_dir",
        str(tmp_path / "run"),
        "--max_steps",
        "2",
        "--eval_steps",
        "2",
        "--save_strategy",
        "no",
        "--load_best_model_at_end",
        "false",
        "--eval_split_size",
        "4",
        "--generation_eval_problems",
        "3",
        "--generation_eval_max_new_tokens",
        "8",
        "--per_device_train_batch_size",
        "4",
    ]
    trainer = train(*make_sft_parser().parse_args_and_config(argv))
    logged = [entry for entry in trainer.state.log_history if "eval_feasible_rate" in entry]
    assert logged and all(entry["eval_random_gap"] > 0 for entry in logged)  # the random control is rarely optimal
