"""Self-labeling (`jssp-sft improve`): a real round end to end on the tiny model (guaranteed sampling, the verifier,
an SFTTrainer step, the held-out evaluation beside the controls), the best label per instance against the verifier on
every sample, a round killed mid-sampling resumed without duplicates or losses, and the recipes."""

import json
import random
from pathlib import Path

import pytest
import torch
import yaml
from conftest import argv, serial_record, weighted_loss_by_hand

from jssp_sft.core.codec import format_solution, parse_instance
from jssp_sft.core.verifier import verify
from jssp_sft.evaluation import rounds
from jssp_sft.improve import ImproveScriptArguments, improve, make_parser, pool_problems, round_run
from jssp_sft.sft import build_trainer
from jssp_sft.solve import Problem
from jssp_sft.solve import self_labeling as sl


pytestmark = pytest.mark.xdist_group("improve")  # one worker runs the shared round once

RECIPES = Path(__file__).resolve().parent.parent / "recipes"
IMPROVE_RECIPES = sorted(RECIPES.glob("*/improve/*.yaml"))


def tiny_args(model_dir, output_dir, *extra: str):
    """A one-round run small enough for a test: 4 pool instances of 3x3, N=4, 3 held-out instances, 2 SFT steps."""
    small = argv(
        model_name_or_path=model_dir,
        output_dir=output_dir,
        pool_num_instances=4,
        pool_sizes="3x3",
        pool_max_duration=20,
        num_rounds=1,
        num_samples=4,
        sampling_batch_size=4,
        eval_num_instances=3,
        eval_time_limit=5,
        keep_sample_texts="true",
        use_cpu="true",
        bf16="false",
        max_steps=2,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        save_strategy="steps",
        save_steps=1,
        logging_steps=1,
        report_to="tensorboard",
        max_length=1024,
        dtype="float32",
    )
    return make_parser().parse_args_and_config([*small, *extra])


@pytest.fixture(scope="module")
def finished_round(tmp_path_factory, tiny_model_dir):
    """One real round on the untrained tiny model: ``(output_dir, rows, script_args)``."""
    output_dir = tmp_path_factory.mktemp("improve")
    script_args, training_args, model_args = tiny_args(tiny_model_dir, output_dir)
    rows = improve(script_args, training_args, model_args)
    return output_dir, rows, script_args


