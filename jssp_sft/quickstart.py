"""``jssp-sft quickstart`` (``make train``): the whole pipeline on CPU in a few minutes, with nothing downloaded.

Generates the default dataset (random instances solved by CP-SAT, cached under the output directory), builds the
tiny offline model, trains it with ``recipes/tiny/sft/config.yaml``, reloads the saved model, solves held-out
problems with it, scores the answers with the ``jssp_makespan`` metric, prints a short table and writes
``loss_curve.png`` beside the model.

The two cores of a laptop or CI box are often shared; OpenMP threads that spin while waiting for each other then
make training several times slower (measured here: 2.5k vs 5.5k tokens/s), so this command asks the OpenMP runtime
to sleep instead (``OMP_WAIT_POLICY=PASSIVE``, unless already set) before torch is imported.
"""

from __future__ import annotations

import os


os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib import resources  # noqa: E402
from pathlib import Path  # noqa: E402


logger = logging.getLogger(__name__)

# The tiny SFT recipe ships inside the package (a copy of the repository's recipes/tiny/sft/config.yaml, kept equal by
# tests/test_wheel.py), so an installed wheel finds it without the source tree.
DEFAULT_RECIPE = str(resources.files("jssp_sft") / "recipes" / "tiny" / "sft" / "config.yaml")
DATA_DIR = "data"
BASE_MODEL_DIR = "base-model"
RESULTS_FILE = "quickstart_results.json"


@dataclass
class QuickstartArguments:
    """What ``jssp-sft quickstart`` generates and trains; the model is ``jssp_sft.modeling.tiny``'s default, the training
    settings are the recipe's."""

    output_dir: str = field(
        default="outputs/tiny-sft", metadata={"help": "Run directory (data and base model cached)."}
    )
    recipe: str = field(default=DEFAULT_RECIPE, metadata={"help": "SFT recipe to train with."})
    num_instances: int | None = field(
        default=None, metadata={"help": "Records in the generated dataset (None: the generator's default)."}
    )
    sizes: str = field(
        default="2-3x2-3",
        metadata={"help": "Instance sizes of the generated dataset: small, so that a tiny model learns in minutes."},
    )
    max_duration: int | None = field(
        default=99,
        metadata={"help": "Longest operation duration (None: the generator's, 500 as in Starjob); 2-digit numbers "
                  "make fewer tokens to learn."},
    )  # fmt: skip
    max_steps: int | None = field(default=None, metadata={"help": "Override the recipe's max_steps (None: keep it)."})
    test_problems: int = field(
        default=64, metadata={"help": "Held-out problems solved by the trained model at the end."}
    )


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((QuickstartArguments,), prog=prog)


def prepare(args: QuickstartArguments) -> tuple[Path, Path]:
    """The generated dataset and the tiny base model, each built once under ``output_dir`` and then reused."""
    from .data.generator import ensure_default_dataset
    from .modeling.tiny import TinyModelArguments, build_tiny

    output_dir = Path(args.output_dir)
    overrides = {"sizes": args.sizes}
    if args.num_instances is not None:
        overrides["num_instances"] = args.num_instances
    if args.max_duration is not None:
        overrides["max_duration"] = args.max_duration
    dataset = ensure_default_dataset(output_dir / DATA_DIR, **overrides)
    base = output_dir / BASE_MODEL_DIR
    if not (base / "config.json").is_file():
        build_tiny(TinyModelArguments(output_dir=str(base)))
    return dataset, base


def solve_held_out(output_dir: str | Path, records: list[dict], max_new_tokens: int) -> dict[str, dict]:
    """Reload the trained model from disk, answer ``records`` greedily and score the answers with the metric.

    Twice: free decoding (what the model writes on its own) and guaranteed decoding (``jssp_sft.solve.guaranteed``: the model
    only picks the next job, so every answer is feasible and the metric measures the quality of its choices).
    """
    import evaluate

    from . import metrics
    from .core.codec import record_makespan
    from .data.templates import PromptFormat, problem_text
    from .modeling.loading import load_for_generation
    from .solve.guaranteed import guaranteed_generate
    from .solve.sampling import SamplingSettings, generate

    model, tokenizer = load_for_generation(output_dir)
    prompt_format = PromptFormat.from_pretrained(output_dir)
    prompts = [prompt_format.prompt_text(r, tokenizer) for r in records]
    settings = SamplingSettings(max_new_tokens=max_new_tokens, do_sample=False)
    metric = evaluate.load(metrics.path("jssp_makespan"))
    scores = {}
    for decoding, decode in (("free", generate), ("guaranteed", guaranteed_generate)):
        out = decode(model, tokenizer, prompts, settings=settings, batch_size=16, show_progress=True)
        scores[decoding] = metric.compute(
            predictions=[samples[0] for samples in out.texts],
            references=[problem_text(r) for r in records],
            reference_makespans=[record_makespan(r) for r in records],
        )
    return scores


