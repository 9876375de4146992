"""Training throughput on CPU: real (non-padding) tokens per second of the tiny recipe's batching against the
Starjob authors' setting (random-order padded batches, no packing), same model, data and steps, in one run.

Both settings are ``SFTTrainer``s built by ``jssp_sft.sft`` from ``recipes/tiny/sft/config.yaml`` on the tiny model of
``make train``; the baseline only switches the sampler to random order. They take optimizer steps in turn (a step of
one, then a step of the other, each with its own copy of the model and optimizer, through TRL's own
``training_step``), so that whatever else runs on the machine slows both alike. Batches come from each trainer's own
dataloader; real tokens are attention-mask tokens. The default data is the generator's default dataset (3,000 records
of 2-5 jobs x 2-5 machines, durations 5-500, Starjob's smallest sizes); ``--sizes 2-3x2-3 --max_duration 99`` is
``make train``'s own data. What batching gains is bounded by the padding of random batches, i.e. by how much the
lengths of the data vary. Floor (issue 4): 1.5x.

With ``--include_packing`` it also times TRL's padding-free packing (``packing: true``, bfd) and profiles one step of
each batching (the share of scaled-dot-product attention).

    python bench/train.py [--steps 100] [--include_packing]
"""

from __future__ import annotations

import os


os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see jssp_sft/quickstart.py: spinning threads on shared cores
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

from transformers import HfArgumentParser  # noqa: E402


RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "tiny" / "sft" / "config.yaml"
FLOOR = 1.5


@dataclass
class BenchArguments:
    steps: int = field(
        default=100,
        metadata={
            "help": "Timed optimizer steps per setting. group_by_length sorts megabatches of 50 batches by "
            "descending length, so time whole megabatches (100 = two) to see every length."
        },
    )
    warmup_steps: int = field(default=2, metadata={"help": "Untimed steps before the clock starts."})
    num_instances: int | None = field(default=None, metadata={"help": "Records to generate (None: the default)."})
    sizes: str | None = field(default=None, metadata={"help": "Instance sizes to generate (None: the default)."})
    max_duration: int | None = field(default=None, metadata={"help": "Longest duration (None: the default)."})
    include_packing: bool = field(default=False, metadata={"help": "Also time and profile padding-free packing."})
    work_dir: str | None = field(default=None, metadata={"help": "Where data/model/runs go (default: a temp dir)."})


@dataclass
class Setting:
    """One batching: its trainer, its batches and what was measured."""

    name: str
    trainer: object
    batches: object = None
    seconds: float = 0.0
    real_tokens: int = 0
    padded_tokens: int = 0
    widths: list = field(default_factory=list)
    attention_cells: int = 0
    attention_share: float | None = None

    @property
    def tokens_per_second(self) -> float:
        return self.real_tokens / self.seconds


def build(name: str, work: Path, base: Path, dataset: Path, steps: int, *overrides: str) -> Setting:
    from jssp_sft.sft import build_trainer
    from jssp_sft.training.arguments import make_sft_parser

    argv = [
        "--config",
        str(RECIPE),
        "--model_name_or_path",
        str(base),
        "--dataset_name",
        str(dataset),
        "--output_dir",
        str(work / name),
        "--max_steps",
        str(steps),
        "--eval_strategy",
        "no",
        "--save_strategy",
        "no",
        "--load_best_model_at_end",
        "false",
        "--report_to",
        "none",
        *overrides,
    ]
    script_args, training_args, model_args = make_sft_parser().parse_args_and_config(argv)
    training_args.log_level = "warning"
    trainer, _ = build_trainer(script_args, training_args, model_args)
    trainer.create_optimizer_and_scheduler(num_training_steps=steps)
    trainer.current_gradient_accumulation_steps = 1  # what Trainer.train sets up before its first step
    trainer.model.train()
    return Setting(name, trainer, iter(trainer.get_train_dataloader()))


