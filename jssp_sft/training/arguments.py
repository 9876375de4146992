"""Configuration of the training entry points: TRL's ``ScriptArguments`` with the Starjob options, and the parsers.

``jssp_sft.sft`` parses ``(SFTScriptArguments, trl.SFTConfig, trl.ModelConfig)`` and ``jssp_sft.grpo`` parses
``(GRPOScriptArguments, trl.GRPOConfig, trl.ModelConfig)`` from a recipe YAML and the command line, exactly as TRL's
``trl/scripts/sft.py`` and open-r1 do. The options both share live once in ``StarjobScriptArguments``; the two whose
default differs (``template``, ``eval_split_size``) are declared by each class through one field builder, so every
option has one help text and one default per entry point.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field

from trl import GRPOConfig, ModelConfig, ScriptArguments, SFTConfig, TrlParser

from ..core.answers import ANSWER_FORMATS, TIE_ORDERS
from ..core.candidates import DEFAULT_FIELDS, DEFAULT_TOP_K, ORDERS, SCALES
from ..data.loading import DEFAULT_TEST_SIZE
from ..data.templates import TEMPLATES, PromptFormat
from ..rewards import REWARDS, get_reward_funcs
from ..solve.config import SolveConfig, SolverModelArguments, decoding_field
from ..solve.sampling import SamplingSettings


DEFAULT_REWARD_FUNCS = ("format", "feasibility", "makespan_quality")


def data_seed(training_args) -> int:
    """The seed of data choices (subset, held-out split): ``data_seed`` when set, else the run's ``seed``."""
    return training_args.data_seed if training_args.data_seed is not None else training_args.seed


def option_of(source: type, name: str, default=dataclasses.MISSING, help: str | None = None):
    """A field that repeats option ``name`` of the dataclass ``source`` (its default, help and choices), so that an
    option offered by two commands is declared once; ``default`` and ``help`` may differ."""
    original = source.__dataclass_fields__[name]
    metadata = dict(original.metadata)
    if help is not None:
        metadata["help"] = help
    return field(default=original.default if default is dataclasses.MISSING else default, metadata=metadata)


def template_field(default: str | None, default_help: str):
    """The ``template`` option (a name in ``jssp_sft.data.templates.TEMPLATES``); ``default_help`` explains
    ``default``."""
    return field(
        default=default,
        metadata={
            "help": f"How records become prompts (jssp_sft.data.templates); {default_help}",
            "choices": list(TEMPLATES),
        },
    )


# The options of PromptFormat's answer that a run may set (None: the default, or the starting model's saved one).
ANSWER_OPTIONS = (
    "answer_format",
    "candidate_fields",
    "candidate_top_k",
    "candidate_scale",
    "candidate_order",
    "candidate_ties",
)


def eval_split_field(default: float, purpose: str):
    """The ``eval_split_size`` option: the held-out share of the records, split off with the run's data seed."""
    return field(
        default=default,
        metadata={
            "help": f"Held-out share of the records for {purpose} (a fraction < 1, or a number of records >= 1), "
            "split off with the run's data seed; 0 disables it."
        },
    )


