"""Loss masking through TRL's own ``SFTTrainer`` preprocessing, for each template of ``jssp_sft.data.templates``.

Prompt-completion data trains on the completion and the EOS only; ``messages`` data with ``CHAT_TEMPLATE`` and
``assistant_only_loss=True`` trains on the assistant's turn (ending in ``<|im_end|>``, the EOS) only; the authors'
Alpaca text trains on everything. Checked on the trainer's processed train dataset and on its collator's batch.
"""

import random

import pytest
from conftest import one_layer_model, serial_record, sft_config
from datasets import Dataset
from trl import SFTTrainer

from jssp_sft.data.loading import format_dataset, training_token_length
from jssp_sft.data.templates import CHAT_TEMPLATE, PromptFormat
from jssp_sft.modeling.tiny import build_tokenizer


SYSTEM_PROMPT = "You are an expert in job-shop scheduling."


@pytest.fixture(scope="module")
def records() -> list[dict]:
    rng = random.Random(0)
    return [serial_record(rng, n, m) for n, m in [(2, 2), (3, 2), (2, 3), (3, 3)]]


@pytest.fixture(scope="module")
def tokenizer():
    tokenizer = build_tokenizer(vocab_size=400, corpus_size=30)
    assert tokenizer.chat_template == CHAT_TEMPLATE and tokenizer.eos_token == "<|im_end|>"
    return tokenizer


@pytest.fixture(scope="module")
def model(tokenizer):
    return one_layer_model(tokenizer)


def prepared_trainer(tmp_path, model, tokenizer, records, prompt_format, **config):
    """An ``SFTTrainer`` on the formatted records; building it runs TRL's dataset preparation."""
    train_dataset = format_dataset(Dataset.from_list(records), prompt_format)
    args = sft_config(tmp_path, per_device_train_batch_size=len(records), **config)
    trainer = SFTTrainer(model=model, args=args, train_dataset=train_dataset, processing_class=tokenizer)
    assert len(trainer.train_dataset) == len(records)
    return trainer, train_dataset


def check_collator_keeps_labels(trainer):
    """The collator's batch carries each processed example's labels unchanged; padding is masked too."""
    examples = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
    batch = trainer.data_collator(examples)
    for row, example in enumerate(examples):
        n = len(example["input_ids"])
        assert batch["input_ids"][row, :n].tolist() == example["input_ids"]
        assert batch["labels"][row, :n].tolist() == example["labels"]
        assert (batch["labels"][row, n:] == -100).all()
    return batch


def test_prompt_completion_trains_on_the_completion_and_eos_only(tmp_path, model, tokenizer, records):
    trainer, formatted = prepared_trainer(tmp_path, model, tokenizer, records, PromptFormat())
    assert trainer.args.completion_only_loss is not False
    eos = tokenizer.eos_token_id
    for example, processed in zip(formatted, trainer.train_dataset):
        prompt_ids = tokenizer(example["prompt"])["input_ids"]
        input_ids, labels = processed["input_ids"], processed["labels"]
        assert input_ids == tokenizer(example["prompt"] + example["completion"] + tokenizer.eos_token)["input_ids"]
        assert input_ids[: len(prompt_ids)] == prompt_ids
        assert labels[: len(prompt_ids)] == [-100] * len(prompt_ids)  # every prompt token masked
        assert labels[len(prompt_ids) :] == input_ids[len(prompt_ids) :]  # every completion token trained
        assert input_ids[-1] == eos and labels[-1] == eos  # the EOS is trained
        trained = [token for token in labels if token != -100]
        assert tokenizer.decode(trained) == example["completion"] + tokenizer.eos_token
        assert training_token_length(example, tokenizer) == len(input_ids)
    batch = check_collator_keeps_labels(trainer)
    assert (batch["labels"] != -100).sum() == sum(
        len(tokenizer(example["completion"] + tokenizer.eos_token)["input_ids"]) for example in formatted
    )


def test_messages_with_generation_markers_train_on_the_assistant_turn_only(tmp_path, model, tokenizer, records):
    prompt_format = PromptFormat("messages", system_prompt=SYSTEM_PROMPT)
    trainer, formatted = prepared_trainer(tmp_path, model, tokenizer, records, prompt_format, assistant_only_loss=True)
    eos = tokenizer.eos_token_id
    for record, example, processed in zip(records, formatted, trainer.train_dataset):
        input_ids, labels = processed["input_ids"], processed["labels"]
        assert (
            input_ids
            == tokenizer.apply_chat_template(example["messages"], tokenize=True, return_dict=True)["input_ids"]
        )
        # The prompt, as generation renders it (prompt_text with the generation prompt), is masked entirely.
        prompt_ids = tokenizer(prompt_format.prompt_text(record, tokenizer), add_special_tokens=False)["input_ids"]
        assert input_ids[: len(prompt_ids)] == prompt_ids
        assert labels[: len(prompt_ids)] == [-100] * len(prompt_ids)
        # Then the assistant's answer and its <|im_end|> (the EOS) are trained, and nothing after them.
        answer_ids = tokenizer(record["output"] + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
        end = len(prompt_ids) + len(answer_ids)
        assert input_ids[len(prompt_ids) : end] == answer_ids and input_ids[end - 1] == eos
        assert labels[len(prompt_ids) : end] == answer_ids
        assert labels[end:] == [-100] * (len(labels) - end) and len(labels) > end  # the closing newline is masked
        assert training_token_length(example, tokenizer) == len(input_ids)
    check_collator_keeps_labels(trainer)


def test_alpaca_text_trains_on_the_whole_text(tmp_path, model, tokenizer, records):
    trainer, formatted = prepared_trainer(tmp_path, model, tokenizer, records, PromptFormat("alpaca"))
    for example, processed in zip(formatted, trainer.train_dataset):
        input_ids, labels = processed["input_ids"], processed["labels"]
        assert example["text"].startswith("Below is an instruction")
        assert input_ids == tokenizer(example["text"] + tokenizer.eos_token)["input_ids"]
        assert labels == input_ids and input_ids[-1] == tokenizer.eos_token_id
        assert training_token_length(example, tokenizer) == len(input_ids)
    check_collator_keeps_labels(trainer)


def test_a_training_step_runs_on_the_masked_batch(tmp_path, model, tokenizer, records):
    trainer, _ = prepared_trainer(tmp_path, model, tokenizer, records, PromptFormat(), max_steps=1)
    result = trainer.train()
    assert result.global_step == 1 and result.training_loss > 0
