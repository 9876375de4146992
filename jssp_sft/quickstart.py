"""``jssp-sft quickstart`` (``make train``): the whole pipeline on CPU in a few minutes, with nothing downloaded.

Generates the default dataset (random instances solved by CP-SAT, cached under the output directory), builds the
tiny offline model, trains it with ``recipes/tiny/sft/config.yaml``, reloads the saved model, solves held-out
problems with it, scores the answers with the ``jssp_makespan`` metric, prints a short table and writes
``loss_curve.png`` beside the model. The table puts every model figure beside the controls on the same records: the
seeded random policy at the same N (greedy N=1 and best of ``best_of``), round robin, the best fixed job order per
size, the best dispatching rule (named) and CP-SAT (the records' labels); its headline is the model's lift (random
gap minus model gap, same N), with the model's per-decision accuracy beside chance and its prompt sensitivity
(``jssp_sft.evaluation.diagnostics``). Then the size panel (``jssp_sft.evaluation.zero_shot``): the same model on
fresh instances of larger sizes and on Taillard's ta01-ta10, never trained on, each beside the random policy of the
same decoder, every dispatching rule (the best one named) and the per-instance best of all rules. With the candidates
answer format (the recipe's default) the random control picks among the same top-k candidates as the model.

Every random choice is seeded (data, initial weights, data order, sampling), so two runs from scratch on one machine
print the same figures (docs/quickstart.md, "Reproducibility").

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
        default=12000,
        metadata={
            "help": "Records in the generated dataset (None: the generator's default); the recipe's 1,000 steps "
            "of 16 see each about 1.3 times."
        },
    )
    sizes: str = field(
        default="4x4",
        metadata={
            "help": "Instance sizes of the generated dataset: the smallest where a win means something (a random "
            "single sample is about 0.22 above optimal, the best job order that ignores the instance about 0.10) and "
            "a tiny model still learns in minutes (docs/quickstart.md)."
        },
    )
    max_duration: int | None = field(
        default=99,
        metadata={
            "help": "Longest operation duration (None: the generator's, 500 as in Starjob); 2-digit numbers "
            "make fewer tokens to learn."
        },
    )
    max_steps: int | None = field(default=None, metadata={"help": "Override the recipe's max_steps (None: keep it)."})
    num_hidden_layers: int | None = field(
        default=None, metadata={"help": "Layers of the tiny base model (None: jssp_sft.modeling.tiny's default)."}
    )
    sliding_window: int | None = field(
        default=None,
        metadata={
            "help": "Sliding-window attention of the tiny base model, in tokens (None: full attention); the "
            "candidates recipe uses 96 so that a decision reads only its recent lines at every answer length."
        },
    )
    test_problems: int = field(
        default=64, metadata={"help": "Held-out problems solved by the trained model at the end."}
    )
    best_of: int = field(
        default=8, metadata={"help": "Samples per held-out problem for the best-of-N row (temperature 1, guaranteed)."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of the best-of-N sampling and of the random control."})
    zero_shot_sizes: list[str] = field(
        default_factory=lambda: ["6x6", "8x8", "10x10"],
        metadata={"help": "Sizes of the fresh CP-SAT-labelled test sets of the size panel (none: --zero_shot_sizes)."},
    )
    zero_shot_problems: int = field(default=16, metadata={"help": "Fresh instances per zero-shot size."})
    zero_shot_best_of: int = field(
        default=1,
        metadata={
            "help": "Samples per instance in the size panel (1: greedy only; the table above has best of --best_of at "
            "the training size). 8 makes the panel about 9 times longer: minutes with the plain format's long answers."
        },
    )
    zero_shot_benchmark: str = field(
        default="ta:15x15",
        metadata={
            "help": "Benchmark instances of the size panel, group:size as in `jssp-sft solve --benchmark` (''=none)."
        },
    )

    def __post_init__(self):
        for name in ("num_instances", "max_steps", "max_duration"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name} must be at least 1, got {value}")
        counts = {name: getattr(self, name) for name in ("test_problems", "best_of", "zero_shot_problems")}
        counts["zero_shot_best_of"] = self.zero_shot_best_of
        low = {name: value for name, value in counts.items() if value < 1}
        if low:
            raise ValueError(", ".join(f"--{name} must be at least 1, got {value}" for name, value in low.items()))
        from .data.generator import parse_sizes

        for size in self.zero_shot_sizes:
            parse_sizes(size)  # a clear error now rather than after training


def make_parser(prog: str | None = None):
    from trl import TrlParser

    return TrlParser((QuickstartArguments,), prog=prog)


def prepare(args: QuickstartArguments) -> tuple[Path, Path]:
    """The generated dataset and the tiny base model, each built once under ``output_dir`` and then reused."""
    from .data.generator import ensure_default_dataset
    from .modeling.tiny import TinyModelArguments, build_tiny, built_with

    output_dir = Path(args.output_dir)
    overrides = {"sizes": args.sizes}
    if args.num_instances is not None:
        overrides["num_instances"] = args.num_instances
    if args.max_duration is not None:
        overrides["max_duration"] = args.max_duration
    dataset = ensure_default_dataset(output_dir / DATA_DIR, **overrides)
    base = output_dir / BASE_MODEL_DIR
    shape = {name: getattr(args, name) for name in ("num_hidden_layers", "sliding_window")}
    tiny_args = TinyModelArguments(output_dir=str(base), **{k: v for k, v in shape.items() if v is not None})
    if not built_with(base, tiny_args):  # missing, or built by another version's defaults
        build_tiny(tiny_args)
    return dataset, base


def solve_held_out(
    output_dir: str | Path, records: list[dict], max_new_tokens: int, best_of: int = 8, seed: int = 0
) -> dict:
    """Reload the trained model from disk, answer ``records`` and score the answers; run the diagnostics.

    Free decoding (greedy: what the model writes on its own) and guaranteed decoding (``jssp_sft.solve.guaranteed``:
    the model only picks the next job, so every answer is feasible and the gap measures its choices), greedy and best
    of ``best_of`` samples (temperature 1, seeded).
    """
    import evaluate

    from . import metrics
    from .core.codec import parse_instance, record_makespan
    from .core.scoring import gap, mean
    from .data.templates import PromptFormat, problem_text
    from .evaluation.diagnostics import diagnose
    from .modeling.loading import load_for_generation
    from .solve.guaranteed import guaranteed_generate
    from .solve.sampling import SamplingSettings, generate

    model, tokenizer = load_for_generation(output_dir)
    prompt_format = PromptFormat.from_pretrained(output_dir)
    prompts = [prompt_format.prompt_text(r, tokenizer) for r in records]
    instances = [parse_instance(r["input"], num_machines=r["num_machines"]) for r in records]
    bounds = [record_makespan(r) for r in records]
    greedy = SamplingSettings(max_new_tokens=max_new_tokens, do_sample=False)
    metric = evaluate.load(metrics.path("jssp_makespan"))
    scores = {}
    options = {"free": {}, "guaranteed": {"instances": instances, **prompt_format.decoding_options()}}
    for decoding, decode in (("free", generate), ("guaranteed", guaranteed_generate)):
        out = decode(
            model, tokenizer, prompts, settings=greedy, batch_size=16, show_progress=True, **options[decoding]
        )
        scores[decoding] = metric.compute(
            predictions=[samples[0] for samples in out.texts],
            references=[problem_text(r) for r in records],
            reference_makespans=bounds,
        )
    sampling = SamplingSettings(max_new_tokens=max_new_tokens, temperature=1.0, do_sample=True)
    sampled = guaranteed_generate(
        model,
        tokenizer,
        prompts,
        best_of,
        sampling,
        batch_size=16,
        seed=seed,
        show_progress=True,
        **options["guaranteed"],
    )
    best = [min(s.makespan for s in row) for row in sampled.schedules]
    scores["best_of_n"] = {
        "n": best_of,
        "mean_gap": mean([gap(m, b) for m, b in zip(best, bounds)]),
        "optimal_rate": mean([float(m <= b) for m, b in zip(best, bounds)]),
    }
    scores["diagnostics"] = diagnose(model, tokenizer, records, prompt_format).to_dict()
    return scores


def score_controls(records: list[dict], best_of: int, seed: int, top_k: int = 0) -> dict:
    """The controls on the held-out records (``jssp_sft.evaluation.baselines.control_summary``); ``top_k``: the
    random control picks among the candidates the model is given (its decoder's random policy)."""
    from .core.codec import parse_instance, record_makespan
    from .evaluation.baselines import control_summary

    instances = [parse_instance(r["input"], num_machines=r["num_machines"]) for r in records]
    summary = control_summary(instances, [record_makespan(r) for r in records], (1, best_of), seed, top_k=top_k)
    return summary.to_dict()


def size_panel(args: QuickstartArguments, records: list[dict]) -> list[dict]:
    """The trained model on the held-out records (its training size) and, zero-shot, on fresh instances of
    ``zero_shot_sizes`` and on ``zero_shot_benchmark``, each beside its controls (``jssp_sft.evaluation.zero_shot``)."""
    from .benchmarks.instances import benchmark_names
    from .core.codec import parse_instance, record_makespan
    from .data.templates import PromptFormat
    from .evaluation.zero_shot import TestSet, benchmark_test_set, generated_test_set, score_test_set
    from .modeling.loading import load_for_generation

    optimal = sum(r.get("solver_status", "OPTIMAL") == "OPTIMAL" for r in records)
    sets = [
        TestSet(
            f"{held_out_sizes(records).split(':')[0]} (trained)",
            [parse_instance(r["input"], num_machines=r["num_machines"]) for r in records],
            [record_makespan(r) for r in records],
            f"CP-SAT, the records' labels (optimal on {optimal}/{len(records)})",
        )
    ]
    directory = Path(args.output_dir) / DATA_DIR / "zero-shot"
    sets += [generated_test_set(size, args.zero_shot_problems, directory) for size in args.zero_shot_sizes]
    if args.zero_shot_benchmark:
        group, _, size = args.zero_shot_benchmark.partition(":")
        names = benchmark_names(group, size or None)
        sets.append(benchmark_test_set(names, f"{names[0]}-{names[-1]}"))
    model, tokenizer = load_for_generation(args.output_dir)
    prompt_format = PromptFormat.from_pretrained(args.output_dir)
    return [
        score_test_set(
            model, tokenizer, prompt_format, test_set, args.zero_shot_best_of, args.seed, show_progress=True
        ).to_dict()
        for test_set in sets
    ]


def held_out_sizes(records: list[dict]) -> str:
    """``"2x2: 16, 2x3: 14, ..."``: the sizes of the records, read from the data."""
    from collections import Counter

    counts = Counter((r["num_jobs"], r["num_machines"]) for r in records)
    return ", ".join(f"{j}x{m}: {count}" for (j, m), count in sorted(counts.items()))


def _describe(prompt_format) -> str:
    """``"candidates (top-4; fields sdw, lb scale, by job)"`` or ``"starjob"``."""
    if not prompt_format.candidates:
        return prompt_format.answer_format
    top = f"top-{prompt_format.candidate_top_k}" if prompt_format.candidate_top_k else "all"
    return (
        f"candidates ({top}; fields {prompt_format.candidate_fields}, {prompt_format.candidate_scale} scale, "
        f"by {prompt_format.candidate_order})"
    )


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def print_table(args: QuickstartArguments, results: dict) -> None:
    """The quickstart's table: the lift first, every model row beside the controls on the same held-out records."""
    n = args.best_of
    controls, guaranteed, best, free = (results[k] for k in ("controls", "guaranteed", "best_of_n", "free"))
    diagnostics = results["diagnostics"]
    lift_1, lift_n = results["lift"]["1"], results["lift"][str(n)]
    print(f"\njssp-sft quickstart: {args.output_dir}")
    print(
        f"  {results['steps']} steps, train loss {_fmt(results['train_loss_first'])} -> "
        f"{_fmt(results['train_loss_last'])}, eval loss {_fmt(results['eval_loss'])}; "
        f"{results['held_out_problems']} held-out problems ({results['held_out_sizes']})"
    )
    print(
        f"  lift over the random control (its gap minus the model's, same N): {100 * lift_1:+.2f} points greedy, "
        f"{100 * lift_n:+.2f} points best of {n}"
    )
    decoder = f" (top-{controls['top_k']} candidates, as the model)" if controls.get("top_k") else ""
    rows = [
        ("held-out problems, guaranteed decoding", "mean gap", "optimal"),
        ("model, greedy (N=1)", _pct(guaranteed["mean_gap"]), _pct(guaranteed["optimal_rate"])),
        (f"random control{decoder}, 1 sample", _pct(controls["random"][1]), ""),
        (f"model, best of {n} (temperature 1)", _pct(best["mean_gap"]), _pct(best["optimal_rate"])),
        (f"random control{decoder}, best of {n}", _pct(controls["random"][n]), ""),
        ("round robin (never reads the instance)", _pct(controls["round_robin"]), ""),
        ("best fixed job order per size (idem)", _pct(controls["best_fixed_order"]), ""),
        (f"best dispatching rule: {controls['best_rule']}", _pct(controls["best_rule_gap"]), ""),
        ("CP-SAT (the records' labels: the reference)", _pct(0.0), _pct(results["records_proven_optimal"])),
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, gap_text, optimal in rows:
        print(f"  {name:<{width}}  {gap_text:>9}  {optimal:>8}".rstrip())
    print(
        f"  free decoding, greedy: parse {_pct(free['parse_rate'])}, feasible {_pct(free['feasible_rate'])}, valid "
        f"{_pct(free['valid_rate'])}, mean gap of feasible answers {_pct(free['mean_gap'])}"
    )
    print(
        f"  reads the instance? per-decision accuracy {_pct(diagnostics['decision_accuracy'])} (chance "
        f"{_pct(diagnostics['chance_accuracy'])})"
    )
    print(
        f"  identical greedy answers with another same-size instance's prompt: "
        f"{_pct(diagnostics['identical_under_swap'])}; one greedy order per size: {diagnostics['depends_only_on_size']}"
    )
    panel = results.get("size_panel")
    if panel:
        from .evaluation.zero_shot import SetScores, panel_lines

        print(
            "  size panel: the same model, guaranteed decoding, on its training size and zero-shot on sizes it never saw"
        )
        for line in panel_lines([SetScores(**scores) for scores in panel], controls.get("top_k", 0)):
            print(line)
    print(f"  answers: {results['answer_format']}; wall time {results['wall_time_s']:.0f} s")


def main(args: QuickstartArguments) -> int:
    from .data.templates import PromptFormat
    from .evaluation.plots import loss_curve
    from .sft import train
    from .training.arguments import make_sft_parser
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
    held_out = script_args.load_records(training_args)["test"]
    records = [held_out[i] for i in range(min(args.test_problems, len(held_out)))]
    scores = solve_held_out(
        args.output_dir, records, script_args.generation_eval_max_new_tokens, args.best_of, args.seed
    )
    prompt_format = PromptFormat.from_pretrained(output_dir)  # what the run saved beside its model
    top_k = prompt_format.choice_top_k
    controls = score_controls(records, args.best_of, args.seed, top_k)
    panel = size_panel(args, records)
    curve = loss_curve(history, output_dir / LOSS_CURVE_FILE, "jssp-sft quickstart: tiny model on CPU")

    train_losses = [e["loss"] for e in history if "loss" in e]
    metric_keys = ("parse_rate", "feasible_rate", "valid_rate", "mean_gap", "optimal_rate", "violations")
    guaranteed, best = scores["guaranteed"], scores["best_of_n"]
    results = {
        "train_loss_first": train_losses[0] if train_losses else None,
        "train_loss_last": train_losses[-1] if train_losses else None,
        "eval_loss": read_json(output_dir / "eval_results.json").get("eval_loss"),  # the kept (best) model's
        "steps": state["global_step"],
        "held_out_problems": len(records),
        "held_out_sizes": held_out_sizes(records),
        **{decoding: {k: scores[decoding][k] for k in metric_keys} for decoding in ("free", "guaranteed")},
        "best_of_n": best,
        "controls": controls,
        "lift": {
            "1": controls["random"][1] - guaranteed["mean_gap"],
            str(args.best_of): controls["random"][args.best_of] - best["mean_gap"],
        },
        "diagnostics": scores["diagnostics"],
        "records_proven_optimal": sum(r.get("solver_status", "OPTIMAL") == "OPTIMAL" for r in records) / len(records),
        "size_panel": panel,
        "answer_format": _describe(prompt_format),
        "wall_time_s": time.perf_counter() - started,
    }
    (output_dir / RESULTS_FILE).write_text(json.dumps(results, indent=2) + "\n")
    print_table(args, results)
    print(f"  loss curve: {curve}")
    return 0
