"""Training levers (issue 11), each alone and combined, at one seed and one step budget: does the model read the
instance, and does it then schedule better than the controls?

Every variant trains the tiny model with ``jssp_sft.sft.train`` (the recipe plus the variant's overrides, the same
data, seed and number of steps) and is judged on the same fresh held-out instances (generated with another seed):

- per-decision accuracy, teacher-forced on the optimal completion, beside chance, and with another same-size
  instance's prompt swapped in (``jssp_sft.evaluation.diagnostics``): a model that reads its instance loses accuracy
  when the prompt is swapped; one that does not keeps it;
- greedy and best-of-N gap of guaranteed decoding, beside the random control at 1 and N samples, the best fixed job
  order per size (prompt-blind), and the best dispatching rule, all on the same instances
  (``jssp_sft.evaluation.baselines.control_summary``).

Greedy gaps swing by several points between nearby checkpoints; read the accuracy columns first.

    python bench/ablation.py                                     # README's table: 5 variants, 4x4, 1,000 steps
    python bench/ablation.py --variants baseline,numbers,capacity,lr,stream,numbers+job_weight+capacity --steps 500
"""

from __future__ import annotations

import os


os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see jssp_sft/quickstart.py: spinning threads on shared cores
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import json  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402


logger = logging.getLogger("bench.ablation")
RECIPE = Path(__file__).resolve().parent / "ablation.yaml"

# Each lever as (tiny-model options, training options). A variant is a lever or several joined by "+"
# ("numbers+job_weight"), applied on top of "baseline": the recipe on the tiny model read digit by digit (0.85M
# parameters, random number embeddings, no job weight; the `make train` model before issue 11), so that every lever's
# share is measured from the same start.
BASELINE_MODEL = {"number_tokens": 0, "number_embedding": "random"}
LEVERS: dict[str, tuple[dict, dict]] = {
    "baseline": ({}, {}),
    "numbers": ({"number_tokens": 1000}, {}),
    "number_values": ({"number_embedding": "value"}, {}),  # with "numbers": number tokens start from their value
    "capacity": ({"hidden_size": 256, "intermediate_size": 768}, {}),
    "lr": ({}, {"learning_rate": 5e-3, "warmup_steps": 0.1}),
    "lr_low": ({}, {"learning_rate": 1e-3}),
    "job_weight": ({}, {"job_choice_loss_weight": 4.0}),
    "stream": ({}, {"stream_sizes": "4x4"}),
}
DEFAULT_VARIANTS = "baseline,numbers,numbers+number_values,numbers+job_weight,numbers+number_values+job_weight"


def variant_options(name: str) -> tuple[dict, dict]:
    """The (model, training) options of a variant: its levers' options merged."""
    model, train = dict(BASELINE_MODEL), {}
    for lever in name.split("+"):
        if lever not in LEVERS:
            raise ValueError(f"--variants: unknown lever {lever!r} in {name!r}; choose among {', '.join(LEVERS)}")
        model.update(LEVERS[lever][0])
        train.update(LEVERS[lever][1])
    return model, train


@dataclass
class AblationArguments:
    variants: str = field(
        default=DEFAULT_VARIANTS,
        metadata={"help": f"Comma-separated variants, each a lever or levers joined by '+', of: {', '.join(LEVERS)}."},
    )
    steps: int = field(default=1000, metadata={"help": "Optimizer steps of every variant (make train's budget)."})
    sizes: str = field(default="4x4", metadata={"help": "Instance sizes of the training and held-out data."})
    max_duration: int = field(default=99, metadata={"help": "Longest operation duration."})
    train_records: int = field(default=12000, metadata={"help": "Generated training records (seed 0)."})
    test_records: int = field(default=64, metadata={"help": "Fresh held-out instances (seed 1)."})
    best_of: int = field(default=8, metadata={"help": "N of the best-of-N rows (model sampled at temperature 1)."})
    recipe: str = field(default=str(RECIPE), metadata={"help": "The SFT recipe every variant starts from."})
    seed: int = field(default=0, metadata={"help": "Seed of the model, the data order and the sampling."})
    num_proc: int = field(default=2, metadata={"help": "Processes that label the data with CP-SAT."})
    work_dir: str = field(default="outputs/ablation", metadata={"help": "Data, base models and runs (reused)."})
    runs: str | None = field(
        default=None,
        metadata={
            "help": "Score runs (or checkpoints) already trained instead of training the variants: comma-separated "
            "NAME=DIR pairs, e.g. 'numbers@150=outputs/ablation/run-numbers-250/checkpoint-150'."
        },
    )


