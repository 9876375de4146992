"""The training length in tokens of formatted Starjob examples, for reports (``jssp-sft data-report``).

Training itself does not read these: the trainer tokenizes with TRL's own preprocessing and drops the examples longer
than ``max_length`` from that (``jssp_sft.training.trainer.StarjobSFTTrainer``, ``drop_long_examples``). The lengths
here count the same tokens (the EOS appended to text, conversations through the chat template).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .templates import PromptFormat


if TYPE_CHECKING:
    from datasets import Dataset


def _eos_suffixed(text: str, eos_token: str | None) -> str:
    return text if not eos_token or text.endswith(eos_token) else text + eos_token


def training_token_length(example: Mapping, tokenizer) -> int:
    """Tokens ``SFTTrainer`` makes of one formatted example (before truncation), as its own preprocessing does:
    conversations through the chat template, text with the EOS token appended."""
    if "messages" in example:
        encoded = tokenizer.apply_chat_template(list(example["messages"]), tokenize=True, return_dict=True)
        return len(encoded["input_ids"])
    text = example["text"] if "text" in example else example["prompt"] + example["completion"]
    return len(tokenizer(_eos_suffixed(text, tokenizer.eos_token))["input_ids"])


def _lengths_batch(batch: dict[str, list], tokenizer, prompt_format: PromptFormat) -> dict[str, list]:
    names = list(batch)
    examples = [prompt_format.training_example(dict(zip(names, values))) for values in zip(*batch.values())]
    if prompt_format.template == "messages":
        return {"length": [training_token_length(example, tokenizer) for example in examples]}
    texts = [e["text"] if "text" in e else e["prompt"] + e["completion"] for e in examples]
    ids = tokenizer([_eos_suffixed(text, tokenizer.eos_token) for text in texts])["input_ids"]
    return {"length": [len(row) for row in ids]}


def token_lengths(
    dataset: Dataset, tokenizer, prompt_format: PromptFormat | None = None, num_proc: int | None = None
) -> list[int]:
    """The training length in tokens of each record once formatted with ``prompt_format`` (one batched pass)."""
    if len(dataset) == 0:
        return []
    lengths = dataset.map(
        _lengths_batch,
        batched=True,
        fn_kwargs={"tokenizer": tokenizer, "prompt_format": prompt_format or PromptFormat()},
        remove_columns=dataset.column_names,
        num_proc=num_proc,
        desc="Counting tokens",
    )
    return lengths["length"]
