"""Generate Starjob-format training data: random job-shop instances solved by CP-SAT, written as JSONL records.

Each record holds the six Starjob fields in canonical text (``num_jobs``, ``num_machines``, ``instruction``,
``input``, ``output``, ``matrix``; see ``jssp_sft.core.codec.to_record``) and these extra fields:

- ``id``: ``"{config_id}-{index}"``, unique per generation settings and record;
- ``seed``, ``index``: the global seed and the record's position; record ``index`` depends only on the settings
  and these two numbers (``generate_record(args, index)`` rebuilds it), never on ``--num-proc`` or sharding;
- ``instance_generator``: ``"uniform"`` (every job visits every machine once in a random order, integer durations
  uniform in ``min_duration..max_duration``, 5-500 as in Starjob) or ``"taillard"`` (Taillard's generator with
  seeds drawn from the record's seed, durations 1-99 by default);
- ``solver_status``: ``"OPTIMAL"`` or ``"FEASIBLE"`` (CP-SAT stopped by the time limit);
- ``lower_bound``: the solver's proven lower bound on the makespan (equal to ``makespan`` when optimal);
- ``makespan``: the makespan of the written schedule.

The written schedule is the solver's, left-justified: machine orders kept, every operation starting at the later of
its job's and its machine's previous end. That never raises the makespan and makes every start time a function of
the order, so the ``output`` text is determined by the ``matrix`` field's machine orders. Every record is checked
while it is generated: its ``output`` text passes the verifier with the declared makespan, and its ``matrix``
rebuilds the same ``output``.

Files are written resumably and atomically: records go, in index order and one whole line per write, to
``PATH.partial``, which is renamed to ``PATH`` when complete; re-running with the same settings continues an
interrupted file (a torn last line is discarded), and a complete file is reused as is. Concurrent runs on one file
take turns through a lock file (``.PATH.lock``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..benchmarks.taillard import MODULUS, taillard_instance
from ..core.builder import schedule_from_machine_orders
from ..core.codec import format_solution, parse_instance, parse_matrix, to_record
from ..core.instance import Instance
from ..core.verifier import verify
from ..solvers.cpsat import solve_cpsat


logger = logging.getLogger(__name__)

INSTANCE_GENERATORS = ("uniform", "taillard")
# Durations drawn when --min-duration/--max-duration are not given: Starjob's range, and Taillard's.
DURATION_RANGES = {"uniform": (5, 500), "taillard": (1, 99)}
PARTIAL_SUFFIX = ".partial"

_RANGE = r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?"
_SIZE_RE = re.compile(rf"{_RANGE}x{_RANGE}", re.IGNORECASE)


@dataclass(frozen=True)
class SizeSpec:
    """A size entry of ``--sizes``: jobs in ``min_jobs..max_jobs``, machines in ``min_machines..max_machines``."""

    min_jobs: int
    max_jobs: int
    min_machines: int
    max_machines: int

    def __str__(self) -> str:
        def span(low: int, high: int) -> str:
            return str(low) if low == high else f"{low}-{high}"

        return f"{span(self.min_jobs, self.max_jobs)}x{span(self.min_machines, self.max_machines)}"


def parse_sizes(text: str) -> tuple[SizeSpec, ...]:
    """``"4x4,6x6,10x5"`` or ranges such as ``"2-5x2-5"`` (jobs x machines); ``ValueError`` names the bad entry."""
    specs = []
    for entry in text.split(","):
        match = _SIZE_RE.fullmatch(entry)
        if match is None:
            raise ValueError(f"--sizes: cannot read {entry.strip()!r}; write JOBSxMACHINES, e.g. 6x6 or 2-5x2-5")
        a, b, c, d = match.groups()
        spec = SizeSpec(int(a), int(b or a), int(c), int(d or c))
        if spec.min_jobs < 1 or spec.min_machines < 1:
            raise ValueError(f"--sizes: {entry.strip()!r} needs at least one job and one machine")
        if spec.min_jobs > spec.max_jobs or spec.min_machines > spec.max_machines:
            raise ValueError(f"--sizes: {entry.strip()!r} has a range that runs backwards")
        specs.append(spec)
    return tuple(specs)


@dataclass
class GenerateArguments:
    """Arguments of ``jssp-sft generate``; the defaults build the small default dataset of ``make train``."""

    output: str = field(metadata={"help": "JSONL file to write; an interrupted or complete one is continued/reused."})
    num_instances: int = field(default=3000, metadata={"help": "Records in the whole dataset (all shards)."})
    sizes: str = field(
        default="2-5x2-5",
        metadata={
            "help": "Comma-separated JOBSxMACHINES sizes, each number or range (2-5x2-5); records cycle "
            "through the entries and draw each range uniformly."
        },
    )
    seed: int = field(default=0, metadata={"help": "Global seed; record i's seed derives from it and i."})
    time_limit: float = field(default=10.0, metadata={"help": "CP-SAT wall-clock limit per instance, in seconds."})
    num_proc: int = field(default=1, metadata={"help": "Processes solving instances in parallel."})
    num_workers: int = field(default=1, metadata={"help": "CP-SAT search workers per instance (1 is reproducible)."})
    instance_generator: Literal["uniform", "taillard"] = field(
        default="uniform", metadata={"help": "uniform (Starjob-like) or taillard (Taillard's LCG)."}
    )
    min_duration: int | None = field(
        default=None, metadata={"help": "Shortest duration; default 5 for uniform (as Starjob), 1 for taillard."}
    )
    max_duration: int | None = field(
        default=None, metadata={"help": "Longest duration; default 500 for uniform (as Starjob), 99 for taillard."}
    )
    deterministic_time_limit: float | None = field(
        default=None,
        metadata={
            "help": "Also stop CP-SAT after this much deterministic time, so that instances not solved to "
            "optimality give the same schedule on every machine."
        },
    )
    num_shards: int = field(default=1, metadata={"help": "Split the dataset into this many shards..."})
    shard_index: int = field(
        default=0,
        metadata={"help": "...and write only this one: the records whose index modulo num_shards is shard_index."},
    )

    def __post_init__(self):
        self.size_specs = parse_sizes(self.sizes)
        if self.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {self.seed}")
        if self.num_instances < 1:
            raise ValueError(f"--num-instances must be at least 1, got {self.num_instances}")
        if self.instance_generator not in INSTANCE_GENERATORS:
            raise ValueError(
                f"--instance-generator {self.instance_generator!r}: choose one of {', '.join(INSTANCE_GENERATORS)}"
            )
        low, high = self.duration_range
        if not 0 <= low <= high:
            raise ValueError(f"durations must satisfy 0 <= min <= max, got {low}..{high}")
        if self.num_proc < 1 or self.num_workers < 1:
            raise ValueError("--num-proc and --num-workers must be >= 1")
        if self.time_limit <= 0:
            raise ValueError(f"--time-limit must be positive, got {self.time_limit}")
        if self.num_shards < 1:
            raise ValueError(f"--num-shards must be >= 1, got {self.num_shards}")
        if not 0 <= self.shard_index < self.num_shards:
            raise ValueError(f"--shard-index must lie in 0..{self.num_shards - 1}, got {self.shard_index}")

    @property
    def duration_range(self) -> tuple[int, int]:
        """``(min, max)`` durations, the generator's defaults filled in."""
        low, high = DURATION_RANGES[self.instance_generator]
        return (
            low if self.min_duration is None else self.min_duration,
            high if self.max_duration is None else self.max_duration,
        )

    def config_id(self) -> str:
        """A short hash of every setting that shapes a record (not the count, the output or the parallelism)."""
        settings = {
            "seed": self.seed,
            "sizes": [str(spec) for spec in self.size_specs],
            "instance_generator": self.instance_generator,
            "durations": self.duration_range,
            "time_limit": self.time_limit,
            "num_workers": self.num_workers,
            "deterministic_time_limit": self.deterministic_time_limit,
        }
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]

    def shard_indices(self) -> range:
        """The record indices this shard writes."""
        return range(self.shard_index, self.num_instances, self.num_shards)