def base_model(work_dir: Path, options: dict, seed: int) -> Path:
    """The tiny base model with ``options`` (built once per set of options)."""
    from jssp_sft.modeling.tiny import TinyModelArguments, build_tiny, built_with

    name = "base-" + ("-".join(f"{k}{v}" for k, v in sorted(options.items())) or "default")
    args = TinyModelArguments(output_dir=str(work_dir / name), seed=seed, **options)
    if not built_with(args.output_dir, args):
        build_tiny(args)
    return Path(args.output_dir)


def train_variant(args: AblationArguments, name: str, data: Path, work_dir: Path) -> Path:
    from jssp_sft.sft import train
    from jssp_sft.training.arguments import make_sft_parser
    from jssp_sft.training.hub import read_json

    model_options, train_options = variant_options(name)
    output_dir = work_dir / f"run-{name}-{args.steps}"
    if read_json(output_dir / "trainer_state.json").get("global_step", 0) >= args.steps:
        return output_dir
    overrides = {
        "model_name_or_path": base_model(work_dir, model_options, args.seed),
        "dataset_name": data,
        "output_dir": output_dir,
        "max_steps": args.steps,
        "seed": args.seed,
        "eval_steps": max(1, args.steps // 4),
        "save_steps": max(1, args.steps // 4),
        "generation_eval_problems": 0,
        **train_options,
    }
    argv = ["--config", args.recipe]
    for key, value in overrides.items():
        argv += [f"--{key}", str(value)]
    train(*make_sft_parser().parse_args_and_config(argv))
    return output_dir


def evaluate_variant(run_dir: Path, records: list[dict], best_of: int, seed: int) -> dict:
    from jssp_sft.core.codec import record_makespan
    from jssp_sft.core.scoring import gap, mean
    from jssp_sft.data.templates import PromptFormat
    from jssp_sft.evaluation.diagnostics import diagnose
    from jssp_sft.modeling.loading import load_for_generation
    from jssp_sft.solve.guaranteed import guaranteed_generate
    from jssp_sft.solve.sampling import SamplingSettings

    model, tokenizer = load_for_generation(str(run_dir))
    prompt_format = PromptFormat.from_pretrained(run_dir)
    found = diagnose(model, tokenizer, records, prompt_format, batch_size=16)
    prompts = [prompt_format.prompt_text(r, tokenizer) for r in records]
    sampled = guaranteed_generate(
        model, tokenizer, prompts, best_of, SamplingSettings(temperature=1.0), batch_size=16, seed=seed
    )
    bounds = [record_makespan(r) for r in records]
    best = mean([gap(min(s.makespan for s in row), b) for row, b in zip(sampled.schedules, bounds)])
    return {
        "accuracy": found.decision_accuracy,
        "chance": found.chance_accuracy,
        "swapped_accuracy": found.swapped_decision_accuracy,
        "identical_under_swap": found.identical_under_swap,
        "job_loss": found.loss_by_class["job"],
        "uniform_job_loss": found.uniform_job_loss,
        "duration_loss": found.loss_by_class["duration"],
        "greedy": found.greedy_gap,
        "swapped_greedy": found.swapped_greedy_gap,
        f"best_of_{best_of}": best,
    }


def earliest_start_agreement(records: list[dict]) -> tuple[float, float]:
    """How often "the job whose next operation can start first (ties: the shorter one)" is the optimal completion's
    next job, teacher-forced like the model's accuracy, and chance; what reading the start times alone would give."""
    from jssp_sft.core.codec import parse_instance, parse_solution

    agree = chance = decisions = 0
    for record in records:
        instance = parse_instance(record["input"])
        done, job_ready, machine_ready = [0] * instance.num_jobs, [0] * instance.num_jobs, [0] * instance.num_machines
        for op in parse_solution(record["output"]).operations:
            unfinished = [j for j in range(instance.num_jobs) if done[j] < len(instance.jobs[j])]
            if len(unfinished) > 1:
                nxt = {j: instance.jobs[j][done[j]] for j in unfinished}
                start = {j: max(job_ready[j], machine_ready[nxt[j][0]]) for j in unfinished}
                agree += op.job == min(unfinished, key=lambda j: (start[j], nxt[j][1], j))
                chance += 1 / len(unfinished)
                decisions += 1
            machine = instance.jobs[op.job][done[op.job]][0]
            done[op.job] += 1
            job_ready[op.job] = op.end
            machine_ready[machine] = max(machine_ready[machine], op.end)
    return agree / decisions, chance / decisions


def main(args: AblationArguments) -> None:
    from jssp_sft.core.codec import parse_instance, record_makespan
    from jssp_sft.data.generator import GenerateArguments, ensure_default_dataset, generate_records
    from jssp_sft.evaluation.baselines import control_summary

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    work_dir = Path(args.work_dir)
    names = [name.strip() for name in args.variants.split(",") if name.strip()]
    for name in [] if args.runs else names:
        variant_options(name)  # unknown levers fail before any work
    data = ensure_default_dataset(
        work_dir / "data",
        sizes=args.sizes,
        max_duration=args.max_duration,
        num_instances=args.train_records,
        num_proc=args.num_proc,
    )
    test = GenerateArguments(output="", sizes=args.sizes, max_duration=args.max_duration, seed=1)
    records = list(generate_records(test, range(args.test_records)))
    instances = [parse_instance(r["input"]) for r in records]

    if args.runs:
        given = dict(pair.split("=", 1) for pair in args.runs.split(","))
        names, run_dirs = list(given), {name: Path(path) for name, path in given.items()}
    results = {}
    for name in names:
        began = time.perf_counter()
        run_dir = run_dirs[name] if args.runs else train_variant(args, name, data, work_dir)
        # a run's scores are kept beside it, so that a later call with more variants reprints them without rework
        scores = run_dir / f"ablation_scores-{args.sizes}-{args.test_records}-{args.best_of}-seed{args.seed}.json"
        if scores.is_file():
            results[name] = json.loads(scores.read_text())
        else:
            results[name] = evaluate_variant(run_dir, records, args.best_of, args.seed)
            results[name]["seconds"] = time.perf_counter() - began
            scores.write_text(json.dumps(results[name], indent=2) + "\n")
        logger.warning("%s: %s", name, results[name])
    controls = control_summary(instances, [record_makespan(r) for r in records], (1, args.best_of), seed=args.seed)
    (work_dir / f"ablation-{args.steps}.json").write_text(
        json.dumps({"args": vars(args), "controls": controls.to_dict(), "variants": results}, indent=2) + "\n"
    )

    def pct(value):
        return "n/a" if value is None else f"{100 * value:.1f}"

    n = args.best_of
    print(
        f"\nbench/ablation.py: {args.sizes}, {args.steps} steps each, seed {args.seed}, {len(records)} fresh held-out "
        f"instances (load {os.getloadavg()[0]:.1f})"
    )
    print(
        f"controls on the same instances: random 1 sample {pct(controls.random[1])}%, random best of {n} "
        f"{pct(controls.random[n])}%, best fixed job order {pct(controls.best_fixed_order)}%, round robin "
        f"{pct(controls.round_robin)}%, best rule {controls.best_rule} {pct(controls.best_rule_gap)}%"
    )
    agreement, chance = earliest_start_agreement(records)
    print(
        f"reference: 'the job whose next operation can start first' is the optimal next job in {pct(agreement)}% of "
        f"the decisions (chance {pct(chance)}%); as a policy (SPT, non-delay) its gap is "
        f"{pct(controls.rules.get('SPT (non_delay)'))}%"
    )
    header = (
        "| variant | decision accuracy % (chance) | with swapped prompt % | identical greedy under swap % "
        f"| job loss (uniform) | greedy gap % | swapped-prompt greedy gap % | best-of-{n} gap % | train + score s |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for name, r in results.items():
        print(
            f"| {name} | {pct(r['accuracy'])} ({pct(r['chance'])}) | {pct(r['swapped_accuracy'])} "
            f"| {pct(r['identical_under_swap'])} | {r['job_loss']:.3f} ({r['uniform_job_loss']:.3f}) "
            f"| {pct(r['greedy'])} | {pct(r['swapped_greedy'])} | {pct(r[f'best_of_{n}'])} | {r['seconds']:.0f} |"
        )


if __name__ == "__main__":
    from transformers import HfArgumentParser

    (parsed,) = HfArgumentParser(AblationArguments).parse_args_into_dataclasses()
    main(parsed)
