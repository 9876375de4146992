"""``drop_long_examples`` filters the trainer's own tokenized dataset: for every template, the examples
``StarjobSFTTrainer`` keeps have exactly the input_ids and labels of TRL's ``SFTTrainer`` run without truncation, and
the dropped ones are exactly those longer than ``max_length`` (packed afterwards when the run packs); without the
lever TRL truncates as usual. ``token_lengths`` (reports) counts the same tokens."""

import pytest
from conftest import one_layer_model, sft_config
from datasets import Dataset
from test_data import make_records
from trl import SFTTrainer

from jssp_sft.data import PromptFormat, format_dataset
from jssp_sft.data.templates import CHAT_TEMPLATE
from jssp_sft.data.tokenization import token_lengths
from jssp_sft.modeling.tiny import build_tokenizer
from jssp_sft.training.trainer import StarjobSFTTrainer


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return make_records(12)


@pytest.fixture(scope="module")
def tokenizer():
    tokenizer = build_tokenizer(vocab_size=400, corpus_size=30)
    assert tokenizer.chat_template == CHAT_TEMPLATE
    return tokenizer


@pytest.fixture(scope="module")
def model(tokenizer):
    return one_layer_model(tokenizer)


def trainer(tmp_path, model, tokenizer, dataset, max_length, cls=SFTTrainer, drop_long_examples=None, **config):
    args = sft_config(tmp_path, max_length=max_length, **config)
    extra = {} if drop_long_examples is None else {"drop_long_examples": drop_long_examples}
    return cls(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, **extra)


CASES = [
    ("prompt_completion", {}),
    ("alpaca", {}),
    ("messages", {"assistant_only_loss": True}),
    ("messages", {"assistant_only_loss": False}),
]


@pytest.mark.parametrize(("template", "config"), CASES)
def test_dropping_keeps_trls_own_ids_and_labels(tmp_path, model, tokenizer, records, template, config):
    prompt_format = PromptFormat(template, system_prompt="You schedule jobs." if template == "messages" else None)
    dataset = format_dataset(Dataset.from_list(records), prompt_format)
    whole = trainer(tmp_path / "whole", model, tokenizer, dataset, None, **config).train_dataset
    lengths = [len(row["input_ids"]) for row in whole]
    max_length = sorted(lengths)[len(lengths) // 2]
    assert 0 < sum(n > max_length for n in lengths) < len(lengths)

    ours = trainer(
        tmp_path / "ours", model, tokenizer, dataset, max_length, StarjobSFTTrainer, drop_long_examples=True, **config
    )
    expected = [row for row, n in zip(whole, lengths) if n <= max_length]
    assert [row["input_ids"] for row in ours.train_dataset] == [row["input_ids"] for row in expected]
    assert [row["labels"] for row in ours.train_dataset] == [row["labels"] for row in expected]
    assert ours.num_dropped_long == {"train": sum(n > max_length for n in lengths)}
    assert any(-100 in row["labels"] for row in ours.train_dataset) == (
        template != "alpaca" and config.get("assistant_only_loss", True)
    )

    # without the lever: TRL's truncation, every example kept
    truncated = trainer(tmp_path / "cut", model, tokenizer, dataset, max_length, StarjobSFTTrainer, **config)
    assert len(truncated.train_dataset) == len(records) and truncated.num_dropped_long == {}
    assert max(len(row["input_ids"]) for row in truncated.train_dataset) == max_length

    # the reports' token count is the trainer's
    raw = Dataset.from_list(records)
    if template != "messages" or not config.get("assistant_only_loss"):  # TRL's training template only adds markers
        assert token_lengths(raw, tokenizer, prompt_format) == lengths


def test_dropping_then_packing(tmp_path, model, tokenizer, records):
    dataset = format_dataset(Dataset.from_list(records), PromptFormat())
    whole = trainer(tmp_path / "whole", model, tokenizer, dataset, None).train_dataset
    lengths = [len(row["input_ids"]) for row in whole]
    max_length = sorted(lengths)[len(lengths) // 2]
    packed = trainer(
        tmp_path / "packed",
        model,
        tokenizer,
        dataset,
        max_length,
        StarjobSFTTrainer,
        drop_long_examples=True,
        packing=True,
    )
    kept = [row["input_ids"] for row, n in zip(whole, lengths) if n <= max_length]
    assert sorted(sum(packed.train_dataset["input_ids"], [])) == sorted(sum(kept, []))  # every kept token, once
    assert all(len(row) <= max_length for row in packed.train_dataset["input_ids"])
    assert len(packed.train_dataset) < len(kept)


def test_every_example_too_long_is_an_error(tmp_path, model, tokenizer, records):
    dataset = format_dataset(Dataset.from_list(records), PromptFormat())
    with pytest.raises(ValueError, match="longer than max_length=3"):
        trainer(tmp_path, model, tokenizer, dataset, 3, StarjobSFTTrainer, drop_long_examples=True)