@dataclass
class StarjobScriptArguments(ScriptArguments):
    """TRL's script arguments plus the options every Starjob training run shares: the prompt, the record filters and
    the recipe's name. ``dataset_name`` is a JSON/JSONL/Parquet file or directory of records, or a Hub dataset id
    (``henri24/Starjob``); ``dataset_train_split`` is the split read from a Hub dataset."""

    template: str | None = template_field(None, "default: the run's own.")
    system_prompt: str | None = field(default=None, metadata={"help": "System prompt (template 'messages' only)."})
    answer_format: str | None = field(
        default=None,
        metadata={
            "help": "How answers are written: starjob (the record's output, the Starjob paper's setting) or candidates "
            "(before each operation a line listing the jobs it may come from, with their numbers; "
            "jssp_sft.core.candidates). Default: starjob for a new run, the saved one for a trained model.",
            "choices": list(ANSWER_FORMATS),
        },
    )
    candidate_fields: str | None = field(
        default=None,
        metadata={
            "help": "Candidate lines: the numbers of each candidate, as tags in order (s start, d duration, w job "
            "work left, n operations left, q machine work left, f machine free, M machine; "
            f"default {DEFAULT_FIELDS!r} or the saved one)."
        },
    )
    candidate_top_k: int | None = field(
        default=None,
        metadata={
            "help": "Candidate lines: list (and let the model choose among) the k candidates with the earliest "
            f"starts; 0 lists all (default {DEFAULT_TOP_K} or the saved one)."
        },
    )
    candidate_scale: str | None = field(
        default=None,
        metadata={
            "help": "Candidate lines: times in thousandths of the instance's lower bound (lb) or as they are (raw); "
            "default lb or the saved one.",
            "choices": list(SCALES),
        },
    )
    candidate_order: str | None = field(
        default=None,
        metadata={
            "help": "Candidate lines: entries by job number (job) or by earliest start (start); default job or the "
            "saved one.",
            "choices": list(ORDERS),
        },
    )
    candidate_ties: str | None = field(
        default=None,
        metadata={
            "help": "Candidate training answers: the label's operations that start together (any order rebuilds its "
            "schedule) in a shuffle seeded by the record (shuffle) or each time the one the line lists first "
            "(listed); default shuffle or the saved one.",
            "choices": list(TIE_ORDERS),
        },
    )
    dataset_subset_size: int | None = field(
        default=None, metadata={"help": "Use this many records (a seeded random subset) instead of all of them."}
    )
    max_jobs: int | None = field(default=None, metadata={"help": "Keep only instances with at most this many jobs."})
    max_machines: int | None = field(
        default=None, metadata={"help": "Keep only instances with at most this many machines."}
    )
    eval_split_size: float = eval_split_field(0.0, "evaluation")
    recipe_name: str | None = field(
        default=None, metadata={"help": "The recipe's name, shown in the model card (default: the --config path)."}
    )

    def __post_init__(self):
        super_post_init = getattr(super(), "__post_init__", None)
        if super_post_init is not None:
            super_post_init()
        if self.template is not None:
            self.prompt_format()  # validate the template / system prompt / answer options early
        if self.eval_split_size < 0:
            raise ValueError(f"eval_split_size must be >= 0, got {self.eval_split_size}")

    def prompt_format(self, model_name_or_path: str | None = None) -> PromptFormat:
        """The run's prompt settings (saved beside its model, so that generation reuses them): those saved beside the
        starting model ``model_name_or_path`` (defaults without one), with what this run gives instead: ``template``
        (with its own ``system_prompt``), ``system_prompt``, and each answer option. A given template does not reset
        the answer format: a run continuing from a candidates model writes candidates answers unless told otherwise."""
        base = PromptFormat.from_pretrained(model_name_or_path) if model_name_or_path else PromptFormat()
        if self.template is not None:
            base = dataclasses.replace(base, template=self.template, system_prompt=self.system_prompt)
        elif self.system_prompt is not None:
            base = dataclasses.replace(base, system_prompt=self.system_prompt)
        given = {name: getattr(self, name) for name in ANSWER_OPTIONS if getattr(self, name) is not None}
        return dataclasses.replace(base, **given) if given else base

    def load_records(self, training_args, source: str | None = None, test_size: float | None = None, **options):
        """The run's Starjob records as a ``DatasetDict`` (``jssp_sft.data.loading.load_starjob``): ``source``
        (default ``dataset_name``) with this run's subset, size filters and held-out split (``test_size``, default
        ``eval_split_size``), drawn with the run's data seed, so that every reader of a run's data gets the same
        records. ``options`` go to ``load_starjob`` (tokenizer, max_length, prompt_format)."""
        from ..data.loading import load_starjob

        return load_starjob(
            self.dataset_name if source is None else source,
            split=self.dataset_train_split,
            subset_size=self.dataset_subset_size,
            max_jobs=self.max_jobs,
            max_machines=self.max_machines,
            test_size=self.eval_split_size if test_size is None else test_size,
            seed=data_seed(training_args),
            **options,
        )


