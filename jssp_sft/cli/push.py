"""``jssp-sft push OUTPUT_DIR --repo-id USER/NAME [--merge]``: push a finished training run to the Hub.

The adapter (or full model) goes up with a model card naming the base model, the dataset, the recipe and the final
metric results; ``--merge`` merges a LoRA adapter into its base model (``merge_and_unload``) and pushes that instead.
Authentication is huggingface_hub's own (``hf auth login`` or ``HF_TOKEN``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .main import add_positional


@dataclass
class PushArguments:
    """Arguments of ``jssp-sft push``."""

    repo_id: str = field(metadata={"help": "Hub repository to create or update, `user/name` or `org/name`."})
    output_dir: str | None = field(
        default=None, metadata={"help": "The run to push: the output_dir of `jssp-sft train` (or a bare argument)."}
    )
    merge: bool = field(default=False, metadata={"help": "Merge the LoRA adapter into the base model and push that."})
    private: bool | None = field(default=None, metadata={"help": "Create the repository private (default: Hub's)."})
    revision: str | None = field(default=None, metadata={"help": "Branch to push to (created when missing)."})
    commit_message: str | None = field(default=None, metadata={"help": "Commit message."})

    def __post_init__(self):
        if not self.output_dir:
            raise ValueError("jssp-sft push needs the run directory: jssp-sft push OUTPUT_DIR --repo-id USER/NAME")


def make_parser(prog: str | None = None):
    from trl import TrlParser

    parser = TrlParser((PushArguments,), prog=prog)
    add_positional(parser, "output_dir", help="the run to push (same as --output_dir)")
    return parser


def main(args: PushArguments) -> int:
    from ..training.hub import push_run

    url = push_run(
        args.output_dir,
        repo_id=args.repo_id,
        merge=args.merge,
        private=args.private,
        revision=args.revision,
        commit_message=args.commit_message,
    )
    print(url)
    return 0