# ------------------------------------------------------------------------------------------------------ records


def record_rng(seed: int, index: int) -> np.random.Generator:
    """Record ``index``'s random stream: a function of the global seed and the index only."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(index,)))


def generate_instance(args: GenerateArguments, index: int, rng: np.random.Generator | None = None) -> Instance:
    """Record ``index``'s instance (its size from ``--sizes``, its numbers from its own random stream)."""
    rng = record_rng(args.seed, index) if rng is None else rng
    spec = args.size_specs[index % len(args.size_specs)]
    num_jobs = int(rng.integers(spec.min_jobs, spec.max_jobs + 1))
    num_machines = int(rng.integers(spec.min_machines, spec.max_machines + 1))
    low, high = args.duration_range
    if args.instance_generator == "taillard":
        time_seed, machine_seed = (int(x) for x in rng.integers(1, MODULUS, size=2))
        return taillard_instance(num_jobs, num_machines, time_seed, machine_seed, low, high)
    machines = [rng.permutation(num_machines) for _ in range(num_jobs)]
    durations = rng.integers(low, high + 1, size=(num_jobs, num_machines))
    return Instance.from_arrays(machines, durations, num_machines)


def generate_record(args: GenerateArguments, index: int) -> dict:
    """Record ``index``: generate its instance, solve it, write it in Starjob form, and check it.

    Raises ``RuntimeError`` when the record fails its checks (a bug, never expected).
    """
    rng = record_rng(args.seed, index)
    instance = generate_instance(args, index, rng)
    result = solve_cpsat(
        instance,
        time_limit=args.time_limit,
        num_workers=args.num_workers,
        seed=int(rng.integers(0, 2**31 - 1)),
        deterministic_time_limit=args.deterministic_time_limit,
    )
    record = {
        "id": f"{args.config_id()}-{index}",
        **to_record(instance, result.schedule),
        "seed": args.seed,
        "index": index,
        "instance_generator": args.instance_generator,
        "solver_status": result.status,
        "lower_bound": result.lower_bound,
        "makespan": result.makespan,
    }
    check_record(record, instance)
    return record