def step(setting: Setting, timed: bool) -> None:
    """One optimizer step of ``setting`` on its next batch, through TRL's ``training_step``."""
    trainer = setting.trainer
    batch = next(setting.batches)
    rows, width = batch["input_ids"].shape
    start = time.perf_counter()
    trainer.training_step(trainer.model, batch)
    trainer.optimizer.step()
    trainer.lr_scheduler.step()
    trainer.optimizer.zero_grad(set_to_none=True)
    elapsed = time.perf_counter() - start
    if timed:
        setting.seconds += elapsed
        setting.real_tokens += int(batch["attention_mask"].sum()) if "attention_mask" in batch else rows * width
        setting.padded_tokens += rows * width
        setting.widths.append(width)
        setting.attention_cells += rows * width * width  # what sdpa computes without a varlen kernel


def attention_share(setting: Setting) -> float:
    """Share of one training step's CPU time spent in scaled-dot-product attention."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step(setting, timed=False)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    return sum(e.self_cpu_time_total for e in events if "scaled_dot_product" in e.key) / total


def main() -> None:
    import torch

    from jssp_sft.data.generator import ensure_default_dataset
    from jssp_sft.modeling.tiny import TinyModelArguments, build_tiny

    (args,) = HfArgumentParser(BenchArguments).parse_args_into_dataclasses()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work_dir or tmp)
        data_settings = {"num_instances": args.num_instances, "sizes": args.sizes, "max_duration": args.max_duration}
        dataset = ensure_default_dataset(work / "data", **{k: v for k, v in data_settings.items() if v is not None})
        base = work / "base-model"
        if not (base / "config.json").is_file():
            build_tiny(TinyModelArguments(output_dir=str(base)))
        total = args.steps + args.warmup_steps + 1
        settings = [
            build("authors", work, base, dataset, total, "--train_sampling_strategy", "random", "--packing", "false"),
            build("recipe", work, base, dataset, total),
        ]
        print(
            f"model {base} ({torch.get_num_threads()} threads), data {dataset}: {args.steps} timed steps each, "
            f"taken in turn"
        )
        for i in range(args.warmup_steps + args.steps):
            for setting in settings:
                step(setting, timed=i >= args.warmup_steps)
        if args.include_packing:
            # a packed step holds 8 bins of max_length tokens (~4x a padded step's tokens): fewer steps suffice
            packing_steps = max(args.steps // 5, 5)
            packing = build(
                "packing",
                work,
                base,
                dataset,
                packing_steps + args.warmup_steps + 1,
                "--packing",
                "true",
                "--packing_strategy",
                "bfd",
                "--train_sampling_strategy",
                "random",
            )
            for i in range(args.warmup_steps + packing_steps):
                step(packing, timed=i >= args.warmup_steps)
            settings.append(packing)
            for setting in settings:
                setting.attention_share = attention_share(setting)

    baseline = settings[0].tokens_per_second
    header = (
        f"\n{'setting':<9} {'real tok/s':>10} {'ratio':>6} {'padding':>8} {'row width':>10} {'attn cells/token':>17}"
    )
    print(header + (f" {'attention share':>16}" if args.include_packing else ""))
    for s in settings:
        line = f"{s.name:<9} {s.tokens_per_second:>10.0f} {s.tokens_per_second / baseline:>5.2f}x"
        line += f" {1 - s.real_tokens / s.padded_tokens:>8.1%} {sum(s.widths) // len(s.widths):>10}"
        line += f" {s.attention_cells / s.real_tokens:>17.0f}"
        if s.attention_share is not None:
            line += f" {s.attention_share:>16.1%}"
        print(line)
    ratio = settings[1].tokens_per_second / baseline
    print(f"\nrecipe / authors: {ratio:.2f}x (floor {FLOOR}x): {'PASS' if ratio >= FLOOR else 'FAIL'}")


if __name__ == "__main__":
    main()
