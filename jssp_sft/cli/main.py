"""The ``jssp-sft`` console script: one subcommand per task, each parsed by TRL's ``TrlParser`` from flags and YAML.

Every subcommand lives in a module exposing ``make_parser(prog)`` (a ``TrlParser`` over its argument dataclasses)
and ``main(*parsed)``, as TRL's own scripts do; this file maps names to modules and turns errors into exit statuses,
once for every command:

- 0: success (``verify``: the schedule is feasible);
- 1: a negative verdict (``verify``: infeasible);
- 2: bad usage or input (a bad flag, a file that is missing or malformed, a value out of range): one line on stderr;
- 3: an internal error: one line on stderr; ``--debug`` (or ``JSSP_SFT_DEBUG=1``) prints the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from .help import HELP_ALL, tidy_help


# Idle OpenMP threads sleep instead of spinning (read when torch starts, so set before any command imports it): on
# shared cores a spinning thread starves the others, and the tiny model's many small steps wait on it. Measured on 2
# cores at load 3.5: 8 guaranteed samples of ft06 in 1.3 s instead of 21.5 s. A value already set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


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
    "serve": (
        "jssp_sft.cli.serve",
        "Serve verified schedules over HTTP (model, CP-SAT, rules; batched, jobs, metrics)",
    ),
}


def add_positional(parser: argparse.ArgumentParser, field_name: str, help: str | None = None) -> None:
    """Let the dataclass field ``field_name`` also be given as the first bare argument (``jssp-sft push DIR``).

    Its ``--flag`` becomes optional (either form may give it); the dataclass's ``__post_init__`` says when neither did.
    """
    for action in parser._actions:
        if action.dest == field_name and action.option_strings:
            action.required = False
    parser.add_argument(field_name, nargs="?", default=argparse.SUPPRESS, help=help or f"same as --{field_name}")


def read_text_file(path: str) -> str:
    """The text of ``path`` (``-``: stdin); ``ValueError`` naming the file when it is not UTF-8 text. A missing file
    raises ``FileNotFoundError`` (its message names the file)."""
    if path == "-":
        return sys.stdin.read()
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ValueError(f"{path}: line {line}: not UTF-8 text ({err.reason} at byte {err.start})") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jssp-sft", description="Teach language models to solve job-shop scheduling."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


EXIT_OK, EXIT_NEGATIVE, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """A command line the command cannot run: printed as one line, exit status 2."""


def _raise_usage_error(message: str):
    raise UsageError(message)


def _input_error_message(err: BaseException) -> str | None:
    """The one-line message of an error caused by the user's input or environment; ``None`` for a bug."""
    if isinstance(err, UsageError):
        return str(err)
    if isinstance(err, OSError) and err.filename is not None:  # open() and friends: name the file first
        return f"{err.filename}: {err.strerror or err}"
    if isinstance(err, UnicodeDecodeError):
        return f"not UTF-8 text ({err.reason} at byte {err.start})"
    if isinstance(err, (ValueError, OSError)):  # ValueError: a rejected value; OSError: file system, network
        return str(err) or type(err).__name__
    if type(err).__module__.startswith("yaml"):  # a --config file that is not YAML
        return f"the config is not valid YAML: {' '.join(str(err).split())}"
    return None


def _wants_traceback(argv: list[str]) -> bool:
    if os.environ.get("JSSP_SFT_DEBUG", "").lower() not in ("", "0", "false", "no"):
        return True
    for flag in ("--log_level", "--log-level"):
        if flag in argv[:-1] and argv[argv.index(flag) + 1].lower() == "debug":
            return True
    return False


def main(argv: list[str] | None = None, exit_on_error: bool | None = None) -> int:
    """Run ``jssp-sft COMMAND ...`` and return its exit status.

    As the console script (``argv`` from ``sys.argv``), an error becomes one line on stderr and exit status 2 (bad
    usage or input) or 3 (internal error); a caller that passes ``argv`` gets the exception, unless it asks for
    ``exit_on_error``. ``--debug`` (before or after the command, where the command has no ``--debug`` of its own)
    prints tracebacks.
    """
    if exit_on_error is None:
        exit_on_error = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[:1]
    if debug:
        argv = argv[1:]
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        if argv and argv[0] in ("-h", "--help"):
            parser.print_help()
            return EXIT_OK
        if argv and not exit_on_error:
            parser.parse_args(argv[:1])  # argparse's "invalid choice" error (SystemExit 2) for a caller
        what = f"unknown command {argv[0]!r}" if argv else "give a command"
        print(f"jssp-sft: error: {what}; choose from {', '.join(COMMANDS)} (jssp-sft --help)", file=sys.stderr)
        return EXIT_USAGE
    name, rest = argv[0], argv[1:]
    prog = f"jssp-sft {name}"
    try:
        module = importlib.import_module(COMMANDS[name][0])
        command_parser = module.make_parser(prog=prog)
        show_all = HELP_ALL in rest
        rest = ["--help" if arg == HELP_ALL else arg for arg in rest]
        tidy_help(command_parser, show_all)
        if "--debug" in rest and "--debug" not in command_parser._option_string_actions:
            rest = [arg for arg in rest if arg != "--debug"]
            debug = True
        debug = debug or _wants_traceback(rest)
        if exit_on_error:
            command_parser.error = _raise_usage_error  # one line, not the usage of a hundred flags
        try:
            parsed = command_parser.parse_args_and_config(rest)
        except ValueError as err:  # an argument dataclass rejected its values: a usage error, not a crash
            if exit_on_error:
                raise UsageError(_hint(str(err), rest)) from err
            command_parser.error(str(err))
        return module.main(*parsed) or EXIT_OK
    except KeyboardInterrupt:
        if not exit_on_error:
            raise
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as err:
        if exit_on_error and isinstance(err.code, str):  # a command's own `raise SystemExit("message")`
            message = err.code.removeprefix(f"{prog}: ").removeprefix("error: ")
            print(f"{prog}: error: {message}", file=sys.stderr)
            return EXIT_USAGE
        raise
    except Exception as err:
        if not exit_on_error:
            raise
        if debug:
            traceback.print_exc()
        message = _input_error_message(err)
        if message is not None:
            print(f"{prog}: error: {' '.join(message.split())}", file=sys.stderr)
            return EXIT_USAGE
        print(
            f"{prog}: internal error: {type(err).__name__}: {' '.join(str(err).split())[:300]} (rerun with --debug "
            "for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _hint(message: str, argv: list[str]) -> str:
    """Add what to do to a parse error that does not say it (transformers' bf16 check on a machine without a GPU)."""
    if "bf16" in message and "use_cpu" in message:
        if "--config" not in argv:
            return (
                "give a recipe: --config recipes/<model>/<method>/config*.yaml (recipes/tiny/ runs on CPU), or on a "
                "machine without a GPU add --use_cpu true --bf16 false to your flags"
            )
        return f"{message} (on a machine without a GPU, add --use_cpu true --bf16 false)"
    return message


if __name__ == "__main__":
    raise SystemExit(main())
