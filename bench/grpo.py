"""GRPO on CPU, before and after: does reinforcing the tiny SFT model with the verifier's rewards help?

From the ``make train`` model (``outputs/tiny-sft``; built first when missing), run the tiny GRPO recipe
(``recipes/tiny/grpo/config.yaml``) for its fixed budget of steps, and solve the same held-out small instances with
the model before and after, with free decoding and with guaranteed decoding (``JSSPSolver(decoding="guaranteed")``),
the same number of samples per instance and the same sampling seed. Printed for each of the four: over all samples
(the rollouts' view) the parse rate, the mean ``checks`` reward (the share of per-operation checks passed, which the
tiny recipe rewards), the feasible rate and the mean gap of feasible samples; and over the best of the N samples per
instance (the solver's view) the feasible rate and mean gap. Beside them, on the same instances and with the same N,
the seeded random control (``jssp_sft.solvers.controls.random_control``: a uniform pick among the unfinished jobs,
placed as guaranteed decoding places operations), round robin, the best fixed job order per size and the best
dispatching rule; each model row's lift is the random control's best-of-N gap minus its own, paired over the
instances it answered (positive: better than chance).
The held-out instances are generated and solved by CP-SAT with a seed that neither the SFT data (seed 0) nor the GRPO
prompts (seed 1) use.

    .venv/bin/python bench/grpo.py [--max_steps 30] [--eval_problems 32] [--num_samples 8]

Results go to ``<output_dir>/bench_grpo.json``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from transformers import HfArgumentParser  # noqa: E402

from jssp_sft import format_instance  # noqa: E402
from jssp_sft.core.scoring import summarize_reports  # noqa: E402
from jssp_sft.evaluation.baselines import control_summary  # noqa: E402
from jssp_sft.rewards import REWARDS  # noqa: E402


ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger("bench.grpo")


@dataclass
class GRPOBenchArguments:
    sft_dir: str = field(default="outputs/tiny-sft", metadata={"help": "The `make train` model (built if missing)."})
    recipe: str = field(default=str(ROOT / "recipes/tiny/grpo/config.yaml"), metadata={"help": "GRPO recipe."})
    output_dir: str = field(default="outputs/tiny-grpo-bench", metadata={"help": "GRPO run and results directory."})
    max_steps: int | None = field(default=None, metadata={"help": "GRPO steps (default: the recipe's budget)."})
    eval_problems: int = field(default=32, metadata={"help": "Held-out instances solved before and after."})
    eval_sizes: str = field(default="2-3x2-3", metadata={"help": "Their sizes (those of the tiny GRPO recipe)."})
    eval_seed: int = field(default=2, metadata={"help": "Generator seed of the held-out instances."})
    num_samples: int = field(default=8, metadata={"help": "Samples per instance, in every evaluation."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature of every evaluation."})
    decodings: str = field(default="free,guaranteed", metadata={"help": "Decoding modes evaluated."})
    seed: int = field(default=0, metadata={"help": "Sampling seed of every evaluation."})


def ensure_sft_model(sft_dir: str) -> None:
    """Run the quickstart (what `make train` runs) when the SFT model is missing."""
    if (Path(sft_dir) / "config.json").is_file() or (Path(sft_dir) / "adapter_config.json").is_file():
        return
    from jssp_sft.quickstart import QuickstartArguments
    from jssp_sft.quickstart import main as quickstart

    logger.info("%s is missing: running the quickstart (make train) first", sft_dir)
    quickstart(QuickstartArguments(output_dir=sft_dir))


def held_out_problems(args: GRPOBenchArguments) -> list:
    """The same CP-SAT-solved instances for every evaluation."""
    from jssp_sft.data.generator import ensure_default_dataset
    from jssp_sft.solve import dataset_problems

    path = ensure_default_dataset(
        Path(args.output_dir) / "eval-data",
        num_instances=args.eval_problems,
        sizes=args.eval_sizes,
        seed=args.eval_seed,
    )
    return dataset_problems(str(path), split="all")


def evaluate(model_dir: str, problems: list, args: GRPOBenchArguments, decoding: str, controls) -> dict:
    """Solve ``problems`` with ``model_dir``; the metric's numbers over all samples and over the best per instance."""
    from jssp_sft.solve import JSSPSolver

    solver = JSSPSolver.from_pretrained(
        model_dir,
        dtype="float32",
        device="cpu",
        num_samples=args.num_samples,
        temperature=args.temperature,
        decoding=decoding,
        seed=args.seed,
    )
    started = time.perf_counter()
    results = solver.solve_many(problems)
    seconds = time.perf_counter() - started
    reports = [sample.report for result in results for sample in result.samples]
    refs = [result.problem.bound for result in results for _ in result.samples]
    samples = summarize_reports(reports, refs)
    # What the tiny recipe's dense reward measures, on the held-out answers (the rewards read the instance's text).
    problem_texts = [format_instance(result.problem.instance) for result in results for _ in result.samples]
    texts = [sample.text for result in results for sample in result.samples]
    checks = REWARDS["checks"](problem_texts, texts)
    best_gaps = [result.gap for result in results if result.feasible and result.gap is not None]
    random_best = controls.random_by_instance[args.num_samples]
    paired = [(random_best[i], r.gap) for i, r in enumerate(results) if r.feasible and r.gap is not None]
    return {
        "sample_parse_rate": samples["parse_rate"],
        "sample_mean_checks": sum(checks) / len(checks),
        "sample_feasible_rate": samples["feasible_rate"],
        "sample_mean_gap": samples["mean_gap"],
        "sample_valid_rate": samples["valid_rate"],
        "best_of_n_feasible_rate": sum(result.feasible for result in results) / len(results),
        "best_of_n_mean_gap": sum(best_gaps) / len(best_gaps) if best_gaps else None,
        "best_of_n_lift": sum(c - g for c, g in paired) / len(paired) if paired else None,
        "seconds": seconds,
    }


