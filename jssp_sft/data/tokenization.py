"""Tokenize formatted Starjob examples once, exactly as TRL's ``SFTTrainer`` would, and filter by token length.

``tokenize_for_sft`` adds to raw records the columns ``SFTTrainer``'s own preprocessing makes of their formatted
example: ``input_ids`` and ``completion_mask`` (prompt-completion: the EOS appended, the completion starting where
the tokenized prompt and prompt+completion diverge), ``input_ids`` alone (the Alpaca ``text``, EOS appended), or
``input_ids`` and, with ``assistant_only_loss``, ``assistant_masks`` (conversations, through the chat template).
``format_dataset`` keeps these columns, and ``SFTTrainer`` then takes the dataset as processed (it has
``input_ids``) and only builds labels from the masks: each example is tokenized once, for the length filter and for
training. ``tests/test_data_tokenization.py`` checks the columns equal ``SFTTrainer``'s.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .templates import PromptFormat


if TYPE_CHECKING:
    from datasets import Dataset


logger = logging.getLogger(__name__)

# The columns SFTTrainer's preprocessing makes (and accepts as an already processed dataset).
TOKEN_COLUMNS = ("input_ids", "completion_mask", "assistant_masks")


def _eos_suffixed(text: str, eos_token: str | None) -> str:
    return text if not eos_token or text.endswith(eos_token) else text + eos_token


def _common_prefix_length(ids: list[int], other: list[int]) -> int:
    n = 0
    for a, b in zip(ids, other):
        if a != b:
            break
        n += 1
    return n


def training_chat_template(tokenizer, assistant_only_loss: bool) -> str | None:
    """The chat template ``SFTTrainer`` renders conversations with: TRL's training template when
    ``assistant_only_loss`` needs ``{% generation %}`` markers the tokenizer's own template lacks, else ``None``
    (the tokenizer's own)."""
    if not assistant_only_loss:
        return None
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    return None if has_generation_markers(tokenizer.chat_template) else get_training_chat_template(tokenizer)


def _sft_tokens_batch(
    batch: dict[str, list], tokenizer, prompt_format: PromptFormat, assistant_only_loss: bool, chat_template
) -> dict[str, list]:
    names = list(batch)
    examples = [prompt_format.training_example(dict(zip(names, values))) for values in zip(*batch.values())]
    if prompt_format.template == "messages":
        out: dict[str, list] = {"input_ids": []}
        if assistant_only_loss:
            out["assistant_masks"] = []
        for example in examples:
            encoded = tokenizer.apply_chat_template(
                example["messages"],
                tokenize=True,
                return_dict=True,
                chat_template=chat_template,
                tools=None,
                return_assistant_tokens_mask=assistant_only_loss,
            )
            out["input_ids"].append(list(encoded["input_ids"]))
            if assistant_only_loss:
                if 1 not in encoded["assistant_masks"]:
                    raise ValueError(
                        "assistant_only_loss=True, but an example has no assistant tokens: the chat template needs "
                        "{% generation %} markers"
                    )
                out["assistant_masks"].append(list(encoded["assistant_masks"]))
        return out
    eos = tokenizer.eos_token
    if prompt_format.template == "alpaca":
        return {"input_ids": tokenizer([_eos_suffixed(e["text"], eos) for e in examples])["input_ids"]}
    prompts = [e["prompt"] for e in examples]
    full_ids = tokenizer([p + _eos_suffixed(e["completion"], eos) for p, e in zip(prompts, examples)])["input_ids"]
    prompt_ids = tokenizer(prompts)["input_ids"]
    masks = []
    for prompt, full in zip(prompt_ids, full_ids):
        prompt_len = _common_prefix_length(prompt, full)
        masks.append([0] * prompt_len + [1] * (len(full) - prompt_len))
    return {"input_ids": full_ids, "completion_mask": masks}


def _token_features(dataset: Dataset, prompt_format: PromptFormat, assistant_only_loss: bool):
    """The dataset's features plus the token columns' (ids int32, masks int8): with the types given, ``datasets``'
    writer converts the lists in one call instead of inspecting them value by value."""
    from datasets import List, Value

    columns = {
        "prompt_completion": ["completion_mask"],
        "messages": ["assistant_masks"] if assistant_only_loss else [],
    }
    features = dataset.features.copy()
    features["input_ids"] = List(Value("int32"))
    for name in columns.get(prompt_format.template, []):
        features[name] = List(Value("int8"))
    return features


def tokenize_for_sft(
    dataset: Dataset,
    tokenizer,
    prompt_format: PromptFormat | None = None,
    assistant_only_loss: bool = False,
    num_proc: int | None = None,
) -> Dataset:
    """Raw records plus the token columns ``SFTTrainer`` would make of their example under ``prompt_format``
    (see the module docstring); ``assistant_only_loss`` must be the training run's.

    The tokenizer's EOS is the one appended; a run that sets another ``eos_token`` in ``SFTConfig`` must let
    ``SFTTrainer`` tokenize instead.
    """
    prompt_format = prompt_format or PromptFormat()
    return dataset.map(
        _sft_tokens_batch,
        batched=True,
        fn_kwargs={
            "tokenizer": tokenizer,
            "prompt_format": prompt_format,
            "assistant_only_loss": assistant_only_loss,
            "chat_template": training_chat_template(tokenizer, assistant_only_loss),
        },
        features=_token_features(dataset, prompt_format, assistant_only_loss),
        num_proc=num_proc,
        desc=f"Tokenizing ({prompt_format.template})",
    )


def training_token_length(example: Mapping, tokenizer) -> int:
    """Tokens ``SFTTrainer`` makes of one formatted example (before truncation), as its own preprocessing does:
    conversations through the chat template, text with the EOS token appended."""
    if "messages" in example:
        encoded = tokenizer.apply_chat_template(list(example["messages"]), tokenize=True, return_dict=True)
        return len(encoded["input_ids"])
    text = example["text"] if "text" in example else example["prompt"] + example["completion"]
    return len(tokenizer(_eos_suffixed(text, tokenizer.eos_token))["input_ids"])


def token_lengths(
    dataset: Dataset, tokenizer, prompt_format: PromptFormat | None = None, num_proc: int | None = None
) -> list[int]:
    """The training length in tokens of each record once formatted with ``prompt_format`` (as ``SFTTrainer``
    tokenizes it); read from ``input_ids`` when the records are already tokenized."""
    import pyarrow.compute as pc

    if "input_ids" not in dataset.column_names:
        dataset = tokenize_for_sft(dataset, tokenizer, prompt_format, num_proc=num_proc)
    if len(dataset) == 0:
        return []
    return pc.list_value_length(dataset.with_format("arrow")[:]["input_ids"]).to_pylist()


def filter_by_token_length(dataset: Dataset, max_length: int, lengths: list[int]) -> tuple[Dataset, int]:
    """Keep the records whose training example (of ``lengths[i]`` tokens) fits in ``max_length`` tokens, so that none
    is truncated (a cut solution teaches a wrong one); return them and how many were removed (also logged)."""
    keep = [i for i, length in enumerate(lengths) if length <= max_length]
    removed = len(dataset) - len(keep)
    if removed:
        dataset = dataset.select(keep)
    logger.warning(
        "token-length filter (max_length=%d) removed %d of %d records (longest: %d tokens)",
        max_length,
        removed,
        len(lengths),
        max(lengths, default=0),
    )
    return dataset, removed