def plot_loss_curve(log_history: list[dict], path: str | Path) -> Path:
    """Train and eval loss against the step, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(e["step"], e["loss"]) for e in log_history if "loss" in e]
    evals = [(e["step"], e["eval_loss"]) for e in log_history if "eval_loss" in e]
    fig, ax = plt.subplots(figsize=(6, 4))
    if train:
        ax.plot(*zip(*train), label="train loss")
    if evals:
        ax.plot(*zip(*evals), "o-", label="eval loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (completion tokens)")
    ax.set_title("jssp-sft quickstart: tiny model on CPU")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def main(args: QuickstartArguments) -> int:
    from .data.loading import load_starjob
    from .sft import train
    from .training.arguments import data_seed, make_sft_parser
    from .training.hub import LOSS_CURVE_FILE, read_json

    started = time.perf_counter()
    dataset, base = prepare(args)
    overrides = ["--model_name_or_path", str(base), "--dataset_name", str(dataset), "--output_dir", args.output_dir]
    if args.max_steps is not None:
        overrides += ["--max_steps", str(args.max_steps)]
    script_args, training_args, model_args = make_sft_parser().parse_args_and_config(
        ["--config", args.recipe, *overrides]
    )
    output_dir = Path(args.output_dir)
    finished = read_json(output_dir / "trainer_state.json").get("global_step", 0) >= training_args.max_steps
    if finished and (output_dir / "eval_results.json").is_file():
        logger.warning(
            "%s already holds a finished run: evaluating it (delete the directory to train again)", output_dir
        )
    else:
        train(script_args, training_args, model_args)
    state = read_json(output_dir / "trainer_state.json")
    history = state["log_history"]

    # The held-out split exactly as training made it (same source, filters and seed), raw records.
    held_out = load_starjob(
        str(dataset),
        subset_size=script_args.dataset_subset_size,
        max_jobs=script_args.max_jobs,
        max_machines=script_args.max_machines,
        test_size=script_args.eval_split_size,
        seed=data_seed(training_args),
    )["test"]
    records = [held_out[i] for i in range(min(args.test_problems, len(held_out)))]
    scores = solve_held_out(args.output_dir, records, script_args.generation_eval_max_new_tokens)
    curve = plot_loss_curve(history, output_dir / LOSS_CURVE_FILE)

    train_losses = [e["loss"] for e in history if "loss" in e]
    metric_keys = ("parse_rate", "feasible_rate", "valid_rate", "mean_gap", "optimal_rate", "violations")
    results = {
        "train_loss_first": train_losses[0] if train_losses else None,
        "train_loss_last": train_losses[-1] if train_losses else None,
        "eval_loss": read_json(output_dir / "eval_results.json").get("eval_loss"),  # the kept (best) model's
        "steps": state["global_step"],
        "held_out_problems": len(records),
        **{decoding: {k: result[k] for k in metric_keys} for decoding, result in scores.items()},
        "wall_time_s": time.perf_counter() - started,
    }
    (output_dir / RESULTS_FILE).write_text(json.dumps(results, indent=2) + "\n")
    free, guaranteed = results["free"], results["guaranteed"]
    rows = [
        ("steps", results["steps"], ""),
        (
            "train loss (first -> last)",
            f"{_fmt(results['train_loss_first'])} -> {_fmt(results['train_loss_last'])}",
            "",
        ),
        ("eval loss", results["eval_loss"], ""),
        ("held-out problems (greedy)", "free decoding", "guaranteed decoding"),
        ("parse rate", free["parse_rate"], guaranteed["parse_rate"]),
        ("feasible rate", free["feasible_rate"], guaranteed["feasible_rate"]),
        ("valid rate (feasible + right makespan)", free["valid_rate"], guaranteed["valid_rate"]),
        ("mean gap to CP-SAT (feasible answers)", free["mean_gap"], guaranteed["mean_gap"]),
        ("optimal rate", free["optimal_rate"], guaranteed["optimal_rate"]),
        ("wall time (s)", round(results["wall_time_s"]), ""),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"\njssp-sft quickstart: {args.output_dir} ({len(records)} held-out problems)")
    for name, value, other in rows:
        print(f"  {name:<{width}}  {_fmt(value):<20} {_fmt(other)}".rstrip())
    print(f"  loss curve: {curve}")
    return 0
