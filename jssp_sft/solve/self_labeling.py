"""Self-labeling rounds' data: the model samples schedules for unlabelled instances, the verifier scores them, and the
best schedule per instance becomes a training record (after Corsini et al., "Self-Labeling the Job Shop Scheduling
Problem", NeurIPS 2024) that the next round trains on.

A round's data steps each write one file of ``<output_dir>/round-NNN/``, so that a killed run continues where it
stopped:

1. ``samples.jsonl``: N answers per instance of the round's slice of the pool (``jssp_sft.solve``'s
   ``solve_to_jsonl``, one line per instance, flushed as written; a re-run skips the instances already there, so no
   instance is sampled twice into a round and none is lost).
2. ``records.jsonl``: per instance the best verified schedule (lowest makespan over the feasible samples), or the
   instance's existing label when that is strictly better, as a Starjob record with provenance (written whole, then
   renamed into place).
3. ``train.jsonl``: those records plus a seeded replay share of the earlier rounds' records.

Training a round is ``jssp_sft.sft``'s (``jssp_sft.improve``); its held-out report is ``jssp_sft.evaluation.rounds``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.codec import parse_solution, to_record
from ..core.scoring import verify_prediction
from .problems import Problem


logger = logging.getLogger(__name__)

SAMPLES_FILE = "samples.jsonl"
RECORDS_FILE = "records.jsonl"
TRAIN_FILE = "train.jsonl"
ROUND_RESULT_FILE = "round.json"
LABELS_FILE = "labels.json"
TRAINING_FILE = "training.json"
MODEL_DIR = "model"
MODEL_LABEL, EXISTING_LABEL = "model", "existing"


def round_dir(output_dir: str | Path, round_index: int) -> Path:
    """``<output_dir>/round-001`` for round 1 (round 0 is the starting model, which has no directory)."""
    return Path(output_dir) / f"round-{round_index:03d}"


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file renamed into place: a kill leaves the old file or none."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path


def write_jsonl_atomic(path: str | Path, rows: Iterable[dict]) -> Path:
    return write_atomic(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def read_jsonl(path: str | Path) -> list[dict]:
    """Every line of a JSONL file written by this module (whole files only: they are written atomically)."""
    rows = []
    with Path(path).open() as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as err:
                    raise ValueError(f"{path}: line {number} is not JSON: {err}") from None
    return rows


def model_revision(name_or_path: str, revision: str | None = None) -> str:
    """What identifies the weights that produced a label: ``path@<12 hex of the weight files' hash>`` for a local
    directory (the adapter's weights for a LoRA run), ``hub_id@revision`` otherwise."""
    path = Path(name_or_path)
    weights = sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")) if path.is_dir() else []
    if not weights:
        return f"{name_or_path}@{revision or 'main'}"
    digest = hashlib.sha256()
    for file in weights:
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return f"{name_or_path}@{digest.hexdigest()[:12]}"


# ------------------------------------------------------------------------------------------------------- pool


def generated_problems(
    num_instances: int, sizes: str, seed: int, max_duration: int | None = None, instance_generator: str = "uniform"
) -> list[Problem]:
    """Unlabelled random instances, exactly those ``jssp-sft generate`` would solve with the same settings (same
    ids ``<config_id>-<index>``), so that a CP-SAT-labelled copy of the pool is one ``generate`` command away."""
    from ..data.generator import GenerateArguments, generate_instance

    args = GenerateArguments(
        output="",
        num_instances=num_instances,
        sizes=sizes,
        seed=seed,
        max_duration=max_duration,
        instance_generator=instance_generator,
    )
    config_id = args.config_id()
    return [
        Problem.from_instance(generate_instance(args, index), id=f"{config_id}-{index}", group="pool")
        for index in range(num_instances)
    ]


def round_problems(pool: Sequence[Problem], round_index: int, instances_per_round: int | None) -> list[Problem]:
    """Round ``round_index``'s (1-based) slice of the pool: the next ``instances_per_round`` instances, wrapping
    around a finite pool (a later round then relabels an instance with a better model); the whole pool if ``None``."""
    if not pool:
        raise ValueError("the pool of instances is empty")
    if instances_per_round is None or instances_per_round >= len(pool):
        return list(pool)
    start = (round_index - 1) * instances_per_round
    return [pool[(start + i) % len(pool)] for i in range(instances_per_round)]


# ----------------------------------------------------------------------------------------------- sampling step


def sample_round(solver, problems: Sequence[Problem], path: str | Path, keep_sample_texts: bool = False, **overrides):
    """N answers per problem into ``path`` (one line per instance), continuing a file a killed run left.

    ``overrides`` are ``SolveConfig`` fields (``num_samples``, ``temperature``, ``decoding``, ``seed``, ...). Returns
    the lines, one per problem.
    """
    from .results import solve_to_jsonl

    return solve_to_jsonl(
        solver, problems, path, include_sample_texts=keep_sample_texts, show_progress=True, **overrides
    )


# ------------------------------------------------------------------------------------------------ labeling step


@dataclass
class Label:
    """The label chosen for one instance: the best sample's schedule or the existing label, and why."""

    problem: Problem
    schedule: object  # core.schedule.Schedule
    source: str  # MODEL_LABEL or EXISTING_LABEL
    model_makespan: int | None
    existing_makespan: int | None
    feasible_samples: int
    num_samples: int

    @property
    def makespan(self) -> int:
        return self.schedule.makespan


def existing_label(problem: Problem):
    """The verified schedule of the problem's own record (its ``output``), or ``None`` when it has none or it is
    infeasible (a bad existing label never wins)."""
    record = problem.record
    if record is None or not record.get("output"):
        return None
    report = verify_prediction(problem.instance, record["output"])
    return parse_solution(record["output"]) if report.feasible else None


def choose_label(problem: Problem, line: dict, keep_existing: bool = True) -> Label | None:
    """The best schedule of one instance from its results line: the feasible sample of lowest makespan (the solver's
    choice, verified again here from its text), or the existing label when it is strictly better. ``None`` when
    neither exists (no sample feasible and no label)."""
    model_schedule = None
    if line.get("best_text") is not None:
        report = verify_prediction(problem.instance, line["best_text"])
        if not report.feasible:  # the solver verified it already: this would be a bug, never expected
            raise RuntimeError(f"{problem.id}: the chosen answer fails verification: {report.violations[0].message}")
        model_schedule = parse_solution(line["best_text"])
    existing = existing_label(problem) if keep_existing else None
    samples = line.get("samples", [])
    feasible = sum(1 for s in samples if s.get("feasible"))
    model_makespan = None if model_schedule is None else model_schedule.makespan
    existing_makespan = None if existing is None else existing.makespan
    if model_schedule is None and existing is None:
        return None
    if existing is not None and (model_schedule is None or existing.makespan < model_schedule.makespan):
        chosen, source = existing, EXISTING_LABEL
    else:
        chosen, source = model_schedule, MODEL_LABEL
    return Label(problem, chosen, source, model_makespan, existing_makespan, feasible, len(samples))


def label_record(label: Label, round_index: int, revision: str, decoding: str, temperature: float) -> dict:
    """A Starjob record (canonical text, operations in start order as in the CP-SAT data) with its provenance."""
    instance = label.problem.instance
    record = {"id": label.problem.id, **to_record(instance, label.schedule.with_declared_makespan())}
    report = verify_prediction(instance, record["output"])
    if not report.valid:
        raise RuntimeError(f"{label.problem.id}: the label record fails verification: {report.violations}")
    return {
        **record,
        "makespan": report.makespan,
        "label_source": label.source,
        "improve_round": round_index,
        "num_samples": label.num_samples,
        "feasible_samples": label.feasible_samples,
        "model_makespan": label.model_makespan,
        "existing_makespan": label.existing_makespan,
        "model_revision": revision,
        "decoding": decoding,
        "temperature": float(temperature),
    }


def label_round(
    problems: Sequence[Problem],
    lines: Sequence[dict],
    round_index: int,
    revision: str,
    decoding: str,
    temperature: float,
    keep_existing: bool = True,
) -> tuple[list[dict], dict]:
    """The round's records (one per instance with a feasible schedule, in the problems' order) and counts saying what
    was kept: ``{"instances", "labelled", "unlabelled", "model_won", "existing_won", "feasible_sample_rate"}``.

    Raises ``ValueError`` when the results lines are not exactly the problems (a line missing or extra)."""
    by_id = {line["id"]: line for line in lines}
    ids = [p.id for p in problems]
    missing = [i for i in ids if i not in by_id]
    extra = sorted(set(by_id) - set(ids))
    if missing or extra:
        raise ValueError(
            f"round {round_index}: the samples do not match the round's instances "
            f"(missing {missing[:3]}, extra {extra[:3]})"
        )
    records, counts = [], {"instances": len(problems), "model_won": 0, "existing_won": 0}
    feasible = total = 0
    for problem in problems:
        label = choose_label(problem, by_id[problem.id], keep_existing)
        samples = by_id[problem.id].get("samples", [])
        feasible += sum(1 for s in samples if s.get("feasible"))
        total += len(samples)
        if label is None:
            continue
        counts["model_won" if label.source == MODEL_LABEL else "existing_won"] += 1
        records.append(label_record(label, round_index, revision, decoding, temperature))
    counts.update(labelled=len(records), unlabelled=len(problems) - len(records))
    counts["feasible_sample_rate"] = feasible / total if total else None
    return records, counts


def replay_records(output_dir: str | Path, round_index: int, num_new: int, replay_ratio: float, seed: int) -> list:
    """``round(replay_ratio * num_new)`` records drawn (seeded by ``seed`` and the round) from the records of rounds
    ``1..round_index-1``, fewer when there are not as many."""
    earlier = []
    for r in range(1, round_index):
        path = round_dir(output_dir, r) / RECORDS_FILE
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing: round {r} did not finish, so round {round_index} cannot start"
            )
        earlier.extend(read_jsonl(path))
    wanted = min(len(earlier), round(replay_ratio * num_new))
    return random.Random(seed * 1_000_003 + round_index).sample(earlier, wanted) if wanted else []
