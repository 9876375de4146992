"""The ``jssp-sft`` console script: one subcommand per task, each parsed by TRL's ``TrlParser`` from flags and YAML.

Every subcommand lives in a module exposing ``make_parser(prog)`` (a ``TrlParser`` over its argument dataclasses)
and ``main(*parsed)``, as TRL's own scripts do; this file only maps names to modules.
"""

from __future__ import annotations

import argparse
import importlib
import sys


# name -> (module, help). A module is imported only when its command runs, so `jssp-sft verify` stays light.
COMMANDS: dict[str, tuple[str, str]] = {
    "verify": ("jssp_sft.cli.verify", "Check a schedule (or a model's output) against an instance"),
    "generate": ("jssp_sft.cli.generate", "Generate Starjob-format records: random instances solved by CP-SAT"),
    "data-report": ("jssp_sft.cli.data_report", "Count, validate and verify a Starjob data source"),
    "data-convert": (
        "jssp_sft.cli.data_convert",
        "Write Starjob records (the authors' earlier verbose release too) in today's format",
    ),
    "solve": (
        "jssp_sft.cli.solve",
        "Schedule your instance files (any format; model, CP-SAT or a rule), or a model on benchmarks/records",
    ),
    "evaluate": ("jssp_sft.cli.evaluate", "Report on solve results beside dispatching rules, CP-SAT and papers"),
    "diagnose": ("jssp_sft.cli.diagnose", "Does a model read its instance? Per-decision accuracy, prompt swap, loss"),
    "gantt": ("jssp_sft.cli.gantt", "Draw a schedule as a Gantt chart (PNG)"),
    "train": ("jssp_sft.sft", "Fine-tune a model on Starjob with TRL's SFTTrainer (recipes/*/sft/*.yaml)"),
    "quickstart": (
        "jssp_sft.quickstart",
        "Generate data, build and train the tiny model on CPU, score it (make train)",
    ),
    "push": ("jssp_sft.cli.push", "Push a training run (adapter, or --merge for the merged model) to the Hub"),
    "grpo": (
        "jssp_sft.grpo",
        "Reinforce a model with the verifier as reward (TRL's GRPOTrainer, recipes/*/grpo/*.yaml)",
    ),
    "improve": (
        "jssp_sft.improve",
        "Self-labeling: sample N schedules, keep the best verified one, train on it, repeat (recipes/*/improve)",
    ),
    "serve": ("jssp_sft.cli.serve", "Serve verified schedules over HTTP (model, CP-SAT, rules; batched, jobs, metrics)"),
}


def add_positional(parser: argparse.ArgumentParser, field_name: str, help: str | None = None) -> None:
    """Let the dataclass field ``field_name`` also be given as the first bare argument (``jssp-sft push DIR``).

    Its ``--flag`` becomes optional (either form may give it); the dataclass's ``__post_init__`` says when neither did.
    """
    for action in parser._actions:
        if action.dest == field_name and action.option_strings:
            action.required = False
    parser.add_argument(field_name, nargs="?", default=argparse.SUPPRESS, help=help or f"same as --{field_name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jssp-sft", description="Teach language models to solve job-shop scheduling."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv[:1])  # prints help or the "invalid choice" error
        parser.print_help()
        return 0
    name, rest = argv[0], argv[1:]
    module = importlib.import_module(COMMANDS[name][0])
    command_parser = module.make_parser(prog=f"jssp-sft {name}")
    try:
        parsed = command_parser.parse_args_and_config(rest)
    except ValueError as err:  # an argument dataclass rejected its values: a usage error, not a crash
        command_parser.error(str(err))
    return module.main(*parsed) or 0


if __name__ == "__main__":
    raise SystemExit(main())