def check_record(record: dict, instance: Instance) -> None:
    """Check a generated record end to end through its text: raise ``RuntimeError`` on any inconsistency."""
    where = f"generated record {record.get('index')}"
    if parse_instance(record["input"]) != instance:
        raise RuntimeError(f"{where}: its input does not parse back to its instance")
    report = verify(instance, record["output"])
    if not report.valid or report.makespan != record["makespan"]:
        raise RuntimeError(f"{where}: the solver's schedule fails verification: {report.violations}")
    matrix = parse_matrix(record["matrix"])
    rebuilt = schedule_from_machine_orders(matrix.instance, matrix.machine_orders)
    if (
        matrix.instance != instance
        or matrix.makespan != report.makespan
        or format_solution(rebuilt) != record["output"]
    ):
        raise RuntimeError(f"{where}: its matrix field does not rebuild its output")
    if not record["lower_bound"] <= record["makespan"]:
        raise RuntimeError(f"{where}: lower bound {record['lower_bound']} exceeds makespan {record['makespan']}")


def _generate_line(job: tuple[GenerateArguments, int]) -> bytes:
    args, index = job
    return (json.dumps(generate_record(args, index), ensure_ascii=False) + "\n").encode("utf-8")


def _generate_lines(args: GenerateArguments, indices: Iterable[int]) -> Iterator[bytes]:
    """Encoded records, in the order of ``indices``, made by ``args.num_proc`` processes."""
    indices = list(indices)
    if args.num_proc == 1 or len(indices) <= 1:
        for index in indices:
            yield _generate_line((args, index))
        return
    import multiprocessing

    # spawn, not fork: the parent may hold threads (tokenizers, torch) that a forked child would inherit broken.
    context = multiprocessing.get_context("spawn")
    chunksize = max(1, min(32, len(indices) // (args.num_proc * 16)))
    with context.Pool(args.num_proc) as pool:
        yield from pool.imap(_generate_line, ((args, index) for index in indices), chunksize=chunksize)


def generate_records(args: GenerateArguments, indices: Iterable[int] | None = None) -> Iterator[dict]:
    """Generate records in memory (``indices`` default to this shard's), in order, over ``args.num_proc`` processes."""
    for line in _generate_lines(args, args.shard_indices() if indices is None else indices):
        yield json.loads(line)


# --------------------------------------------------------------------------------------------------------- files


def _valid_prefix(path: Path, expected_ids: list[str]) -> tuple[int, int]:
    """``(records, bytes)`` of the longest prefix of ``path`` holding the expected records; a torn last line is cut.

    Raises ``ValueError`` when a complete line is not the record expected there (another run's file).
    """
    count = offset = 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                logger.warning("%s: discarding a torn last line (%d bytes) of an interrupted run", path, len(line))
                break
            try:
                record_id = json.loads(line)["id"]
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{path}, line {count + 1}: not a generated record; use another --output") from None
            if count >= len(expected_ids):
                raise ValueError(
                    f"{path} holds more than the {len(expected_ids)} records asked for; use another --output"
                )
            if record_id != expected_ids[count]:
                raise ValueError(
                    f"{path}, line {count + 1}: record {record_id!r} where {expected_ids[count]!r} was expected: the file "
                    "was made with other settings (seed, sizes, generator, solver or shards); use another --output"
                )
            count += 1
            offset += len(line)
    return count, offset


@contextlib.contextmanager
def _exclusive(output: Path):
    """Hold an exclusive lock on ``output``'s hidden lock file, so that concurrent runs (e.g. every rank of a
    distributed job calling ``ensure_default_dataset``) take turns: the first writes, the others then reuse."""
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no locking
        yield
        return
    with open(output.with_name(f".{output.name}.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def generate_dataset(args: GenerateArguments, progress: bool = True) -> Path:
    """Write this shard's records to ``args.output`` (JSONL), continuing or reusing what an earlier run left.

    Returns the path of the complete file. Concurrent calls for one file wait for each other.
    """
    with _exclusive(Path(args.output)):
        return _generate_dataset(args, progress)


def _generate_dataset(args: GenerateArguments, progress: bool) -> Path:
    output = Path(args.output)
    partial = output.with_name(output.name + PARTIAL_SUFFIX)
    indices = list(args.shard_indices())
    config_id = args.config_id()
    expected_ids = [f"{config_id}-{index}" for index in indices]
    if output.exists():
        if partial.exists():
            raise ValueError(f"both {output} and {partial} exist; remove the one you do not want")
        done, _ = _valid_prefix(output, expected_ids)
        if done == len(indices):
            logger.info("%s already holds the %d records asked for; reusing it", output, done)
            return output
        os.replace(output, partial)  # a shorter complete file: extend it
    output.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    if partial.exists():
        done, offset = _valid_prefix(partial, expected_ids)
        with partial.open("r+b") as handle:
            handle.truncate(offset)
        logger.info("%s: resuming after %d of %d records", partial, done, len(indices))

    statuses: Counter = Counter()
    began = time.perf_counter()
    from tqdm.auto import tqdm

    with (
        partial.open("ab") as handle,
        tqdm(
            total=len(indices), initial=done, desc=f"generate {output.name}", unit="inst", disable=not progress
        ) as bar,
    ):
        for line in _generate_lines(args, indices[done:]):
            handle.write(line)  # one whole record per write: an interruption can only tear the last line
            handle.flush()
            statuses[json.loads(line)["solver_status"]] += 1
            bar.update(1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, output)
    elapsed = time.perf_counter() - began
    made = sum(statuses.values())
    logger.info(
        "%s: %d records (%d new in %.1f s, %.1f/s; %d optimal, %d stopped by the time limit)",
        output,
        len(indices),
        made,
        elapsed,
        made / elapsed if elapsed else 0.0,
        statuses["OPTIMAL"],
        statuses["FEASIBLE"],
    )
    if statuses["FEASIBLE"]:
        logger.warning(
            "%d records were not proven optimal within --time-limit %s s", statuses["FEASIBLE"], args.time_limit
        )
    return output


def default_dataset_name(args: GenerateArguments) -> str:
    """A file name that spells out the settings: ``generated-2-5x2-5-n3000-seed0-<config_id>.jsonl``."""
    sizes = "_".join(str(spec) for spec in args.size_specs)
    shard = f"-shard{args.shard_index}of{args.num_shards}" if args.num_shards > 1 else ""
    return f"generated-{sizes}-n{args.num_instances}-seed{args.seed}{shard}-{args.config_id()}.jsonl"


def ensure_default_dataset(directory: str | Path, progress: bool = True, **overrides: Any) -> Path:
    """The embedded default training set of ``make train``, built under ``directory`` once and then reused.

    ``overrides`` are ``GenerateArguments`` fields (``num_instances``, ``sizes``, ``seed``, ``num_proc``, ...); the
    defaults (3,000 records of 2-5 jobs x 2-5 machines, durations 5-500) build in seconds. The file name encodes the
    settings, so different settings never reuse each other's file.
    """
    if "output" in overrides:
        raise TypeError("ensure_default_dataset names its own file; pass `directory` instead of `output`")
    args = GenerateArguments(output="", **overrides)
    args = dataclasses.replace(args, output=str(Path(directory) / default_dataset_name(args)))
    return generate_dataset(args, progress=progress)
