"""Data pipeline speed: instances generated per second (CP-SAT, 1 vs 2 processes) and records per second through
the loading path (read, validate, split, format), in one run.

    python bench/data.py [--num_instances 400] [--num_records 20000]

Generation: ``--num_instances`` random 6x6 instances (durations 5-500) solved with a 1 s CP-SAT limit by
``jssp_sft.data.generator.generate_dataset`` on 1 and then 2 processes (process start-up included); prints both rates
and the speed-up from the second process, and checks that both files are byte-identical.

Loading: a ``--num_records`` JSONL file of Starjob records (2x2 to 10x10, schedules from a dispatching rule, so that
writing it takes seconds) goes through ``jssp_sft.data.load_starjob`` and ``format_dataset``, which give the columns
``SFTTrainer`` takes (``prompt``, ``completion``). The baseline, timed in the same run (before and after, to cancel load
drift), makes the same output one record at a time: ``json.loads``, ``record_problem``,
``PromptFormat.training_example``. Both must give identical examples. Tokenizing is the trainer's own step (TRL's
preprocessing, then the length filter of ``drop_long_examples``), the same for either path: it is timed once, after.
"""

from __future__ import annotations

import json
import random
import resource
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import machine_line, parse


@dataclass
class BenchArguments:
    num_instances: int = field(default=400, metadata={"help": "6x6 instances to generate on each process count."})
    time_limit: float = field(default=1.0, metadata={"help": "CP-SAT limit per instance, in seconds."})
    num_records: int = field(default=20_000, metadata={"help": "Records in the file for the loading path."})
    max_length: int = field(default=4096, metadata={"help": "Token-length filter of the loading path."})
    skip_generation: bool = field(default=False, metadata={"help": "Run only the loading half."})
    skip_loading: bool = field(default=False, metadata={"help": "Run only the generation half."})


# ---------------------------------------------------------------------------------------------------- generation


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the generator's worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench_generation(args: BenchArguments, workdir: Path) -> None:
    from jssp_sft.data.generator import GenerateArguments, generate_dataset

    rates, files = {}, {}
    for num_proc in (1, 2):
        settings = GenerateArguments(
            output=str(workdir / f"generated-{num_proc}.jsonl"),
            num_instances=args.num_instances,
            sizes="6x6",
            time_limit=args.time_limit,
            num_proc=num_proc,
        )
        began, cpu_began = time.perf_counter(), cpu_seconds()
        files[num_proc] = generate_dataset(settings, progress=False)
        elapsed, cpu = time.perf_counter() - began, cpu_seconds() - cpu_began
        rates[num_proc] = args.num_instances / elapsed
        statuses = [json.loads(line)["solver_status"] for line in files[num_proc].open()]
        print(
            f"generate 6x6, {args.time_limit:g} s limit, {num_proc} process{'es' if num_proc > 1 else ''}: "
            f"{args.num_instances} instances in {elapsed:.2f} s = {rates[num_proc]:.1f} instances/s "
            f"({statuses.count('OPTIMAL')} optimal; {cpu:.2f} CPU s, "
            f"{args.num_instances / cpu:.1f} instances per CPU s)"
        )
    identical = files[1].read_bytes() == files[2].read_bytes()
    print(f"speed-up from the second process: {rates[2] / rates[1]:.2f}x; files byte-identical: {identical}")


# ------------------------------------------------------------------------------------------------------- loading


def write_records(path: Path, num_records: int, seed: int = 0) -> None:
    """Starjob records of 2x2 to 10x10 instances, scheduled by non-delay MOPNR (fast; every record is feasible)."""
    from jssp_sft import Instance, to_record
    from jssp_sft.solvers.dispatching import dispatching_rule

    rng = random.Random(seed)
    with path.open("w") as handle:
        for _ in range(num_records):
            n, m = rng.randint(2, 10), rng.randint(2, 10)
            instance = Instance(
                tuple(tuple((k, rng.randint(5, 500)) for k in rng.sample(range(m), m)) for _ in range(n)), m
            )
            handle.write(json.dumps(to_record(instance, dispatching_rule(instance, "MOPNR", "non_delay"))) + "\n")


def naive_loading(path: Path, prompt_format) -> list:
    """The baseline, one record at a time: parse, validate, format. Returns the formatted examples."""
    from jssp_sft.data.validation import record_problem

    kept = []
    with path.open() as handle:
        for line in handle:
            record = json.loads(line)
            if record_problem(record) is not None:
                continue
            kept.append(prompt_format.training_example(record))
    return kept