@dataclass
class SFTScriptArguments(StarjobScriptArguments):
    """The shared Starjob options plus the generation eval and early stopping of an SFT run.

    The held-out split is carved from the records (``eval_split_size``) by ``jssp_sft.data.loading.load_starjob``.
    """

    template: str = template_field("prompt_completion", "prompt_completion by default.")
    eval_split_size: float = eval_split_field(DEFAULT_TEST_SIZE, "the eval loss (the Starjob authors held out 2%%)")
    drop_long_examples: bool = field(
        default=True,
        metadata={
            "help": "Drop (and count) examples longer than `max_length` tokens instead of truncating them: a "
            "truncated schedule teaches the model to stop mid-solution."
        },
    )
    generation_eval_problems: int = field(
        default=8,
        metadata={"help": "Held-out problems solved by generation at each evaluation (0 disables the callback)."},
    )
    generation_eval_num_samples: int = field(
        default=1, metadata={"help": "Samples per problem in the generation eval."}
    )
    generation_eval_decoding: str = decoding_field(
        "free",
        "How the generation eval decodes: free (the model writes everything: its feasible rate is the news) or "
        "guaranteed (the model chooses jobs only: every answer is feasible, the gap is the news).",
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
    job_choice_loss_weight: float = field(
        default=1.0,
        metadata={
            "help": "Count each job-choice token (the job number after each J of the answer: the decisions) this many "
            "times in the training loss (jssp_sft.training.job_choice); 1.0 is the plain loss."
        },
    )
    stream_sizes: str | None = field(
        default=None,
        metadata={
            "help": "Train on fresh random instances of these sizes ('4x4', '3x3,4x4'), labelled by CP-SAT as "
            "training consumes them (jssp_sft.data.stream), instead of dataset_name's records; dataset_name, if "
            "given, still provides the held-out split."
        },
    )
    stream_seed: int = field(default=1, metadata={"help": "Seed of the streamed instances."})
    stream_max_duration: int = field(default=99, metadata={"help": "Longest duration of the streamed instances."})
    curriculum_records: int = field(
        default=0,
        metadata={
            "help": "Curriculum by size for stream_sizes: this many records from each size entry in turn, the last "
            "entry thereafter (0: the entries alternate)."
        },
    )

    def __post_init__(self):
        super().__post_init__()
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ValueError("early_stopping_patience must be >= 1")

    def sampling_settings(self) -> SamplingSettings:
        """Sampling settings of the generation-eval callback."""
        return SamplingSettings(
            max_new_tokens=self.generation_eval_max_new_tokens,
            temperature=self.generation_eval_temperature,
            top_p=self.generation_eval_top_p,
            do_sample=self.generation_eval_temperature > 0,
        )


@dataclass
class GRPOScriptArguments(StarjobScriptArguments):
    """The shared Starjob options plus where the prompts come from and the rewards of a GRPO run.

    Exactly one prompt source: ``dataset_name`` (Starjob records), ``benchmarks`` (e.g. ``"ft06,la01,la02"`` or a
    group ``"la"`` / ``"ta:15x15"``), or ``generated_num_instances`` random instances solved by CP-SAT
    (``jssp_sft.data.generator``).
    """

    template: str | None = template_field(
        None, "default: the one the SFT run saved beside the model (jssp_sft_prompt.json), else prompt_completion."
    )
    eval_split_size: float = eval_split_field(0.0, "GRPO's evaluation (costly: it generates)")
    reward_funcs: list[str] = field(
        default_factory=lambda: list(DEFAULT_REWARD_FUNCS),
        metadata={"help": f"Reward functions (jssp_sft.rewards.REWARDS): {', '.join(REWARDS)}."},
    )
    benchmarks: str | None = field(
        default=None,
        metadata={
            "help": "Train on benchmark instances: comma-separated names (ft06, la01) or groups (la, ta:15x15); "
            "the reference makespan is the best known upper bound."
        },
    )
    generated_num_instances: int = field(
        default=0, metadata={"help": "Train on this many random instances solved by CP-SAT (jssp-sft generate)."}
    )
    generated_sizes: str | None = field(
        default=None, metadata={"help": "Sizes of the generated instances, e.g. '2-5x2-5' (default: the generator's)."}
    )
    generated_seed: int | None = field(
        default=None,
        metadata={
            "help": "Seed of the generated instances (default: the generator's); pick another than the SFT data's."
        },
    )
    generated_data_dir: str | None = field(
        default=None, metadata={"help": "Where the generated records are written (default: <output_dir>/data)."}
    )

    def __post_init__(self):
        super().__post_init__()
        get_reward_funcs(self.reward_funcs)  # unknown names fail at parse time
        sources = [self.dataset_name is not None, self.benchmarks is not None, self.generated_num_instances > 0]
        if sum(sources) != 1:
            raise ValueError(
                "name exactly one prompt source: dataset_name (Starjob records), benchmarks, or "
                f"generated_num_instances > 0 (got dataset_name={self.dataset_name!r}, "
                f"benchmarks={self.benchmarks!r}, generated_num_instances={self.generated_num_instances})"
            )
        if self.eval_split_size and self.benchmarks is not None:
            raise ValueError("eval_split_size needs Starjob or generated records; benchmarks are not split")


# Improve settings that shape a round's data: a run resumed with other values would mix two experiments.
IMPROVE_DATA_KEYS = (
    "pool_source",
    "pool_num_instances",
    "pool_sizes",
    "pool_seed",
    "pool_max_duration",
    "pool_instance_generator",
    "dataset_name",
    "pool_benchmarks",
    "instances_per_round",
    "num_samples",
    "temperature",
    "top_p",
    "top_k",
    "decoding",
    "keep_existing_labels",
    "replay_ratio",
    "eval_dataset",
    "eval_num_instances",
    "eval_sizes",
    "eval_seed",
    "eval_time_limit",
)


@dataclass
class ImproveScriptArguments(SFTScriptArguments):
    """The options of an SFT run (every round is one, with every lever: ``drop_long_examples``,
    ``job_choice_loss_weight``, ...) plus where the unlabelled instances come from, how they are sampled and
    labelled, and the held-out evaluation.

    The pool is one of: ``pool_num_instances`` random instances (``pool_sizes``, ``pool_seed``: the very instances
    ``jssp-sft generate`` writes with those settings), ``dataset_name`` (Starjob records, with this run's subset and
    size filters; their labels compete when ``keep_existing_labels``), or ``pool_benchmarks``. The held-out set is
    ``eval_dataset`` (Starjob records with solver makespans) or ``eval_num_instances`` instances generated and solved
    by CP-SAT (``eval_sizes``, ``eval_seed``, ``eval_time_limit``). The sampling options are ``jssp-sft solve``'s.
    """

    template: str | None = template_field(None, "default: the one the starting model's run saved.")
    eval_split_size: float = eval_split_field(0.0, "each round's eval loss")
    num_rounds: int = field(default=3, metadata={"help": "Self-labeling rounds (0: only evaluate the model)."})
    pool_num_instances: int = field(
        default=0, metadata={"help": "Generate this many unlabelled random instances as the pool."}
    )
    pool_sizes: str = field(default="6x6", metadata={"help": "Sizes of the generated pool, e.g. '6x6' or '5-6x5-6'."})
    pool_seed: int = field(
        default=1, metadata={"help": "Seed of the generated pool (pick another than the SFT data's)."}
    )
    pool_max_duration: int | None = field(
        default=None, metadata={"help": "Longest duration of generated instances (default: the generator's)."}
    )
    pool_instance_generator: str = field(
        default="uniform", metadata={"help": "uniform or taillard.", "choices": ["uniform", "taillard"]}
    )
    pool_benchmarks: str | None = field(
        default=None, metadata={"help": "Pool of benchmark instances: names or groups (ft06,la01 / ta:15x15)."}
    )
    instances_per_round: int | None = field(
        default=None,
        metadata={
            "help": "Instances sampled per round: round r takes the next ones of the pool, wrapping around "
            "(default: the whole pool every round)."
        },
    )
    num_samples: int = option_of(SolveConfig, "num_samples", default=16)
    temperature: float = option_of(SolveConfig, "temperature")
    top_p: float = option_of(SolveConfig, "top_p")
    top_k: int | None = option_of(SolveConfig, "top_k")
    decoding: str = option_of(SolveConfig, "decoding", default="guaranteed")
    backend: str = option_of(SolverModelArguments, "backend")
    sampling_batch_size: int = option_of(SolveConfig, "batch_size")
    keep_sample_texts: bool = field(
        default=False, metadata={"help": "Keep every sample's text in samples.jsonl (not only the best one)."}
    )
    keep_existing_labels: bool = field(
        default=True,
        metadata={"help": "When a pool record has a feasible label of lower makespan than every sample, keep it."},
    )
    replay_ratio: float = field(
        default=0.5,
        metadata={"help": "Records of earlier rounds replayed per new record (0: none), drawn with the run's seed."},
    )
    eval_dataset: str | None = field(
        default=None, metadata={"help": "Held-out Starjob records (with solver makespans) evaluated every round."}
    )
    eval_num_instances: int = field(
        default=32, metadata={"help": "Held-out instances generated and solved by CP-SAT (when no eval_dataset)."}
    )
    eval_sizes: str | None = field(default=None, metadata={"help": "Sizes of the held-out set (default: pool_sizes)."})
    eval_seed: int = field(default=12345, metadata={"help": "Seed of the generated held-out set."})
    eval_time_limit: float = field(default=10.0, metadata={"help": "CP-SAT seconds per held-out instance."})
    eval_data_dir: str | None = field(
        default=None, metadata={"help": "Where the held-out records are cached (default: <output_dir>/held-out)."}
    )
    eval_num_samples: int | None = field(
        default=None,
        metadata={"help": "N of the held-out best-of-N and of the random control (default: num_samples)."},
    )

    def __post_init__(self):
        super().__post_init__()
        sources = [self.pool_num_instances > 0, self.dataset_name is not None, self.pool_benchmarks is not None]
        if sum(sources) != 1 and self.num_rounds > 0:
            raise ValueError(
                "name exactly one pool: pool_num_instances > 0 (generated), dataset_name (Starjob records) or "
                f"pool_benchmarks (got pool_num_instances={self.pool_num_instances}, dataset_name="
                f"{self.dataset_name!r}, pool_benchmarks={self.pool_benchmarks!r})"
            )
        if self.stream_sizes is not None:
            raise ValueError("stream_sizes does not apply to improve: each round trains on its own labels")
        if self.num_rounds < 0 or self.num_samples < 1 or self.sampling_batch_size < 1:
            raise ValueError("num_rounds must be >= 0, num_samples and sampling_batch_size >= 1")
        if self.instances_per_round is not None and self.instances_per_round < 1:
            raise ValueError(f"instances_per_round must be >= 1, got {self.instances_per_round}")
        if self.replay_ratio < 0:
            raise ValueError(f"replay_ratio must be >= 0, got {self.replay_ratio}")
        if self.eval_dataset is None and self.eval_num_instances < 1:
            raise ValueError("the held-out set is empty: set eval_dataset or eval_num_instances >= 1")
        if (
            self.eval_dataset is None
            and self.pool_num_instances > 0
            and self.eval_seed == self.pool_seed
            and (self.eval_sizes or self.pool_sizes) == self.pool_sizes
        ):
            raise ValueError("eval_seed equals pool_seed at the same sizes: the held-out set would be the pool")

    @property
    def pool_source(self) -> str:
        if self.pool_num_instances > 0:
            return "generated"
        return "dataset" if self.dataset_name is not None else "benchmarks"

    @property
    def held_out_num_samples(self) -> int:
        return self.eval_num_samples or self.num_samples

    def data_settings(self) -> dict:
        """The settings that shape a round's data (``IMPROVE_DATA_KEYS``), as JSON values."""
        return json.loads(json.dumps({key: getattr(self, key, None) for key in IMPROVE_DATA_KEYS}))

    def round_arguments(self, train_file: str, prompt_format: PromptFormat) -> SFTScriptArguments:
        """The SFT run of a round: this run's SFT options on the round's records (``train_file``, no subset or size
        filter), written with ``prompt_format`` (the starting model's)."""
        names = {f.name for f in dataclasses.fields(SFTScriptArguments) if f.init}
        options = {name: getattr(self, name) for name in names}
        options.update(
            dataset_name=str(train_file),
            dataset_subset_size=None,
            max_jobs=None,
            max_machines=None,
            template=prompt_format.template,
            system_prompt=prompt_format.system_prompt,
            **{name: getattr(prompt_format, name) for name in ANSWER_OPTIONS},
        )
        return SFTScriptArguments(**options)


class RecipeParser(TrlParser):
    """``TrlParser`` that also records which recipe file was read (``--config``) as the script arguments'
    ``recipe_name`` (SFT and GRPO), for the model card."""

    def parse_args_and_config(self, args=None, **kwargs):
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


def make_improve_parser(prog: str | None = None) -> RecipeParser:
    """The parser of ``jssp-sft improve`` and ``python -m jssp_sft.improve``: script, SFT and model arguments."""
    return RecipeParser((ImproveScriptArguments, SFTConfig, ModelConfig), prog=prog)


def make_grpo_parser(prog: str | None = None) -> RecipeParser:
    """The parser of ``jssp-sft grpo`` and ``python -m jssp_sft.grpo``: script, GRPO and model arguments."""
    return RecipeParser((GRPOScriptArguments, GRPOConfig, ModelConfig), prog=prog)
