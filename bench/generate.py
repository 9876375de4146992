"""Generation speed of the solver: best-of-N batched (one prompt pass shared by the N samples) vs one at a time.

Section ``batched``: a tiny model (``jssp_sft.modeling.tiny``, random weights, built in a temporary directory) answers 8
generated problems with 8 samples each through ``JSSPSolver``, once as one batch (8 prompts x 8 samples, the
prompt's key/value cache repeated for its samples) and once one sample at a time (64 calls). Both paths verify every
sample, as a user's run does. Prints generated tokens per second of each and the ratio; floor: 2x. A random model
rarely writes EOS, so both paths generate about ``max_new_tokens`` per sample (the counts are printed).

Section ``guaranteed``: the same problems through ``JSSPSolver`` with ``decoding="guaranteed"`` (``jssp_sft.solve.guaranteed``:
the model only picks each operation's job; forced spans go through the model in one forward pass each) and with
free decoding, same samples and temperature; free decoding gets the solver's budget for a whole answer. Prints wall
time per solution and per output token of each and the ratio; floor: guaranteed at least as fast per output token.

Each section is a function ``section_<name>(context, args) -> bool`` (True: its floor holds) registered in
``SECTIONS``; ``main`` builds the shared context once and runs the sections named by ``--sections``.

    python bench/generate.py [--num_prompts 8] [--num_samples 8] [--max_new_tokens 64] [--sections batched,guaranteed]
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from common import machine_line, parse, random_instances, tiny_solver

from jssp_sft.solve import JSSPSolver, Problem, SolverResult


BATCHED_FLOOR = 2.0


@dataclass
class BenchArguments:
    num_prompts: int = field(default=8, metadata={"help": "Problems (prompts) per run."})
    num_samples: int = field(default=8, metadata={"help": "Samples per problem."})
    max_new_tokens: int = field(default=64, metadata={"help": "Tokens generated per sample (at most)."})
    min_size: int = field(default=3, metadata={"help": "Smallest number of jobs and machines of a problem."})
    max_size: int = field(default=6, metadata={"help": "Largest number of jobs and machines of a problem."})
    repeats: int = field(default=1, metadata={"help": "Timed repetitions of each path; the fastest is reported."})
    seed: int = field(default=0, metadata={"help": "Seed of the problems and of the sampling."})
    sections: str = field(default="batched,guaranteed", metadata={"help": "Comma-separated sections to run."})


@dataclass
class Context:
    """What every section shares: the solver (tiny model) and the problems."""

    solver: JSSPSolver
    problems: list[Problem]


def make_problems(args: BenchArguments) -> list[Problem]:
    instances = random_instances(args.num_prompts, args.seed, args.min_size, args.max_size)
    return [Problem.from_instance(instance, id=f"random-{i}") for i, instance in enumerate(instances)]


def generated_tokens(results: list[SolverResult]) -> int:
    return sum(sample.num_tokens for result in results for sample in result.samples)


def timed(function: Callable[[], list[SolverResult]], repeats: int) -> tuple[float, list[SolverResult]]:
    """The fastest of ``repeats`` runs (seconds) and the results of the last."""
    best, results = float("inf"), []
    for _ in range(repeats):
        started = time.perf_counter()
        results = function()
        best = min(best, time.perf_counter() - started)
    return best, results


# ---------------------------------------------------------------------------------------------------- sections


def section_batched(context: Context, args: BenchArguments) -> bool:
    """N samples for each of the prompts in one batch, against one sample per call; floor BATCHED_FLOOR."""
    solver, problems = context.solver, context.problems
    settings = {"max_new_tokens": args.max_new_tokens, "temperature": 1.0, "seed": args.seed, "decoding": "free"}

    def batched() -> list[SolverResult]:
        return solver.solve_many(problems, num_samples=args.num_samples, batch_size=len(problems), **settings)

    def one_at_a_time() -> list[SolverResult]:
        return [
            solver.solve(problem, num_samples=1, batch_size=1, **{**settings, "seed": args.seed + s})
            for problem in problems
            for s in range(args.num_samples)
        ]

    solver.solve(problems[0], num_samples=2, **settings)  # warm-up
    batched_seconds, batched_results = timed(batched, args.repeats)
    single_seconds, single_results = timed(one_at_a_time, args.repeats)
    batched_tokens, single_tokens = generated_tokens(batched_results), generated_tokens(single_results)
    batched_rate, single_rate = batched_tokens / batched_seconds, single_tokens / single_seconds
    ratio = batched_rate / single_rate
    count = len(problems) * args.num_samples
    print(
        f"\n== batched best-of-N: {len(problems)} prompts x {args.num_samples} samples, "
        f"max {args.max_new_tokens} new tokens =="
    )
    print(f"{'path':<28} {'samples':>8} {'tokens':>8} {'seconds':>8} {'tokens/s':>10}")
    print(
        f"{'batched (shared prompt pass)':<28} {count:>8} {batched_tokens:>8} {batched_seconds:>8.2f} "
        f"{batched_rate:>10.0f}"
    )
    print(f"{'one sample at a time':<28} {count:>8} {single_tokens:>8} {single_seconds:>8.2f} {single_rate:>10.0f}")
    ok = ratio >= BATCHED_FLOOR
    print(f"ratio {ratio:.1f}x (floor {BATCHED_FLOOR:.0f}x): {'OK' if ok else 'BELOW THE FLOOR'}")
    return ok


def section_guaranteed(context: Context, args: BenchArguments) -> bool:
    """Guaranteed decoding against free decoding: same model, problems and sampling settings; floor: at least as
    fast per output token. Free decoding gets the solver's default budget (room for a whole answer)."""
    solver, problems = context.solver, context.problems
    settings = {"num_samples": args.num_samples, "batch_size": len(problems), "temperature": 1.0, "seed": args.seed}

    def run(decoding: str):
        return lambda: solver.solve_many(problems, decoding=decoding, max_new_tokens=None, **settings)

    solver.solve(problems[0], decoding="guaranteed", num_samples=2)  # warm-up (and the token vocabulary, built once)
    rows = {decoding: timed(run(decoding), args.repeats) for decoding in ("guaranteed", "free")}
    count = len(problems) * args.num_samples
    print(f"\n== guaranteed vs free decoding: {len(problems)} prompts x {args.num_samples} samples, temperature 1 ==")
    print(
        f"{'decoding':<12} {'samples':>8} {'valid':>6} {'tokens':>8} {'seconds':>8} {'s/solution':>11} {'ms/token':>9}"
    )
    per_token = {}
    for decoding, (seconds, results) in rows.items():
        tokens = generated_tokens(results)
        valid = sum(sample.report.valid for result in results for sample in result.samples)
        per_token[decoding] = seconds / tokens
        print(
            f"{decoding:<12} {count:>8} {valid:>6} {tokens:>8} {seconds:>8.2f} {seconds / count:>11.3f} "
            f"{1e3 * seconds / tokens:>9.3f}"
        )
    ratio = per_token["free"] / per_token["guaranteed"]
    ok = ratio >= 1.0
    print(
        f"per output token, guaranteed is {ratio:.1f}x as fast as free (floor 1x): "
        f"{'OK' if ok else 'BELOW THE FLOOR'}; bench/guaranteed.py has Taillard/DMU and forced-token counts"
    )
    return ok


# Sections in the order they run; each shares the context.
SECTIONS: dict[str, Callable[[Context, BenchArguments], bool]] = {
    "batched": section_batched,
    "guaranteed": section_guaranteed,
}


def build_context(args: BenchArguments, directory: str) -> Context:
    return Context(tiny_solver(directory), make_problems(args))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = parse(BenchArguments, argv)
    names = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    print(machine_line())
    with tempfile.TemporaryDirectory() as directory:
        context = build_context(args, directory)
        results = {name: SECTIONS[name](context, args) for name in names}
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
