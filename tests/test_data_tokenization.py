"""One-pass tokenization: ``load_starjob`` with a tokenizer makes exactly the columns ``SFTTrainer``'s own
preprocessing makes, ``format_dataset`` keeps them, and ``SFTTrainer`` then builds the same input_ids and labels without
tokenizing again, for every template."""

import pytest
from conftest import one_layer_model
from datasets import Dataset
from test_data import make_records, write_jsonl
from trl import SFTConfig, SFTTrainer

from jssp_sft.data import PromptFormat, format_dataset, load_starjob
from jssp_sft.data.templates import CHAT_TEMPLATE
from jssp_sft.data.tokenization import tokenize_for_sft
from jssp_sft.modeling.tiny import build_tokenizer


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


class CallCounter:
    """Counts the tokenizer's encoding calls (``__call__`` and ``apply_chat_template``) while active."""

    def __init__(self, tokenizer, monkeypatch):
        self.calls = 0
        for name in ("__call__", "apply_chat_template"):
            original = getattr(type(tokenizer), name)

            def counted(*args, _original=original, **kwargs):
                self.calls += 1
                return _original(*args, **kwargs)

            monkeypatch.setattr(type(tokenizer), name, counted)


def processed(tmp_path, model, tokenizer, dataset, **config):
    args = SFTConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none", max_length=4096, **config)
    return SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer).train_dataset


CASES = [
    ("prompt_completion", {}),
    ("alpaca", {}),
    ("messages", {"assistant_only_loss": True}),
    ("messages", {"assistant_only_loss": False}),
]


@pytest.mark.parametrize(("template", "config"), CASES)
def test_one_pass_columns_equal_sfttrainers_own_preprocessing(
    tmp_path, monkeypatch, model, tokenizer, records, template, config
):
    prompt_format = PromptFormat(template, system_prompt="You schedule jobs." if template == "messages" else None)
    path = write_jsonl(tmp_path / "s.jsonl", records)
    assistant_only_loss = config.get("assistant_only_loss") if template == "messages" else None
    raw = load_starjob(
        path,
        cache_dir=str(tmp_path / "cache"),
        tokenizer=tokenizer,
        max_length=4096,
        prompt_format=prompt_format,
        assistant_only_loss=assistant_only_loss,
        test_size=0,
    )["train"]
    ours = format_dataset(raw, prompt_format)
    assert "input_ids" in ours.column_names
    mask = {"prompt_completion": "completion_mask", "messages": "assistant_masks"}.get(template)
    if mask and (template != "messages" or assistant_only_loss):
        assert mask in ours.column_names

    reference = processed(
        tmp_path / "a", model, tokenizer, format_dataset(Dataset.from_list(records), prompt_format), **config
    )
    counter = CallCounter(tokenizer, monkeypatch)
    mine = processed(tmp_path / "b", model, tokenizer, ours, **config)
    encoding_calls = counter.calls
    monkeypatch.undo()

    assert len(mine) == len(reference) == len(records)
    for ref, got in zip(reference, mine):
        assert got["input_ids"] == ref["input_ids"]
        assert got["labels"] == ref["labels"]
    assert any(-100 in row["labels"] for row in mine) == (
        template != "alpaca" and config.get("assistant_only_loss", True)
    )
    # SFTTrainer took the dataset as processed: at most its template checks encode, never one call per example.
    assert encoding_calls < len(records), encoding_calls


def test_messages_without_assistant_only_loss_given_keeps_no_token_columns(tmp_path, tokenizer, records):
    path = write_jsonl(tmp_path / "s.jsonl", records)
    raw = load_starjob(
        path,
        cache_dir=str(tmp_path / "cache"),
        tokenizer=tokenizer,
        max_length=4096,
        prompt_format=PromptFormat("messages"),
        test_size=0,
    )["train"]
    assert "input_ids" not in raw.column_names and "input_ids" not in format_dataset(raw).column_names


def test_length_filter_reads_the_one_tokenization(tmp_path, tokenizer, records):
    path = write_jsonl(tmp_path / "s.jsonl", records)
    tokenized = tokenize_for_sft(Dataset.from_list(records), tokenizer)
    lengths = [len(ids) for ids in tokenized["input_ids"]]
    max_length = sorted(lengths)[len(lengths) // 2]
    split, report = load_starjob(
        path,
        cache_dir=str(tmp_path / "cache"),
        tokenizer=tokenizer,
        max_length=max_length,
        test_size=0,
        return_report=True,
    )
    kept = split["train"]
    assert report.num_too_long == sum(n > max_length for n in lengths) > 0
    assert kept["input_ids"] == [ids for ids, n in zip(tokenized["input_ids"], lengths) if n <= max_length]
    assert all(len(m) == len(ids) for m, ids in zip(kept["completion_mask"], kept["input_ids"]))
