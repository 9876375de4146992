"""A tiny causal LM and tokenizer built offline, so that training, tests and ``make train`` run without the Hub.

The tokenizer is a byte-level BPE trained on Starjob-format text written by the core codec from random instances:
every whole number 0-999 is one token by default (``number_tokens``; 0 reads numbers digit by digit, as Qwen
tokenizers do), ``<|im_end|>`` is EOS, ``<|endoftext|>`` is PAD, and it ships ``templates.CHAT_TEMPLATE`` (ChatML with
generation markers). The model is a small Qwen2 or Llama config initialised at random, its number tokens from an
encoding of their value (``number_embedding``); the default (0.98M parameters: width 128, 4 layers, 1,485 tokens) is
sized for ``make train``, which trains it on two CPU cores in about ten minutes. Whole-number tokens with value
embeddings are what made the model read its instance at all within that budget (README, "Training levers").

    python -m jssp_sft.modeling.tiny --output-dir outputs/tiny-model
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

from ..core.codec import to_record
from ..core.instance import Instance
from ..core.schedule import Schedule
from ..data.templates import CHAT_TEMPLATE, PromptFormat


logger = logging.getLogger(__name__)

PAD_TOKEN = "<|endoftext|>"
IM_START_TOKEN = "<|im_start|>"
EOS_TOKEN = "<|im_end|>"
SPECIAL_TOKENS = (PAD_TOKEN, IM_START_TOKEN, EOS_TOKEN)
# Written into tokenizer_config.json; `jssp_sft.modeling.loading.load_tokenizer` looks for it to keep our tokenizer class.
TOKENIZER_MARKER_KEY = "jssp_sft_tokenizer"
TOKENIZER_MARKER_VALUE = "tiny-bpe-v1"
ARCHITECTURES = ("qwen2", "llama")
NUMBER_EMBEDDINGS = ("random", "value")


@dataclass
class TinyModelArguments:
    """What ``python -m jssp_sft.modeling.tiny`` builds: the tokenizer's corpus and vocabulary, and the model's shape."""

    output_dir: str = field(metadata={"help": "Directory to write the model and tokenizer to (save_pretrained)."})
    architecture: str = field(default="qwen2", metadata={"help": "Model family.", "choices": list(ARCHITECTURES)})
    vocab_size: int = field(
        default=512, metadata={"help": "Tokenizer vocabulary size (256 bytes + merges + specials)."}
    )
    hidden_size: int = field(default=128, metadata={"help": "Model width."})
    intermediate_size: int = field(default=384, metadata={"help": "MLP width."})
    num_hidden_layers: int = field(default=4, metadata={"help": "Number of decoder layers."})
    num_attention_heads: int = field(default=4, metadata={"help": "Attention heads."})
    num_key_value_heads: int = field(default=2, metadata={"help": "Key/value heads (grouped-query attention)."})
    max_position_embeddings: int = field(
        default=131072,
        metadata={
            "help": "Longest sequence the model accepts (RoPE has no table: this is a limit, not a cost; a 100x20 "
            "answer with candidate lines is about 100k tokens)."
        },
    )
    sliding_window: int = field(
        default=0,
        metadata={
            "help": "Attention window in tokens for every layer (qwen2 only); 0 attends to the whole sequence. With a "
            "window a decision sees the same amount of text at every answer length, so a model trained on short "
            "answers is not asked to read positions or contexts it never saw."
        },
    )
    tokenizer_corpus_size: int = field(default=400, metadata={"help": "Random instances written to train the BPE."})
    number_tokens: int = field(
        default=1000,
        metadata={
            "help": "Make every whole number below this one token (1000: 0-999), so that copying a duration or a time "
            "is one token; larger numbers split into such pieces, longest first. 0 keeps one token per digit."
        },
    )
    number_embedding: str = field(
        default="value",
        metadata={
            "help": "Initial embeddings of the number tokens: random, or value (a ramp in the value plus sinusoids of "
            "it, as positional encodings are, so that order and nearness of numbers are readable from the start).",
            "choices": list(NUMBER_EMBEDDINGS),
        },
    )
    seed: int = field(default=0, metadata={"help": "Seed of the corpus and of the model's initial weights."})


# The dataclass is the single source of the defaults; the functions below take theirs from it.
_DEFAULTS = {f.name: f.default for f in fields(TinyModelArguments) if f.default is not MISSING}


# ----------------------------------------------------------------------------------------------------- tokenizer


def _random_instance(rng: random.Random, max_jobs: int, max_machines: int) -> Instance:
    n, m = rng.randint(2, max_jobs), rng.randint(2, max_machines)
    jobs = [[(machine, rng.randint(1, 99)) for machine in rng.sample(range(m), m)] for _ in range(n)]
    return Instance(tuple(tuple(job) for job in jobs), m)


def _serial_schedule(instance: Instance) -> Schedule:
    """Jobs one after another: feasible and cheap; the corpus needs the format, not good schedules."""
    starts, time = [], 0
    for j, job in enumerate(instance.jobs):
        for k, (_, duration) in enumerate(job):
            starts.append((j, k, time))
            time += duration
    return Schedule.from_starts(instance, starts).with_declared_makespan()


def starjob_corpus(num_instances: int, seed: int = 0, max_jobs: int = 10, max_machines: int = 10) -> Iterator[str]:
    """Starjob-format texts (prompts of each template, solutions, role names) from random instances."""
    rng = random.Random(seed)
    alpaca = PromptFormat("alpaca")
    yield "system\nuser\nassistant\nYou are an expert in job-shop scheduling.\n"
    for _ in range(num_instances):
        instance = _random_instance(rng, max_jobs, max_machines)
        record = to_record(instance, _serial_schedule(instance))
        yield alpaca.training_example(record)["text"]
        yield record["matrix"]


def build_tokenizer(
    vocab_size: int = _DEFAULTS["vocab_size"],
    corpus_size: int = _DEFAULTS["tokenizer_corpus_size"],
    seed: int = _DEFAULTS["seed"],
    number_tokens: int = _DEFAULTS["number_tokens"],
):
    """Train a byte-level BPE with single-digit tokens on Starjob text; return a ``PreTrainedTokenizerFast``.

    Byte-level means any text round-trips (no unknown token); digits are pre-split so no merge spans two digits.
    With ``number_tokens`` N > 10, the numbers 10..N-1 are added as whole tokens (matched longest first, before the
    BPE), so ``317`` is one token instead of three.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 256 + len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must be at least {256 + len(SPECIAL_TOKENS)} (bytes + special tokens)")
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(starjob_corpus(corpus_size, seed), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        additional_special_tokens=[IM_START_TOKEN],
        padding_side="right",
        **{TOKENIZER_MARKER_KEY: TOKENIZER_MARKER_VALUE},
    )
    if number_tokens < 0:
        raise ValueError(f"number_tokens must be >= 0, got {number_tokens}")
    if number_tokens > 10:
        tokenizer.add_tokens([str(number) for number in range(10, number_tokens)])
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def is_tiny_tokenizer(tokenizer) -> bool:
    """Whether ``tokenizer`` was built by ``build_tokenizer`` (its config carries our marker)."""
    return getattr(tokenizer, "init_kwargs", {}).get(TOKENIZER_MARKER_KEY) == TOKENIZER_MARKER_VALUE


