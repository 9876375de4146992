"""Self-labeling: the model labels its own data (sample N schedules, verify, keep the best, train on it, repeat).

    jssp-sft improve --config recipes/tiny/improve/config.yaml
    accelerate launch --config_file recipes/accelerate_configs/ddp.yaml -m jssp_sft.improve \\
        --config recipes/Qwen2.5-0.5B-Instruct/improve/config.yaml [--any_field value]

Round ``r`` (1..``num_rounds``): take the round's slice of a pool of unlabelled instances (generated at given sizes
with a seed, Starjob records, or benchmark instances); sample ``num_samples`` schedules per instance with the
current model (guaranteed decoding by default: every sample is a feasible schedule), verify each, keep the best per
instance (an existing label wins when strictly better; the record says which); write the round's records with
provenance; continue SFT from the current model or adapter on them plus a replay share of earlier rounds; evaluate
on a fixed held-out set, CP-SAT-labelled, beside the controls (random policy at the same N, best dispatching rule,
CP-SAT); log the round's row to the ``report_to`` trackers, ``rounds.md``/``rounds.json`` and ``gap_per_round.png``.
Round 0 is the starting model, evaluated the same way. ``num_rounds: 0`` only evaluates a model.

Everything is resumable: each step of a round leaves one file (``jssp_sft.solve.self_labeling``), training
resumes from its last checkpoint, and a re-run continues from the last finished step. Sampling runs in the main
process; under ``accelerate launch`` the training step is distributed as in ``jssp_sft.sft``.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path

from .evaluation import rounds
from .solve import self_labeling as sl
from .training.arguments import ImproveScriptArguments, RecipeParser, make_improve_parser


logger = logging.getLogger(__name__)

CONFIG_FILE = "improve_config.json"


def make_parser(prog: str | None = None) -> RecipeParser:
    """The parser of ``jssp-sft improve`` and ``python -m jssp_sft.improve``: script, SFT and model arguments."""
    return make_improve_parser(prog)


# --------------------------------------------------------------------------------------------------------- data


def pool_problems(script_args: ImproveScriptArguments, seed: int) -> list:
    """The run's pool of unlabelled problems, in a fixed order."""
    from .solve import benchmark_problems, dataset_problems

    if script_args.pool_source == "generated":
        return sl.generated_problems(
            script_args.pool_num_instances,
            script_args.pool_sizes,
            script_args.pool_seed,
            script_args.pool_max_duration,
            script_args.pool_instance_generator,
        )
    if script_args.pool_source == "dataset":
        return dataset_problems(
            script_args.dataset_name,
            split="all",
            subset_size=script_args.dataset_subset_size,
            max_jobs=script_args.max_jobs,
            max_machines=script_args.max_machines,
            seed=seed,
        )
    return benchmark_problems(script_args.pool_benchmarks)


def held_out_problems(script_args: ImproveScriptArguments, output_dir: str) -> list:
    """The fixed held-out problems, each with its CP-SAT makespan as the reference (generated once, then reused)."""
    from .data.generator import ensure_default_dataset
    from .solve import dataset_problems

    source = script_args.eval_dataset
    if source is None:
        overrides = {
            "num_instances": script_args.eval_num_instances,
            "sizes": script_args.eval_sizes or script_args.pool_sizes,
            "seed": script_args.eval_seed,
            "time_limit": script_args.eval_time_limit,
            "instance_generator": script_args.pool_instance_generator,
        }
        if script_args.pool_max_duration is not None:
            overrides["max_duration"] = script_args.pool_max_duration
        source = str(
            ensure_default_dataset(script_args.eval_data_dir or str(Path(output_dir) / "held-out"), **overrides)
        )
    return dataset_problems(source, split="all")


def check_settings(output_dir: Path, script_args: ImproveScriptArguments) -> None:
    """Record the data settings of a run; refuse to continue a run made with other ones."""
    path = output_dir / CONFIG_FILE
    settings = script_args.data_settings()
    if path.is_file():
        stored = json.loads(path.read_text())
        differing = [key for key in settings if stored.get(key) != settings[key]]
        if differing:
            key = differing[0]
            raise ValueError(
                f"{output_dir} holds a run made with {key}={stored.get(key)!r}, this one has {key}={settings[key]!r}: "
                "use another output_dir"
            )
        return
    sl.write_atomic(path, json.dumps(settings, indent=2) + "\n")


# --------------------------------------------------------------------------------------------------------- steps


def load_solver(model_path: str, script_args: ImproveScriptArguments, model_args, training_args, batch_size: int):
    """The solver of the current model (a full model, or an adapter on its base), with the run's prompt settings."""
    from .solve import JSSPSolver

    return JSSPSolver.from_pretrained(
        model_path,
        backend=script_args.backend,
        prompt_format=script_args.prompt_format(model_path),
        device="cpu" if training_args.use_cpu else "auto",
        load_in_4bit=bool(model_args.load_in_4bit),
        trust_remote_code=training_args.trust_remote_code,
        batch_size=batch_size,
        top_p=script_args.top_p,
        top_k=script_args.top_k,
    )


