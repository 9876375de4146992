"""``--help`` that says each thing once: the package's own options first, TRL's and Transformers' behind ``--help_all``.

``HfArgumentParser`` lists every field of every dataclass it parses (976 lines for ``jssp-sft improve``, most of them
``TrainingArguments``'), prints each option twice (``--output_dir``, ``--output-dir``), appends "(default: None)" to
texts that already say their default, and gives a ``--no_x`` switch the help text of ``--x``. ``tidy_help`` fixes a
command's parser in place: one spelling per option, a default shown only where it informs, ``--no_x`` described as
turning ``--x`` off, and options declared outside this package hidden (a few common ones kept under their own
heading) unless ``show_all``: ``--help_all`` lists every one.
"""

from __future__ import annotations

import argparse
import dataclasses


HELP_ALL = "--help_all"
# Options of TRL's and Transformers' dataclasses that most runs set: kept in the short help.
COMMON_OPTIONS = (
    "model_name_or_path",
    "output_dir",
    "max_steps",
    "num_train_epochs",
    "learning_rate",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "max_length",
    "seed",
    "bf16",
    "use_cpu",
    "use_peft",
    "lora_r",
    "report_to",
    "push_to_hub",
    "hub_model_id",
)


class HelpFormatter(argparse.HelpFormatter):
    """One spelling per option, and ``(default: x)`` only where the text does not say it and ``x`` informs."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            return super()._format_action_invocation(action)
        if action.nargs == 0:
            return action.option_strings[0]
        metavar = self._format_args(action, self._get_default_metavar_for_optional(action))
        return f"{action.option_strings[0]} {metavar}"

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text.lower()
            or default in (None, False, "", [], argparse.SUPPRESS)
            or not action.option_strings
            or isinstance(action, argparse._StoreFalseAction)
        ):
            return text
        return f"{text} (default: %(default)s)"


def field_owners(dataclass_types) -> dict[str, type]:
    """Each field name -> the class that declares it (the first in its dataclass's MRO that annotates it)."""
    owners: dict[str, type] = {}
    for dtype in dataclass_types:
        for f in dataclasses.fields(dtype):
            owner = next((c for c in dtype.__mro__ if f.name in vars(c).get("__annotations__", {})), dtype)
            owners.setdefault(f.name, owner)
    return owners


def tidy_help(parser: argparse.ArgumentParser, show_all: bool = False) -> None:
    """Fix ``parser``'s help in place (see the module); ``show_all`` keeps every option visible."""
    parser.formatter_class = HelpFormatter
    if len(parser._actions) > 12 and all(a.option_strings for a in parser._actions):
        parser.usage = f"{parser.prog} [options]"
    by_dest = {
        a.dest: a for a in parser._actions if a.option_strings and not isinstance(a, argparse._StoreFalseAction)
    }
    for action in parser._actions:
        if isinstance(action, argparse._StoreFalseAction) and action.dest in by_dest:
            action.help = f"Turn {by_dest[action.dest].option_strings[0]} off."
    owners = field_owners(getattr(parser, "dataclass_types", ()))
    outside = [
        a
        for a in parser._actions
        if a.dest in owners and not owners[a.dest].__module__.startswith("jssp_sft") and a.help != argparse.SUPPRESS
    ]
    if not outside:
        return
    libraries = sorted({f"{owners[a.dest].__name__} ({owners[a.dest].__module__.split('.')[0]})" for a in outside})
    hidden = [a for a in outside if a.dest not in COMMON_OPTIONS]
    parser.add_argument(HELP_ALL, action="store_true", default=argparse.SUPPRESS, help="List every option.")
    parser.usage = f"{parser.prog} [--config RECIPE.yaml] [options]"
    if show_all:
        return
    common = parser.add_argument_group(f"common options of {', '.join(libraries)}")
    for action in outside:
        for group in parser._action_groups:
            if action in group._group_actions:
                group._group_actions.remove(action)
        if action in hidden:
            action.help = argparse.SUPPRESS
        else:
            common._group_actions.append(action)
    parser.epilog = (
        f"{len(hidden)} more options of {', '.join(libraries)} are accepted too (learning-rate schedule, logging, "
        f"saving, precision, ...): {parser.prog} {HELP_ALL} lists them."
    )
