"""Guaranteed decoding: feasibility on Taillard and DMU, speed against free decoding, and the start-rule comparison.

1. Feasibility: an UNTRAINED tiny model (``jssp_sft.modeling.tiny``, random weights) writes one guaranteed solution for 20
   Taillard and DMU instances spanning every size group up to 100x20 (``--all_instances`` for all 160); the verifier
   checks each (feasible, every operation, declared makespan right). Floor: 100%. Also printed: tokens, forward
   passes and the fraction of tokens that were forced rather than sampled.
2. Speed: guaranteed and free decoding (``jssp_sft.solve.sampling.generate``) with the same model, prompts and sampling
   settings, in one run; free decoding may write as many tokens as the longest guaranteed answer. Wall time per
   solution and per output token; floor: guaranteed at least as fast per output token as free (ratio >= 1).
3. ``--compare_rules``: the gap of the start rules ("append", "monotone", and "insert" for reference) on the same
   instances and samples: the untrained model on Taillard/DMU instances (gap to the best known bound) and, when
   ``--trained_model`` exists (``make train`` writes outputs/tiny-sft), the trained model on held-out problems of
   its own dataset (gap to CP-SAT's makespan).

    python bench/guaranteed.py [--all_instances] [--compare_rules] [--speed_instances ta01,dmu01]
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import machine_line, parse, untrained_tiny

from jssp_sft import verify
from jssp_sft.benchmarks.instances import benchmark_names, load_benchmark
from jssp_sft.core.scoring import gap
from jssp_sft.data.templates import PromptFormat
from jssp_sft.solve.guaranteed import DEFAULT_START_RULE, guaranteed_generate
from jssp_sft.solve.sampling import SamplingSettings, generate
from jssp_sft.solve.vocabulary import TokenVocabulary


# The first instance of every size group of Taillard (15x15 ... 100x20) and of both DMU sets (dmu01-40 and the
# harder dmu41-80), 20 in all.
DEFAULT_INSTANCES = (
    "ta01,ta11,ta21,ta31,ta41,ta51,ta61,ta71,dmu01,dmu06,dmu11,dmu16,dmu21,dmu26,dmu31,dmu36,dmu41,dmu46,dmu51,dmu56"
)


@dataclass
class BenchArguments:
    instances: str = field(default=DEFAULT_INSTANCES, metadata={"help": "Comma-separated benchmark names."})
    all_instances: bool = field(default=False, metadata={"help": "All 160 Taillard and DMU instances."})
    speed_instances: str = field(
        default="ta01,dmu01,ta11", metadata={"help": "Instances of the speed comparison (free decoding is slow)."}
    )
    num_samples: int = field(default=4, metadata={"help": "Samples per instance in the speed comparison."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature (both decoders)."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus mass (both decoders)."})
    compare_rules: bool = field(default=False, metadata={"help": "Also measure the gap of each start rule."})
    rule_instances: str = field(
        default="ta01,ta02,ta11,ta12,ta21,dmu01,dmu02,dmu06,dmu41,dmu46",
        metadata={"help": "Instances of the untrained-model rule comparison."},
    )
    rule_samples: int = field(default=8, metadata={"help": "Samples per instance in the rule comparison."})
    trained_model: str = field(default="outputs/tiny-sft", metadata={"help": "Trained run for the rule comparison."})
    trained_problems: int = field(default=64, metadata={"help": "Held-out problems for the trained model."})
    trained_data: str | None = field(
        default=None, metadata={"help": "The run's dataset (default: the .jsonl in its data/ folder, as make train)."}
    )
    trained_split: str = field(
        default="64,0", metadata={"help": "test_size,seed of the run's held-out split (recipes/tiny/sft: 64 and 0)."}
    )
    hidden_size: int = field(default=64, metadata={"help": "Width of the untrained tiny model."})
    num_hidden_layers: int = field(default=2, metadata={"help": "Layers of the untrained tiny model."})
    num_attention_heads: int = field(default=2, metadata={"help": "Attention (and key/value) heads."})
    seed: int = field(default=0)


def untrained_model(args: BenchArguments):
    return untrained_tiny(
        args.hidden_size,
        args.num_hidden_layers,
        args.seed,
        num_attention_heads=args.num_attention_heads,
        num_key_value_heads=args.num_attention_heads,
        max_position_embeddings=65536,
    )


def settings_of(args: BenchArguments, max_new_tokens: int = 1024) -> SamplingSettings:
    return SamplingSettings(max_new_tokens=max_new_tokens, temperature=args.temperature, top_p=args.top_p)


# -------------------------------------------------------------------------------------------------- feasibility


def feasibility(args: BenchArguments, model, tokenizer) -> bool:
    names = benchmark_names("ta") + benchmark_names("dmu") if args.all_instances else args.instances.split(",")
    prompt_format = PromptFormat()
    print(f"\n## Feasibility: untrained model, one sample each, {len(names)} instances")
    print(
        f"{'instance':9} {'size':>7} {'ops':>5} {'tokens':>7} {'forced':>7} {'passes':>7} {'seconds':>8} "
        f"{'feasible':>9} {'makespan ok':>12} {'gap %':>7}"
    )
    ok = total_tokens = total_forced = 0
    started = time.perf_counter()
    for name in names:
        instance, info = load_benchmark(name)
        t0 = time.perf_counter()
        out = guaranteed_generate(
            model,
            tokenizer,
            [prompt_format.prompt_text(instance)],
            1,
            settings_of(args),
            seed=args.seed,
            instances=[instance],
        )
        seconds = time.perf_counter() - t0
        report = verify(instance, out.texts[0][0])
        complete = report.num_operations == instance.num_operations
        ok += report.feasible and bool(report.makespan_matches) and complete
        total_tokens += out.total_tokens
        total_forced += out.num_forced[0][0]
        print(
            f"{name:9} {info.size:>7} {instance.num_operations:>5} {out.total_tokens:>7} "
            f"{out.forced_fraction:>7.1%} {out.forward_passes:>7} {seconds:>8.1f} {str(report.feasible):>9} "
            f"{str(report.makespan_matches):>12} {100 * gap(report.makespan, info.upper_bound):>7.1f}",
            flush=True,
        )
    print(
        f"feasible and makespan-correct: {ok}/{len(names)} ({ok / len(names):.0%}; floor 100%); "
        f"forced tokens: {total_forced / total_tokens:.1%} of {total_tokens}; "
        f"{time.perf_counter() - started:.0f} s"
    )
    return ok == len(names)


# -------------------------------------------------------------------------------------------------------- speed


def speed(args: BenchArguments, model, tokenizer) -> bool:
    names = args.speed_instances.split(",")
    instances = [load_benchmark(name)[0] for name in names]
    prompts = [PromptFormat().prompt_text(instance) for instance in instances]
    n = args.num_samples
    print(f"\n## Speed: {', '.join(names)}, {n} samples each, temperature {args.temperature}, top_p {args.top_p}")
    TokenVocabulary.of(tokenizer)  # built once per tokenizer; not part of a decoding's time
    rows = []
    for name, instance, prompt in zip(names, instances, prompts):
        t0 = time.perf_counter()
        guided = guaranteed_generate(
            model, tokenizer, [prompt], n, settings_of(args), seed=args.seed, instances=[instance]
        )
        guided_seconds = time.perf_counter() - t0
        budget = max(guided.num_tokens[0])
        t0 = time.perf_counter()
        free = generate(model, tokenizer, [prompt], n, settings_of(args, budget), seed=args.seed)
        free_seconds = time.perf_counter() - t0
        valid = sum(verify(instance, text).valid for text in free.texts[0])
        rows.append((name, guided, guided_seconds, free, free_seconds, valid))
    print(
        f"{'instance':9} {'decoding':11} {'tokens':>7} {'s/solution':>11} {'ms/token':>9} {'valid':>6} {'passes':>7}"
    )
    guided_tokens = guided_time = free_tokens = free_time = 0.0
    for name, guided, guided_seconds, free, free_seconds, valid in rows:
        print(
            f"{name:9} {'guaranteed':11} {guided.total_tokens:>7} {guided_seconds / n:>11.2f} "
            f"{1e3 * guided_seconds / guided.total_tokens:>9.2f} {n:>6} {guided.forward_passes:>7}"
        )
        print(
            f"{name:9} {'free':11} {free.total_tokens:>7} {free_seconds / n:>11.2f} "
            f"{1e3 * free_seconds / free.total_tokens:>9.2f} {valid:>6} {'':>7}"
        )
        guided_tokens += guided.total_tokens
        guided_time += guided_seconds
        free_tokens += free.total_tokens
        free_time += free_seconds
    ratio = (free_time / free_tokens) / (guided_time / guided_tokens)
    print(
        f"per output token: guaranteed {1e3 * guided_time / guided_tokens:.2f} ms, free "
        f"{1e3 * free_time / free_tokens:.2f} ms -> guaranteed is {ratio:.1f}x as fast (floor 1.0x); "
        f"per solution: guaranteed {guided_time / (n * len(rows)):.2f} s (complete, feasible), "
        f"free {free_time / (n * len(rows)):.2f} s"
    )
    if free_tokens < 0.5 * guided_tokens:
        print(
            "note: free decoding stopped early (EOS) and wrote fewer tokens, at shorter contexts: its per-token "
            "cost is the lower for it"
        )
    return ratio >= 1.0


# ---------------------------------------------------------------------------------------------------- start rules


RULES = ("append", "monotone", "insert")


def rule_gaps(model, tokenizer, prompt_format, problems, num_samples, settings, seed) -> dict[str, tuple]:
    """Per rule: mean gap (%) of the best sample and of all samples, over ``problems`` = [(instance, reference)]."""
    prompts = [prompt_format.prompt_text(instance, tokenizer) for instance, _ in problems]
    instances = [instance for instance, _ in problems]
    results = {}
    for rule in RULES:
        out = guaranteed_generate(
            model,
            tokenizer,
            prompts,
            num_samples,
            settings,
            batch_size=8,
            seed=seed,
            instances=instances,
            start_rule=rule,
        )
        best, every = [], []
        for (_, reference), schedules in zip(problems, out.schedules):
            gaps = [100 * gap(schedule.makespan, reference) for schedule in schedules]
            best.append(min(gaps))
            every.extend(gaps)
        results[rule] = (statistics.mean(best), statistics.mean(every))
    return results


def print_rule_table(title: str, results: dict[str, tuple]) -> None:
    print(f"\n{title}")
    print(f"{'rule':9} {'best-of-N gap %':>16} {'mean sample gap %':>18}")
    for rule, (best, mean) in results.items():
        marker = "  (default)" if rule == DEFAULT_START_RULE else ""
        print(f"{rule:9} {best:>16.1f} {mean:>18.1f}{marker}")


def compare_rules(args: BenchArguments, model, tokenizer) -> None:
    print(f"\n## Start rules: {args.rule_samples} samples per instance, temperature {args.temperature}")
    problems = [
        (load_benchmark(name)[0], load_benchmark(name)[1].upper_bound) for name in args.rule_instances.split(",")
    ]
    untrained = rule_gaps(model, tokenizer, PromptFormat(), problems, args.rule_samples, settings_of(args), args.seed)
    print_rule_table(f"untrained tiny model, {len(problems)} Taillard/DMU instances (gap to best known)", untrained)
    greedy = rule_gaps(model, tokenizer, PromptFormat(), problems, 1, SamplingSettings(do_sample=False), args.seed)
    print_rule_table("untrained tiny model, greedy", greedy)
    run = Path(args.trained_model)
    if not (run / "config.json").is_file():
        print(f"\n(no trained model at {run}: run `make train` for the trained-model comparison)")
        return
    from jssp_sft.modeling.loading import load_for_generation
    from jssp_sft.solve import dataset_problems

    trained, trained_tokenizer = load_for_generation(run)
    data = args.trained_data or next((run / "data").glob("*.jsonl"), None)
    if data is None:
        print(f"\n(no dataset under {run / 'data'}: skipping the trained-model comparison)")
        return
    test_size, seed = (int(x) for x in args.trained_split.split(","))
    held_out = dataset_problems(str(data), split="test", test_size=test_size, seed=seed)[: args.trained_problems]
    problems = [(p.instance, p.bound) for p in held_out if p.bound]
    prompt_format = PromptFormat.from_pretrained(run)
    sampled = rule_gaps(
        trained, trained_tokenizer, prompt_format, problems, args.rule_samples, settings_of(args), args.seed
    )
    print_rule_table(f"trained model {run}, {len(problems)} held-out problems (gap to CP-SAT)", sampled)
    greedy = rule_gaps(
        trained, trained_tokenizer, prompt_format, problems, 1, SamplingSettings(do_sample=False), args.seed
    )
    print_rule_table(f"trained model {run}, greedy", greedy)


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    args = parse(BenchArguments)
    print(machine_line())
    model, tokenizer = untrained_model(args)
    print(
        f"untrained tiny model: {model.num_parameters():,} parameters, vocabulary {len(tokenizer)}; "
        f"default start rule {DEFAULT_START_RULE!r}"
    )
    passed = feasibility(args, model, tokenizer)
    passed &= speed(args, model, tokenizer)
    if args.compare_rules:
        compare_rules(args, model, tokenizer)
    print("\nall floors met" if passed else "\nFLOOR MISSED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