def round_run(train_file: Path, start_model: str, model_dir: Path, script_args, training_args, model_args):
    """The SFT run of a round, as ``jssp_sft.sft`` takes it: ``(script_args, training_args, model_args)`` that
    continue from ``start_model`` (a full model, or a LoRA adapter trained further) on ``train_file`` into
    ``model_dir``, with the run's SFT options and the starting model's prompt settings."""
    args = copy.deepcopy(training_args)
    args.output_dir = str(model_dir)
    round_model_args = copy.deepcopy(model_args)
    round_model_args.model_name_or_path = start_model
    round_script_args = script_args.round_arguments(str(train_file), script_args.prompt_format(start_model))
    return round_script_args, args, round_model_args


def train_round(train_file: Path, start_model: str, model_dir: Path, script_args, training_args, model_args) -> dict:
    """Train a round with ``jssp_sft.sft.train`` (the one SFT trainer path; resumes from the last checkpoint in
    ``model_dir``). Returns ``{"train_steps", "training_seconds"}``."""
    from .sft import train

    run = round_run(train_file, start_model, model_dir, script_args, training_args, model_args)
    trainer = train(*run, run_info={"trainer": "improve"})
    seconds = next((h["train_runtime"] for h in reversed(trainer.state.log_history) if "train_runtime" in h), None)
    return {"train_steps": trainer.state.global_step, "training_seconds": seconds}


def evaluate_model(model_path: str, held_out, controls, script_args, model_args, training_args) -> dict:
    """The model's greedy and best-of-N gaps on the held-out set (guaranteed decoding unless ``decoding: free``)."""
    solver = load_solver(model_path, script_args, model_args, training_args, script_args.sampling_batch_size)
    n = script_args.held_out_num_samples
    started = time.perf_counter()
    scores = rounds.evaluate_solver(
        solver, held_out, n, script_args.temperature, script_args.decoding, training_args.seed
    )
    row = {**scores, "eval_seconds": time.perf_counter() - started}
    summary = controls.summary()
    row.update(
        random_1_gap=summary["random_1_gap"],
        random_n_gap=summary[f"random_{n}_gap"],
        best_rule_gap=summary["best_rule_gap"],
        cpsat_gap=0.0,
        cpsat_optimal_rate=summary["cpsat_optimal_rate"],
        eval_num_samples=n,
        held_out_instances=len(held_out),
    )
    return row


def label_vs_random(records: list[dict], problems, num_samples: int, seed: int) -> float | None:
    """Mean ratio - 1 of the round's label makespans to the random policy's best of N on the same instances: below
    0 when the model's samples beat chance at the same budget."""
    from .solvers.controls import random_control

    by_id = {p.id: p for p in problems}
    ratios = []
    for record in records:
        problem = by_id[record["id"]]
        control = random_control(problem.instance, num_samples, seed)
        ratios.append(record["makespan"] / control.makespan)
    return sum(ratios) / len(ratios) - 1 if ratios else None


def prepare_round_data(round_index, model_path, pool, script_args, training_args, model_args) -> Path:
    """A round's data steps, each skipped when its file exists: sample, label, mix in the replay. Returns the
    round's directory (``train.jsonl`` and ``labels.json`` written)."""
    directory = sl.round_dir(training_args.output_dir, round_index)
    directory.mkdir(parents=True, exist_ok=True)
    problems = sl.round_problems(pool, round_index, script_args.instances_per_round)
    records_path = directory / sl.RECORDS_FILE
    info_path = directory / sl.LABELS_FILE
    if not records_path.is_file():
        solver = load_solver(model_path, script_args, model_args, training_args, script_args.sampling_batch_size)
        started = time.perf_counter()
        lines = sl.sample_round(
            solver,
            problems,
            directory / sl.SAMPLES_FILE,
            keep_sample_texts=script_args.keep_sample_texts,
            num_samples=script_args.num_samples,
            temperature=script_args.temperature,
            decoding=script_args.decoding,
            seed=training_args.seed + round_index,
        )
        sampling_seconds = time.perf_counter() - started
        del solver
        revision = sl.model_revision(model_path, model_args.model_revision)
        records, counts = sl.label_round(
            problems,
            lines,
            round_index,
            revision,
            script_args.decoding,
            script_args.temperature,
            keep_existing=script_args.keep_existing_labels,
        )
        if not records:
            raise RuntimeError(f"round {round_index}: no instance has a feasible sample; nothing to train on")
        counts["label_vs_random"] = label_vs_random(records, problems, script_args.num_samples, training_args.seed)
        counts["sampling_seconds"] = sampling_seconds  # of this process's part (a resumed round: the rest only)
        counts["pool_instances"] = len(problems)
        sl.write_atomic(info_path, json.dumps(counts, indent=2) + "\n")
        sl.write_jsonl_atomic(records_path, records)
        logger.info("round %d: %s", round_index, counts)
    train_path = directory / sl.TRAIN_FILE
    if not train_path.is_file():
        records = sl.read_jsonl(records_path)
        replay = sl.replay_records(
            training_args.output_dir, round_index, len(records), script_args.replay_ratio, training_args.seed
        )
        sl.write_jsonl_atomic(train_path, records + replay)
    return directory