# --------------------------------------------------------------------------------------------------------- model


def build_model(
    tokenizer,
    architecture: str = _DEFAULTS["architecture"],
    hidden_size: int = _DEFAULTS["hidden_size"],
    intermediate_size: int = _DEFAULTS["intermediate_size"],
    num_hidden_layers: int = _DEFAULTS["num_hidden_layers"],
    num_attention_heads: int = _DEFAULTS["num_attention_heads"],
    num_key_value_heads: int = _DEFAULTS["num_key_value_heads"],
    max_position_embeddings: int = _DEFAULTS["max_position_embeddings"],
    seed: int = _DEFAULTS["seed"],
    number_embedding: str = _DEFAULTS["number_embedding"],
    sliding_window: int = _DEFAULTS["sliding_window"],
):
    """A randomly initialised causal LM sized to ``tokenizer``, with EOS/PAD and ``config.architectures`` set.

    ``number_embedding="value"`` starts every token that is a whole number from an encoding of its value
    (``value_embedding``) instead of noise alone."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    families = {"qwen2": (Qwen2Config, Qwen2ForCausalLM), "llama": (LlamaConfig, LlamaForCausalLM)}
    if architecture not in families:
        raise ValueError(f"unknown architecture {architecture!r}; choose one of {', '.join(families)}")
    config_class, model_class = families[architecture]
    if sliding_window < 0:
        raise ValueError(f"sliding_window must be >= 0, got {sliding_window}")
    window = {}
    if sliding_window:
        if architecture != "qwen2":
            raise ValueError("sliding_window needs architecture='qwen2' (Llama configs have no sliding window)")
        window = {"use_sliding_window": True, "sliding_window": sliding_window, "max_window_layers": 0}
    # the tokenizer's EOS and PAD, no BOS: for the model's config and its generation config alike
    special_ids = {
        "bos_token_id": None,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    config = config_class(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        num_key_value_heads=num_key_value_heads,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=True,
        **special_ids,
        **window,
    )
    torch.manual_seed(seed)
    model = model_class(config)
    if number_embedding not in NUMBER_EMBEDDINGS:
        raise ValueError(
            f"unknown number_embedding {number_embedding!r}; choose one of {', '.join(NUMBER_EMBEDDINGS)}"
        )
    if number_embedding == "value":
        embeddings = model.get_input_embeddings().weight
        with torch.no_grad():
            for token_id, value in number_token_values(tokenizer).items():
                embeddings[token_id] += value_embedding(value, hidden_size, scale=3 * config.initializer_range)
    model.config.architectures = [model_class.__name__]
    model.generation_config.update(**special_ids)
    return model


def number_token_values(tokenizer) -> dict[int, int]:
    """``{token id: value}`` of every token whose text is a whole number (``"7"``, ``"317"``)."""
    values = {}
    for token_id in range(len(tokenizer)):
        text = tokenizer.decode([token_id])
        if text.isascii() and text.isdigit():
            values[token_id] = int(text)
    return values


def value_embedding(value: int, width: int, scale: float = 0.02, max_value: int = 1000):
    """An encoding of ``value``: a quarter of the dimensions hold a ramp in ``value / max_value`` (order is one
    direction), the rest sinusoids of ``value`` at geometric frequencies (nearness and copying), times ``scale``."""
    import math

    import torch

    ramp = width // 4
    pairs = (width - ramp) // 2
    frequencies = torch.tensor([max_value ** (-k / max(1, pairs - 1)) for k in range(pairs)]) * 2 * math.pi / 4
    angles = value * frequencies
    vector = torch.zeros(width)
    vector[:ramp] = 2 * value / max_value - 1
    vector[ramp : ramp + pairs] = torch.sin(angles)
    vector[ramp + pairs : ramp + 2 * pairs] = torch.cos(angles)
    return scale * vector


BUILD_ARGS_FILE = "tiny_model_args.json"  # what built the directory, so that a cache can tell stale from current


def build_settings(args: TinyModelArguments) -> dict:
    """Every option of ``args`` that shapes the model and tokenizer (all but the output directory)."""
    return {f.name: getattr(args, f.name) for f in fields(args) if f.name != "output_dir"}


def built_with(directory: str | Path, args: TinyModelArguments) -> bool:
    """Whether ``directory`` holds a tiny model built with exactly ``args``'s settings."""
    path = Path(directory) / BUILD_ARGS_FILE
    return path.is_file() and json.loads(path.read_text()) == build_settings(args)