def pipeline_loading(path: Path, prompt_format, cache_dir: str) -> tuple[list, dict]:
    """The package's path: load_starjob (read, validate, split) -> format_dataset (the columns SFTTrainer takes).
    Returns the formatted examples (train then test) and each stage's seconds."""
    from jssp_sft.data import format_dataset, load_starjob

    seconds = {}
    began = time.perf_counter()
    splits = load_starjob(str(path), cache_dir=cache_dir)
    seconds["load_starjob (read, validate, split)"] = time.perf_counter() - began
    began = time.perf_counter()
    formatted = format_dataset(splits, prompt_format)
    seconds["format_dataset"] = time.perf_counter() - began
    kept = []
    for split in formatted.values():
        columns = split.with_format("arrow")[:]
        kept += [dict(zip(columns.column_names, row)) for row in zip(*(c.to_pylist() for c in columns.columns))]
    return kept, seconds


def trainer_tokenization(examples: list, tokenizer, max_length: int, workdir: Path) -> float:
    """Seconds TRL's ``SFTTrainer`` takes to tokenize ``examples`` and drop the long ones (``StarjobSFTTrainer``):
    the step after loading, the same whichever path made the examples."""
    from datasets import Dataset
    from trl import SFTConfig

    from jssp_sft.modeling.tiny import build_model
    from jssp_sft.training.trainer import StarjobSFTTrainer

    dataset = Dataset.from_list(examples)
    args = SFTConfig(output_dir=str(workdir / "trainer"), use_cpu=True, report_to="none", max_length=max_length)
    model = build_model(
        tokenizer,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    began = time.perf_counter()
    StarjobSFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer, drop_long_examples=True
    )
    return time.perf_counter() - began


def bench_loading(args: BenchArguments, workdir: Path) -> None:
    import datasets

    from jssp_sft.data.templates import PromptFormat
    from jssp_sft.modeling.tiny import build_tokenizer

    datasets.disable_caching()
    datasets.disable_progress_bars()
    path = workdir / "records.jsonl"
    began = time.perf_counter()
    write_records(path, args.num_records)
    print(
        f"wrote {args.num_records} records ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - began:.1f} s"
    )
    prompt_format = PromptFormat()

    # The baseline runs before and after the package's path, so that a change of load cancels; wall and CPU seconds
    # (this process's, all threads) are both kept, since on busy cores the wall time mostly measures the neighbours.
    naive_times = []
    for turn in range(2):
        if turn == 1:
            began, cpu_began = time.perf_counter(), time.process_time()
            ours, stages = pipeline_loading(path, prompt_format, str(workdir / "cache"))
            pipeline = (time.perf_counter() - began, time.process_time() - cpu_began)
        began, cpu_began = time.perf_counter(), time.process_time()
        naive = naive_loading(path, prompt_format)
        naive_times.append((time.perf_counter() - began, time.process_time() - cpu_began))
    naive_wall, naive_cpu = (sum(t[k] for t in naive_times) / 2 for k in (0, 1))
    identical = sorted(map(repr, ours)) == sorted(map(repr, naive))  # the split reorders; compare as multisets
    n = args.num_records
    print(
        f"naive loop, same output (json.loads, record_problem, training_example): {n / naive_wall:,.0f} records/s, "
        f"{n / naive_cpu:,.0f} per CPU s ({naive_times[0][0]:.2f} s before, {naive_times[1][0]:.2f} s after)"
    )
    print(
        f"jssp_sft loading path: {n / pipeline[0]:,.0f} records/s, {n / pipeline[1]:,.0f} per CPU s, to "
        f"SFTTrainer's input columns; identical examples: {identical}"
    )
    for stage, seconds in stages.items():
        print(f"  {stage}: {seconds:.2f} s ({n / seconds:,.0f} records/s)")
    print(f"ratio to the naive loop: {naive_wall / pipeline[0]:.2f}x wall, {naive_cpu / pipeline[1]:.2f}x CPU")
    seconds = trainer_tokenization(naive, build_tokenizer(), args.max_length, workdir)
    print(
        f"then, for either path: SFTTrainer's own tokenization and the length filter, {n / seconds:,.0f} records/s "
        f"({seconds:.1f} s)"
    )
    print(machine_line("at the end"))


def main() -> None:
    args = parse(BenchArguments)
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_generation:
            bench_generation(args, Path(tmp))
        if not args.skip_loading:
            bench_loading(args, Path(tmp))


if __name__ == "__main__":
    main()