def grpo_run_dir(args: GRPOBenchArguments) -> Path:
    return Path(args.output_dir) / "grpo-run"


def run_grpo(args: GRPOBenchArguments) -> tuple[dict, float]:
    """The tiny GRPO recipe from the SFT model; returns the last logged training numbers and the wall time."""
    import shutil

    from jssp_sft.grpo import make_parser, train

    run_dir = grpo_run_dir(args)
    shutil.rmtree(run_dir, ignore_errors=True)  # a fresh run every time: a finished one would only be "resumed"
    overrides = ["--model_name_or_path", args.sft_dir, "--output_dir", str(run_dir)]
    overrides += ["--generated_data_dir", str(Path(args.output_dir) / "grpo-data")]
    if args.max_steps is not None:
        overrides += ["--max_steps", str(args.max_steps)]
    started = time.perf_counter()
    trainer = train(*make_parser().parse_args_and_config(["--config", args.recipe, *overrides]))
    logs = [entry for entry in trainer.state.log_history if "reward" in entry]
    summary = {
        "steps": trainer.state.global_step,
        "first_logged": logs[0] if logs else None,
        "last_logged": logs[-1] if logs else None,
    }
    return summary, time.perf_counter() - started


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main(args: GRPOBenchArguments) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ensure_sft_model(args.sft_dir)
    problems = held_out_problems(args)
    instances, bounds = [p.instance for p in problems], [p.bound for p in problems]
    controls = control_summary(instances, bounds, (1, args.num_samples), args.seed)
    decodings = [d.strip() for d in args.decodings.split(",") if d.strip()]
    before = {decoding: evaluate(args.sft_dir, problems, args, decoding, controls) for decoding in decodings}
    training, grpo_seconds = run_grpo(args)
    after = {decoding: evaluate(str(grpo_run_dir(args)), problems, args, decoding, controls) for decoding in decodings}

    out = {
        "args": asdict(args),
        "held_out": {"problems": len(problems), "sizes": args.eval_sizes, "seed": args.eval_seed},
        "grpo": {**training, "seconds": grpo_seconds},
        "before": before,
        "after": after,
        "controls": controls.to_dict(),
    }
    Path(args.output_dir, "bench_grpo.json").write_text(json.dumps(out, indent=2, default=str) + "\n")

    print(
        f"\nGRPO bench: {training['steps']} GRPO steps of {args.recipe} in {grpo_seconds:.0f} s on CPU, from "
        f"{args.sft_dir}"
    )
    print(
        f"held out: {len(problems)} instances ({args.eval_sizes}, seed {args.eval_seed}), {args.num_samples} samples "
        f"each, temperature {args.temperature}; gap against the CP-SAT makespan"
    )
    header = (
        f"{'decoding':<11} {'model':<7} {'parsed':>7} {'checks':>7} {'feasible':>9} {'mean gap':>9} "
        f"{'best-of-N feasible':>19} {'best-of-N gap':>14} {'lift':>7}"
    )
    print(header)
    print("-" * len(header))
    for decoding in decodings:
        for name, numbers in (("SFT", before[decoding]), ("+GRPO", after[decoding])):
            print(
                f"{decoding:<11} {name:<7} {_fmt(numbers['sample_parse_rate']):>7} "
                f"{_fmt(numbers['sample_mean_checks']):>7} {_fmt(numbers['sample_feasible_rate']):>9} "
                f"{_fmt(numbers['sample_mean_gap']):>9} {_fmt(numbers['best_of_n_feasible_rate']):>19} "
                f"{_fmt(numbers['best_of_n_mean_gap']):>14} {_fmt(numbers['best_of_n_lift']):>7}"
            )
    n = args.num_samples
    random_row = (
        f"{'control':<11} {'random':<7} {'':>7} {'':>7} {1.0:>9.3f} {controls.random_sample_mean[n]:>9.3f} "
        f"{1.0:>19.3f} {controls.random[n]:>14.3f}"
    )
    print(random_row)
    print(
        f"same instances: round robin {controls.round_robin:.3f}, best fixed job order per size "
        f"{controls.best_fixed_order:.3f}, best dispatching rule {controls.best_rule} {controls.best_rule_gap:.3f} "
        f"(mean gaps; lift = the random control's best-of-{n} gap minus the model's, paired over answered instances)"
    )
    if training["first_logged"] and training["last_logged"]:
        first, last = training["first_logged"], training["last_logged"]
        print(
            f"rollouts during GRPO (first -> last logged step): reward {first['reward']:.3f} -> {last['reward']:.3f}, "
            f"feasible {first.get('rollout/feasible_rate', 0):.3f} -> {last.get('rollout/feasible_rate', 0):.3f}, "
            f"mean length {first['completions/mean_length']:.0f} -> {last['completions/mean_length']:.0f} tokens"
        )
    print(f"results: {Path(args.output_dir, 'bench_grpo.json')}")
    return 0


if __name__ == "__main__":
    (bench_args,) = HfArgumentParser(GRPOBenchArguments).parse_args_into_dataclasses()
    sys.exit(main(bench_args))