def build_tiny(args: TinyModelArguments):
    """The tokenizer and model described by ``args``, saved to ``args.output_dir``; returns ``(model, tokenizer)``."""
    tokenizer = build_tokenizer(args.vocab_size, args.tokenizer_corpus_size, args.seed, args.number_tokens)
    tokenizer.model_max_length = args.max_position_embeddings
    model = build_model(
        tokenizer,
        architecture=args.architecture,
        hidden_size=args.hidden_size,
        intermediate_size=args.intermediate_size,
        num_hidden_layers=args.num_hidden_layers,
        num_attention_heads=args.num_attention_heads,
        num_key_value_heads=args.num_key_value_heads,
        max_position_embeddings=args.max_position_embeddings,
        seed=args.seed,
        number_embedding=args.number_embedding,
        sliding_window=args.sliding_window,
    )
    output_dir = Path(args.output_dir)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    (output_dir / BUILD_ARGS_FILE).write_text(json.dumps(build_settings(args), indent=2) + "\n")
    logger.info(
        "built a %s model with %.2fM parameters and a %d-token tokenizer in %s",
        args.architecture,
        model.num_parameters() / 1e6,
        len(tokenizer),
        output_dir,
    )
    return model, tokenizer


def main(argv: list[str] | None = None) -> None:
    from transformers import HfArgumentParser

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    (args,) = HfArgumentParser(TinyModelArguments).parse_args_into_dataclasses(argv)
    model, tokenizer = build_tiny(args)
    print(f"{args.output_dir}: {args.architecture}, {model.num_parameters():,} parameters, vocab {len(tokenizer)}")


if __name__ == "__main__":
    main()
