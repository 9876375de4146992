"""Configuration of the SFT entry point: TRL's ``ScriptArguments`` extended with the Starjob options, and the parser.

``jssp_sft.sft`` parses ``(SFTScriptArguments, trl.SFTConfig, trl.ModelConfig)`` from a recipe YAML and the command
line, exactly as TRL's ``trl/scripts/sft.py`` and open-r1 do; every option has its single default here or in TRL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import ModelConfig, ScriptArguments, SFTConfig, TrlParser

from ..data.loading import DEFAULT_TEST_SIZE
from ..data.templates import TEMPLATES, PromptFormat
from ..solve.sampling import SamplingSettings


@dataclass
class SFTScriptArguments(ScriptArguments):
    """TRL's script arguments plus the Starjob data, prompt, evaluation and early-stopping options.

    ``dataset_name`` is the Starjob source: a JSON/JSONL/Parquet file or directory of records, or a Hub dataset id
    (``henri24/Starjob``); ``dataset_train_split`` is the split read from a Hub dataset. The held-out split is carved
    from the records (``eval_split_size``) by ``jssp_sft.data.loading.load_starjob``.
    """

    template: str = field(
        default="prompt_completion",
        metadata={
            "help": "How records become training examples (see jssp_sft.data.templates).",
            "choices": list(TEMPLATES),
        },
    )
    system_prompt: str | None = field(default=None, metadata={"help": "System prompt (template 'messages' only)."})
    dataset_subset_size: int | None = field(
        default=None, metadata={"help": "Train on this many records (a seeded random subset) instead of all of them."}
    )
    max_jobs: int | None = field(default=None, metadata={"help": "Keep only instances with at most this many jobs."})
    max_machines: int | None = field(
        default=None, metadata={"help": "Keep only instances with at most this many machines."}
    )
    drop_long_examples: bool = field(
        default=True,
        metadata={
            "help": "Drop (and count) examples longer than `max_length` tokens instead of truncating them: a "
            "truncated schedule teaches the model to stop mid-solution."
        },
    )
    eval_split_size: float = field(
        default=DEFAULT_TEST_SIZE,
        metadata={
            "help": "Held-out share of the records (a fraction < 1, or a number of records >= 1), split off with the "
            "run's seed; 0 disables evaluation. The Starjob authors held out 2%% (0.02)."
        },
    )
    generation_eval_problems: int = field(
        default=8,
        metadata={"help": "Held-out problems solved by generation at each evaluation (0 disables the callback)."},
    )
    generation_eval_num_samples: int = field(
        default=1, metadata={"help": "Samples per problem in the generation eval."}
    )
    generation_eval_max_new_tokens: int = field(
        default=2048, metadata={"help": "Longest answer generated in the generation eval, in tokens."}
    )
    generation_eval_temperature: float = field(
        default=0.0, metadata={"help": "Sampling temperature of the generation eval; 0 means greedy."}
    )
    generation_eval_top_p: float = field(
        default=1.0, metadata={"help": "Nucleus sampling mass of the generation eval."}
    )
    generation_eval_batch_size: int = field(default=8, metadata={"help": "Prompts per generation batch."})
    early_stopping_patience: int | None = field(
        default=None,
        metadata={"help": "Stop after this many evaluations without improvement of `metric_for_best_model`."},
    )
    early_stopping_threshold: float = field(
        default=0.0, metadata={"help": "Smallest change of `metric_for_best_model` that counts as an improvement."}
    )
    recipe_name: str | None = field(
        default=None, metadata={"help": "The recipe's name, shown in the model card (default: the --config path)."}
    )

    def __post_init__(self):
        super_post_init = getattr(super(), "__post_init__", None)
        if super_post_init is not None:
            super_post_init()
        self.prompt_format()  # validate the template / system prompt pair early
        if self.eval_split_size < 0:
            raise ValueError(f"eval_split_size must be >= 0, got {self.eval_split_size}")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ValueError("early_stopping_patience must be >= 1")

    def prompt_format(self) -> PromptFormat:
        """The prompt settings of this run (saved beside the model so that generation reuses them)."""
        return PromptFormat(template=self.template, system_prompt=self.system_prompt)

    def sampling_settings(self) -> SamplingSettings:
        """Sampling settings of the generation-eval callback."""
        return SamplingSettings(
            max_new_tokens=self.generation_eval_max_new_tokens,
            temperature=self.generation_eval_temperature,
            top_p=self.generation_eval_top_p,
            do_sample=self.generation_eval_temperature > 0,
        )


class RecipeParser(TrlParser):
    """``TrlParser`` that also records which recipe file was read (``--config``) as the script arguments'
    ``recipe_name`` (SFT and GRPO), for the model card."""

    def parse_args_and_config(self, args=None, **kwargs):
        import sys

        argv = list(sys.argv[1:] if args is None else args)
        config_path = argv[argv.index("--config") + 1] if "--config" in argv[:-1] else None
        parsed = super().parse_args_and_config(argv, **kwargs)
        for obj in parsed:
            if getattr(obj, "recipe_name", False) is None:
                obj.recipe_name = config_path
        return parsed


def make_sft_parser(prog: str | None = None) -> RecipeParser:
    """The parser of ``jssp-sft train`` and ``python -m jssp_sft.sft``: script, training and model arguments."""
    return RecipeParser((SFTScriptArguments, SFTConfig, ModelConfig), prog=prog)