def run_round(round_index, model_path, pool, script_args, training_args, model_args) -> tuple[str, dict]:
    """One round (each finished step skipped): the data steps on the main process, then training on every process.
    Returns the new model's path and the round's data and training figures."""
    with training_args.main_process_first(desc=f"improve round {round_index}: sampling"):
        directory = prepare_round_data(round_index, model_path, pool, script_args, training_args, model_args)
    model_dir = directory / sl.MODEL_DIR
    training_path = directory / sl.TRAINING_FILE
    if not training_path.is_file():
        figures = train_round(directory / sl.TRAIN_FILE, model_path, model_dir, script_args, training_args, model_args)
        if training_args.process_index == 0:
            sl.write_atomic(training_path, json.dumps(figures) + "\n")
    num_records = len(sl.read_jsonl(directory / sl.RECORDS_FILE))
    num_train = len(sl.read_jsonl(directory / sl.TRAIN_FILE))
    row = {"round": round_index, "start_model": model_path}
    row.update(json.loads((directory / sl.LABELS_FILE).read_text()))
    row.update(json.loads(training_path.read_text()) if training_path.is_file() else {})
    row.update(train_records=num_records, replay_records=num_train - num_records)
    return str(model_dir), row


def finish_round(output_dir: Path, rows: list[dict], row: dict, tracker, num_samples: int) -> None:
    """Store a finished round's row (its ``round.json``, then the table, JSON and PNG of every row so far)."""
    rows.append(row)
    if row["round"] > 0:
        sl.write_atomic(
            sl.round_dir(output_dir, row["round"]) / sl.ROUND_RESULT_FILE, json.dumps(row, indent=2) + "\n"
        )
    else:
        sl.write_atomic(output_dir / "round-000.json", json.dumps(row, indent=2) + "\n")
    tracker.log(row)
    rounds.write_rounds(output_dir, rows, num_samples)


def stored_row(output_dir: Path, round_index: int) -> dict | None:
    path = (
        output_dir / "round-000.json"
        if round_index == 0
        else sl.round_dir(output_dir, round_index) / sl.ROUND_RESULT_FILE
    )
    return json.loads(path.read_text()) if path.is_file() else None


def improve(script_args: ImproveScriptArguments, training_args, model_args) -> list[dict]:
    """Run (or continue) every round; returns the rows (round 0: the starting model)."""
    from transformers import set_seed

    from .training.run import setup_logging

    setup_logging(training_args)
    set_seed(training_args.seed)
    output_dir = Path(training_args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    check_settings(output_dir, script_args)
    held_out = held_out_problems(script_args, str(output_dir))
    controls = rounds.load_or_run_controls(
        output_dir / rounds.CONTROLS_FILE, held_out, script_args.held_out_num_samples, training_args.seed
    )
    pool = pool_problems(script_args, training_args.seed) if script_args.num_rounds > 0 else []
    tracker = rounds.RoundTrackers(training_args)
    rows: list[dict] = []
    model_path = model_args.model_name_or_path
    main_process = training_args.process_index == 0
    try:
        for round_index in range(script_args.num_rounds + 1):
            row = stored_row(output_dir, round_index)
            if row is not None:
                logger.info("round %d already finished; its row is kept", round_index)
                rows.append(row)
                if round_index > 0:
                    model_path = str(sl.round_dir(output_dir, round_index) / sl.MODEL_DIR)
                continue
            row = {"round": 0, "start_model": None}
            if round_index > 0:
                model_path, row = run_round(round_index, model_path, pool, script_args, training_args, model_args)
            # the main process evaluates while the others wait (one barrier), as it sampled
            with training_args.main_process_first(desc=f"improve round {round_index}: evaluation"):
                if main_process:
                    row["model"] = model_path
                    row.update(evaluate_model(model_path, held_out, controls, script_args, model_args, training_args))
                    logger.info(
                        "round %d: greedy gap %s, best-of-N gap %s",
                        round_index,
                        row["greedy_gap"],
                        row["best_of_n_gap"],
                    )
                    finish_round(output_dir, rows, row, tracker, script_args.held_out_num_samples)
    finally:
        tracker.close()
    if main_process:
        rounds.write_rounds(output_dir, rows, script_args.held_out_num_samples)
    return rows


def main(script_args: ImproveScriptArguments, training_args, model_args) -> int:
    """``jssp-sft improve`` / ``python -m jssp_sft.improve``: run the rounds, print the table."""
    rows = improve(script_args, training_args, model_args)
    print(f"jssp-sft improve: {training_args.output_dir} ({len(rows) - 1} rounds)")
    print(rounds.rows_table(rows), end="")
    return 0


if __name__ == "__main__":
    main(*make_parser().parse_args_and_config())
