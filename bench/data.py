"""Data pipeline speed: instances generated per second (CP-SAT, 1 vs 2 processes) and records per second through
the whole loading path (read, validate, token-length filter, split, format, tokenize), in one run.

    python bench/data.py [--num_instances 400] [--num_records 20000]

Generation: ``--num_instances`` random 6x6 instances (durations 5-500) solved with a 1 s CP-SAT limit by
``jssp_sft.data.generator.generate_dataset`` on 1 and then 2 processes (process start-up included); prints both rates and
the speed-up from the second process, and checks that both files are byte-identical.

Loading: a ``--num_records`` JSONL file of Starjob records (2x2 to 10x10, schedules from a dispatching rule, so that
writing it takes seconds) goes through ``jssp_sft.data.loading.load_starjob`` (with the tiny tokenizer's token-length filter)
and ``format_dataset``, then every example is tokenized as ``SFTTrainer`` does (prompt + completion + EOS). The
baseline, timed in the same run, does the same work one record at a time: ``json.loads``, ``record_problem``,
``PromptFormat.training_example``, one tokenizer call and the length check (the package's path tokenizes twice: once
for its length filter, once as ``SFTTrainer`` would). Both must count the same tokens.
"""

from __future__ import annotations

import json
import os
import random
import resource
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


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
            f"({statuses.count('OPTIMAL')} optimal; {cpu:.2f} CPU s, {args.num_instances / cpu:.1f} instances per CPU s)"
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


def naive_loading(path: Path, tokenizer, prompt_format, max_length: int) -> int:
    """The baseline, doing the same work one record at a time: parse, validate, format, tokenize, length filter."""
    from jssp_sft.data.loading import record_problem

    tokens = 0
    with path.open() as handle:
        for line in handle:
            record = json.loads(line)
            if record_problem(record) is not None:
                continue
            example = prompt_format.training_example(record)
            ids = tokenizer(example["prompt"] + example["completion"] + tokenizer.eos_token)["input_ids"]
            if len(ids) <= max_length:
                tokens += len(ids)
    return tokens


def pipeline_loading(path: Path, tokenizer, prompt_format, max_length: int, cache_dir: str) -> tuple[int, dict]:
    """The package's path: load_starjob (read, validate, token-length filter, split) -> format_dataset -> tokenize
    (batched, as SFTTrainer's own preprocessing does). Returns the tokens and each stage's seconds."""
    from jssp_sft.data.loading import format_dataset, load_starjob

    seconds = {}
    began = time.perf_counter()
    splits = load_starjob(str(path), tokenizer=tokenizer, max_length=max_length, cache_dir=cache_dir)
    seconds["load_starjob (read, validate, length filter, split)"] = time.perf_counter() - began
    began = time.perf_counter()
    formatted = format_dataset(splits, prompt_format)
    seconds["format_dataset"] = time.perf_counter() - began

    def tokenize(batch: dict) -> dict:
        texts = [p + c + tokenizer.eos_token for p, c in zip(batch["prompt"], batch["completion"])]
        return {"input_ids": tokenizer(texts)["input_ids"]}

    began = time.perf_counter()
    tokens = 0
    for split in formatted.values():
        tokenized = split.map(tokenize, batched=True, remove_columns=split.column_names, desc="Tokenizing")
        tokens += sum(len(ids) for ids in tokenized.with_format("arrow")["input_ids"].to_pylist())
    seconds["tokenize (batched map)"] = time.perf_counter() - began
    return tokens, seconds


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
    tokenizer = build_tokenizer()
    prompt_format = PromptFormat()

    began = time.perf_counter()
    naive_tokens = naive_loading(path, tokenizer, prompt_format, args.max_length)
    naive = time.perf_counter() - began
    began = time.perf_counter()
    tokens, stages = pipeline_loading(path, tokenizer, prompt_format, args.max_length, str(workdir / "cache"))
    pipeline = time.perf_counter() - began
    assert tokens == naive_tokens, (tokens, naive_tokens)
    print(f"naive loop, same work (json.loads, record_problem, training_example, one tokenizer call, length check): "
          f"{args.num_records / naive:,.0f} records/s ({naive_tokens:,} tokens)")  # fmt: skip
    print(f"jssp_sft loading path: {args.num_records / pipeline:,.0f} records/s formatted and tokenized")
    for stage, seconds in stages.items():
        print(f"  {stage}: {seconds:.1f} s ({args.num_records / seconds:,.0f} records/s)")
    print(f"ratio to the naive loop: {naive / pipeline:.2f}x")


def main() -> None:
    # Imported here, not at the top: the generator's worker processes re-import this script, and should not pay for
    # transformers.
    from transformers import HfArgumentParser

    (args,) = HfArgumentParser(BenchArguments).parse_args_into_dataclasses()
    load = os.getloadavg()[0]
    print(
        f"{os.cpu_count()} CPUs, load average {load:.2f} at start" + (" (busy: timings are noisy)" if load > 1 else "")
    )
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_generation:
            bench_generation(args, Path(tmp))
        if not args.skip_loading:
            bench_loading(args, Path(tmp))


if __name__ == "__main__":
    main()