def test_one_round_end_to_end(finished_round, tiny_model_dir):
    output_dir, rows, script_args = finished_round
    round_1 = sl.round_dir(output_dir, 1)
    problems = sl.round_problems(pool_problems(script_args, seed=0), 1, None)
    records = sl.read_jsonl(round_1 / sl.RECORDS_FILE)
    assert [r["id"] for r in records] == [p.id for p in problems]
    for record, problem in zip(records, problems):
        assert parse_instance(record["input"]) == problem.instance
        report = verify(problem.instance, record["output"])
        assert report.feasible and report.makespan_matches and report.makespan == record["makespan"]
        assert record["improve_round"] == 1 and record["num_samples"] == 4 and record["label_source"] == "model"
        assert record["model_revision"].startswith(f"{tiny_model_dir}@") and len(record["model_revision"]) > 13
        assert record["decoding"] == "guaranteed" and record["feasible_samples"] == 4  # guaranteed: all feasible

    # the records load through the package's loader, provenance columns beside the Starjob fields
    from jssp_sft.data.loading import load_starjob

    loaded = load_starjob(str(round_1 / sl.RECORDS_FILE), test_size=0)["train"]
    assert len(loaded) == len(records)
    assert {"improve_round", "label_source", "model_revision", "makespan"} <= set(loaded.column_names)

    # a real SFTTrainer run: 2 optimizer steps, a saved model whose weights moved
    state = json.loads((round_1 / sl.MODEL_DIR / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    from safetensors.torch import load_file

    before = load_file(str(Path(tiny_model_dir) / "model.safetensors"))
    after = load_file(str(round_1 / sl.MODEL_DIR / "model.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before if k in after)

    # one row per round (0: the starting model), with the model's gaps beside the controls at the same N
    assert [row["round"] for row in rows] == [0, 1]
    for row in rows:
        assert row["greedy_feasible_rate"] == 1.0 and row["best_of_n_feasible_rate"] == 1.0
        assert row["greedy_gap"] >= 0 and row["best_of_n_gap"] >= 0  # CP-SAT proves these tiny instances optimal
        assert row["random_n_gap"] <= row["random_1_gap"] and row["cpsat_gap"] == 0.0
        assert row["eval_num_samples"] == 4 and row["held_out_instances"] == 3
    assert rows[1]["train_records"] == 4 and rows[1]["replay_records"] == 0 and rows[1]["train_steps"] == 2
    assert json.loads((output_dir / rounds.ROWS_FILE).read_text()) == rows
    table = (output_dir / rounds.TABLE_FILE).read_text()
    assert table.count("\n") == 4 and "best-of-N gap" in table
    assert (output_dir / rounds.PLOT_FILE).read_bytes()[:4] == b"\x89PNG"

    # the rows reached the tracker named by report_to (tensorboard), one step per round
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = [p for p in output_dir.rglob("events.out.tfevents.*") if round_1 not in p.parents]
    assert events
    accumulator = EventAccumulator(str(events[0].parent))
    accumulator.Reload()
    greedy = accumulator.Scalars("improve/greedy_gap")  # through accelerate's tracker, the round as the step
    assert [e.step for e in greedy] == [0, 1]
    assert [pytest.approx(e.value) for e in greedy] == [row["greedy_gap"] for row in rows]


def test_a_round_trains_with_the_sft_levers(tiny_model_dir, tmp_path):
    """A round's trainer is ``jssp_sft.sft``'s: ``job_choice_loss_weight: 4`` weights the loss it computes, and
    ``drop_long_examples`` drops the records longer than ``max_length`` instead of truncating them."""
    from jssp_sft.training.trainer import StarjobSFTTrainer

    rng = random.Random(0)
    train_file = tmp_path / sl.TRAIN_FILE
    sl.write_jsonl_atomic(train_file, [serial_record(rng, n, n) for n in (2, 2, 3, 3)])
    script_args, training_args, model_args = tiny_args(
        tiny_model_dir, tmp_path, "--job_choice_loss_weight", "4", "--per_device_train_batch_size", "4"
    )
    run = round_run(train_file, str(tiny_model_dir), tmp_path / "model", script_args, training_args, model_args)
    assert run[0].job_choice_loss_weight == 4.0 and run[0].dataset_name == str(train_file)
    trainer, _ = build_trainer(*run)
    assert isinstance(trainer, StarjobSFTTrainer) and trainer.job_choice_loss_weight == 4.0
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.train()
    with torch.no_grad():
        loss = trainer.compute_loss(trainer.model, dict(batch)).item()
    assert batch["job_choice_mask"].any()
    assert loss == pytest.approx(weighted_loss_by_hand(trainer.model, batch, 4.0), rel=1e-4)
    assert loss != pytest.approx(weighted_loss_by_hand(trainer.model, batch, 1.0), rel=1e-3)

    lengths = sorted(len(example["input_ids"]) for example in trainer.train_dataset)
    assert lengths[1] < lengths[2]  # two 2x2 records, two longer 3x3 ones
    short = tiny_args(tiny_model_dir, tmp_path, "--max_length", str(lengths[1]))
    trainer, _ = build_trainer(*round_run(train_file, str(tiny_model_dir), tmp_path / "short", *short))
    assert sorted(len(example["input_ids"]) for example in trainer.train_dataset) == lengths[:2]
    assert trainer.num_dropped_long == {"train": 2}


def test_a_round_from_a_candidates_model_trains_candidates_answers(tiny_model_dir, tmp_path):
    """The starting model's saved answer format (candidate lines, their options) is the round's: its records are
    trained as candidates answers (the bug of a first run here: rounds trained plain answers and wrecked the model)."""
    import shutil

    from jssp_sft.data.templates import PromptFormat

    start = tmp_path / "start"
    shutil.copytree(tiny_model_dir, start)
    saved = PromptFormat(answer_format="candidates", candidate_order="start", candidate_ties="listed")
    saved.save_pretrained(start)
    rng = random.Random(0)
    train_file = tmp_path / sl.TRAIN_FILE
    sl.write_jsonl_atomic(train_file, [serial_record(rng, n, n) for n in (2, 3)])
    script_args, training_args, model_args = tiny_args(start, tmp_path)
    run = round_run(train_file, str(start), tmp_path / "model", script_args, training_args, model_args)
    assert run[0].prompt_format(str(start)) == saved
    trainer, _ = build_trainer(*run)
    text = trainer.processing_class.decode(trainer.train_dataset[0]["input_ids"])
    assert "Next: J" in text and " =A" in text


def test_best_label_is_the_minimum_over_the_verified_samples(finished_round):
    output_dir, _, _ = finished_round
    round_1 = sl.round_dir(output_dir, 1)
    records = {r["id"]: r for r in sl.read_jsonl(round_1 / sl.RECORDS_FILE)}
    lines = sl.read_jsonl(round_1 / sl.SAMPLES_FILE)
    for line in lines:
        instance = parse_instance(line["input"])
        makespans = []
        for sample in line["samples"]:
            report = verify(instance, sample["text"])  # the verifier on each sample, independently of the solver
            if report.feasible:
                makespans.append(report.makespan)
        assert len(makespans) == 4
        assert records[line["id"]]["makespan"] == min(makespans)
        assert records[line["id"]]["model_makespan"] == min(makespans)


def test_existing_label_wins_only_when_strictly_better():
    from jssp_sft.solvers.controls import random_control
    from jssp_sft.solvers.cpsat import solve_cpsat

    problem = sl.generated_problems(1, "4x4", seed=7, max_duration=20)[0]
    instance = problem.instance
    samples = [random_control(instance, 1, seed).schedule for seed in range(6)]
    texts = [format_solution(s.with_declared_makespan()) for s in samples]
    texts.append("Solution:\nJ0-M0: 0+1 -> 1")  # an infeasible sample never counts
    best = min(range(6), key=lambda i: samples[i].makespan)
    line = {
        "id": problem.id,
        "best_text": texts[best],
        "samples": [{"feasible": verify(instance, t).feasible} for t in texts],
    }

    optimal = solve_cpsat(instance, time_limit=10).schedule
    assert optimal.makespan < samples[best].makespan  # random schedules of a 4x4 are not optimal here
    with_label = Problem.from_instance(instance, id=problem.id, record={"output": format_solution(optimal)})
    label = sl.choose_label(with_label, line)
    assert (label.source, label.makespan, label.model_makespan) == (
        "existing",
        optimal.makespan,
        samples[best].makespan,
    )
    assert label.feasible_samples == 6 and label.num_samples == 7
    assert sl.choose_label(with_label, line, keep_existing=False).source == "model"

    worst = max(samples, key=lambda s: s.makespan)
    with_worse = Problem.from_instance(instance, id=problem.id, record={"output": format_solution(worst)})
    label = sl.choose_label(with_worse, line)
    assert (label.source, label.makespan, label.existing_makespan) == ("model", samples[best].makespan, worst.makespan)
    record = sl.label_record(label, 2, "m@abc", "guaranteed", 1.0)
    assert verify(instance, record["output"]).valid and record["label_source"] == "model"
    # an existing label that fails verification never wins
    broken = Problem.from_instance(instance, id=problem.id, record={"output": "Solution:\nJ0-M0: 0+1 -> 1"})
    assert sl.choose_label(broken, line).source == "model"
    assert sl.choose_label(broken, {"id": problem.id, "best_text": None, "samples": []}) is None


def test_killed_round_resumes_without_duplicates_or_losses(tmp_path, tiny_model_dir, monkeypatch):
    from jssp_sft.solve import JSSPSolver

    output_dir = tmp_path / "run"
    iter_solve = JSSPSolver.iter_solve

    class Killed(Exception):
        pass

    def killed_after_two(self, problems, *args, **kwargs):
        if len(problems) == 4:  # the round's sampling, not the held-out evaluation
            for done, result in enumerate(iter_solve(self, problems, *args, **kwargs)):
                if done == 2:
                    raise Killed
                yield result
        else:
            yield from iter_solve(self, problems, *args, **kwargs)

    monkeypatch.setattr(JSSPSolver, "iter_solve", killed_after_two)
    with pytest.raises(Killed):
        improve(*tiny_args(tiny_model_dir, output_dir, "--max_steps", "1", "--sampling_batch_size", "1"))
    samples_path = sl.round_dir(output_dir, 1) / sl.SAMPLES_FILE
    first = sl.read_jsonl(samples_path)
    assert len(first) == 2 and not (sl.round_dir(output_dir, 1) / sl.RECORDS_FILE).exists()
    with samples_path.open("a") as handle:  # a kill while writing the third line leaves it torn
        handle.write('{"id": "torn", "samp')

    monkeypatch.setattr(JSSPSolver, "iter_solve", iter_solve)
    script_args, training_args, model_args = tiny_args(
        tiny_model_dir, output_dir, "--max_steps", "1", "--sampling_batch_size", "1"
    )
    rows = improve(script_args, training_args, model_args)
    problems = sl.round_problems(pool_problems(script_args, seed=0), 1, None)
    lines = sl.read_jsonl(samples_path)
    assert sorted(line["id"] for line in lines) == sorted(p.id for p in problems)  # each once: none twice, none lost
    assert lines[:2] == first  # the instances sampled before the kill were kept, not sampled again
    records = sl.read_jsonl(sl.round_dir(output_dir, 1) / sl.RECORDS_FILE)
    assert sorted(r["id"] for r in records) == sorted(p.id for p in problems)
    assert [row["round"] for row in rows] == [0, 1]

    # a finished run continues from its last finished step: nothing is sampled or trained again
    stamp = samples_path.stat().st_mtime_ns
    assert improve(script_args, training_args, model_args) == rows
    assert samples_path.stat().st_mtime_ns == stamp

    # and a run resumed with other data settings is refused
    with pytest.raises(ValueError, match="num_samples"):
        improve(*tiny_args(tiny_model_dir, output_dir, "--num_samples", "8"))


def test_lora_rounds_train_one_adapter_further(tmp_path, tiny_model_dir):
    """The GPU recipes' path on the tiny model: round 1 puts a LoRA adapter on the full model, round 2 samples with
    that adapter and trains it further (with a replay of round 1's records)."""
    output_dir = tmp_path / "lora"
    args = tiny_args(
        tiny_model_dir,
        output_dir,
        "--num_rounds",
        "2",
        "--instances_per_round",
        "2",
        "--max_steps",
        "1",
        "--use_peft",
        "true",
        "--lora_r",
        "4",
        "--lora_target_modules",
        "all-linear",
        "--keep_sample_texts",
        "false",
    )
    rows = improve(*args)
    assert [row["round"] for row in rows] == [0, 1, 2]
    adapter_1, adapter_2 = (sl.round_dir(output_dir, r) / sl.MODEL_DIR for r in (1, 2))
    for adapter in (adapter_1, adapter_2):
        config = json.loads((adapter / "adapter_config.json").read_text())
        assert config["base_model_name_or_path"] == str(tiny_model_dir) and config["r"] == 4
    records_2 = sl.read_jsonl(sl.round_dir(output_dir, 2) / sl.RECORDS_FILE)
    assert {r["model_revision"].split("@")[0] for r in records_2} == {str(adapter_1)}  # sampled by round 1's adapter
    train_2 = sl.read_jsonl(sl.round_dir(output_dir, 2) / sl.TRAIN_FILE)
    assert [r["improve_round"] for r in train_2] == [2, 2, 1]  # 2 new records and round 1's replayed
    assert rows[2]["replay_records"] == 1 and rows[2]["best_of_n_feasible_rate"] == 1.0
    from safetensors.torch import load_file

    weights_1 = load_file(str(adapter_1 / "adapter_model.safetensors"))
    weights_2 = load_file(str(adapter_2 / "adapter_model.safetensors"))
    assert weights_1.keys() == weights_2.keys()
    assert any(not torch.equal(weights_1[k], weights_2[k]) for k in weights_1)


def test_round_slices_and_replay(tmp_path):
    pool = sl.generated_problems(5, "3x3", seed=3)
    assert len({p.id for p in pool}) == 5
    assert [p.id for p in sl.round_problems(pool, 1, 2)] == [pool[0].id, pool[1].id]
    assert [p.id for p in sl.round_problems(pool, 3, 2)] == [pool[4].id, pool[0].id]  # wraps around
    assert sl.round_problems(pool, 2, None) == pool
    # the generated pool is the very instances `jssp-sft generate` writes with those settings
    from jssp_sft.data.generator import GenerateArguments, generate_record

    record = generate_record(GenerateArguments(output="", num_instances=5, sizes="3x3", seed=3, time_limit=5), 2)
    assert parse_instance(record["input"]) == pool[2].instance

    for r, ids in ((1, ["a", "b", "c", "d"]), (2, ["e", "f"])):
        sl.write_jsonl_atomic(sl.round_dir(tmp_path, r) / sl.RECORDS_FILE, [{"id": i} for i in ids])
    replay = sl.replay_records(tmp_path, 3, num_new=4, replay_ratio=0.5, seed=0)
    assert len(replay) == 2 and len({r["id"] for r in replay}) == 2
    assert replay == sl.replay_records(tmp_path, 3, num_new=4, replay_ratio=0.5, seed=0)
    assert len(sl.replay_records(tmp_path, 3, num_new=100, replay_ratio=1.0, seed=0)) == 6  # all there is
    assert sl.replay_records(tmp_path, 1, num_new=4, replay_ratio=0.5, seed=0) == []
    with pytest.raises(FileNotFoundError, match="round-003"):
        sl.replay_records(tmp_path, 5, num_new=4, replay_ratio=0.5, seed=0)


def test_arguments_reject_bad_settings():
    with pytest.raises(ValueError, match="exactly one pool"):
        ImproveScriptArguments(pool_num_instances=4, pool_benchmarks="ft06")
    with pytest.raises(ValueError, match="held-out set would be the pool"):
        ImproveScriptArguments(pool_num_instances=4, pool_seed=5, eval_seed=5)
    with pytest.raises(ValueError, match="replay_ratio"):
        ImproveScriptArguments(pool_num_instances=4, replay_ratio=-1)
    assert ImproveScriptArguments(num_rounds=0).num_rounds == 0  # evaluation only: no pool needed


# ----- recipes/*/improve/*.yaml, parsed by `jssp-sft improve`'s parser and dry-built


def parse_recipe(recipe: Path):
    overrides = []
    if yaml.safe_load(recipe.read_text()).get("bf16") and not torch.cuda.is_available():
        overrides = ["--bf16", "false"]
    return make_parser().parse_args_and_config(["--config", str(recipe), *overrides])


def test_improve_recipes_exist():
    names = {str(p.relative_to(RECIPES)) for p in IMPROVE_RECIPES}
    assert names == {
        "tiny/improve/config.yaml",
        "Qwen2.5-0.5B-Instruct/improve/config.yaml",
        "Llama-3.1-8B-Instruct/improve/config.yaml",
    }


@pytest.mark.parametrize("recipe", IMPROVE_RECIPES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_improve_recipe_parses_and_dry_builds(recipe):
    from trl import get_peft_config, get_quantization_config

    assert recipe.read_text().startswith("# "), "a recipe opens with a comment saying what hardware it needs"
    script_args, training_args, model_args = parse_recipe(recipe)
    assert script_args.recipe_name == str(recipe) and script_args.pool_source == "generated"
    assert script_args.decoding == "guaranteed" and script_args.num_rounds >= 1 and script_args.num_samples >= 8
    assert (get_peft_config(model_args) is not None) == model_args.use_peft
    get_quantization_config(model_args)
    assert training_args.eval_strategy == "no" and training_args.save_strategy == "steps"
    pool = script_args.pool_num_instances
    assert script_args.instances_per_round * script_args.num_rounds <= pool  # fresh instances every round
    assert model_args.model_name_or_path.startswith("outputs/")  # starts from an SFT run


def test_improve_recipes_hardware():
    from jssp_sft.quickstart import QuickstartArguments

    tiny, tiny_training, tiny_model = parse_recipe(RECIPES / "tiny" / "improve" / "config.yaml")
    assert tiny_training.use_cpu and not tiny_training.bf16 and not tiny_model.use_peft
    assert tiny_model.model_name_or_path == QuickstartArguments.output_dir  # the `make train` output
    _, _, qwen = parse_recipe(RECIPES / "Qwen2.5-0.5B-Instruct" / "improve" / "config.yaml")
    assert qwen.use_peft and not qwen.load_in_4bit
    _, llama_training, llama = parse_recipe(RECIPES / "Llama-3.1-8B-Instruct" / "improve" / "config.yaml")
    assert llama.use_peft and llama.load_in_4bit and "8bit" in llama_training.optim


def test_cli_lists_improve():
    from jssp_sft.cli.main import COMMANDS

    assert COMMANDS["improve"][0] == "jssp_sft.improve"


def test_the_old_self_labeling_module_keeps_working_one_release(monkeypatch):
    import importlib
    import sys

    monkeypatch.delitem(sys.modules, "jssp_sft.training.self_labeling", raising=False)
    with pytest.warns(DeprecationWarning, match="jssp_sft.solve.self_labeling"):
        old = importlib.import_module("jssp_sft.training.self_labeling")
    assert old.choose_label is sl.choose_label and old.rows_table is rounds.rows_table
    assert old.RoundLogger is rounds.RoundTrackers
