"""The tiny offline tokenizer and model: digits as single tokens, lossless text, ChatML with generation markers."""

import json

import pytest
import torch

from jssp_sft import parse_solution
from jssp_sft.data.templates import CHAT_TEMPLATE
from jssp_sft.modeling.tiny import (
    EOS_TOKEN,
    IM_START_TOKEN,
    PAD_TOKEN,
    TOKENIZER_MARKER_KEY,
    build_model,
    build_tokenizer,
    is_tiny_tokenizer,
    main,
)


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer(vocab_size=400, corpus_size=60, number_tokens=0)  # digit by digit, as Qwen tokenizers


def test_digits_are_single_tokens_and_text_round_trips(tokenizer, example_instance):
    from conftest import EXAMPLE_OUTPUT

    tokens = tokenizer.tokenize("J12-M3: 105+20 -> 125")
    assert [t for t in tokens if any(c.isdigit() for c in t)] == list("12310520125")
    ids = tokenizer(EXAMPLE_OUTPUT)["input_ids"]
    assert tokenizer.decode(ids) == EXAMPLE_OUTPUT
    assert parse_solution(tokenizer.decode(ids)).makespan == 29
    # byte-level: text never seen in the corpus still round-trips, with no unknown token
    odd = "Ünïcode ✓ tabs\tand 1234567890"
    assert tokenizer.decode(tokenizer(odd)["input_ids"]) == odd


def test_special_tokens_and_chat_template(tokenizer):
    assert tokenizer.eos_token == EOS_TOKEN and tokenizer.pad_token == PAD_TOKEN
    assert tokenizer.eos_token_id != tokenizer.pad_token_id
    assert tokenizer.convert_tokens_to_ids(IM_START_TOKEN) not in (None, tokenizer.unk_token_id)
    assert tokenizer.chat_template == CHAT_TEMPLATE
    messages = [
        {"role": "user", "content": "J0:\nM0:5 \n"},
        {"role": "assistant", "content": "Solution:\nJ0-M0: 0+5 -> 5"},
    ]
    out = tokenizer.apply_chat_template(messages, return_assistant_tokens_mask=True, return_dict=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    trained = [i for i, m in zip(ids, mask) if m]
    # exactly the assistant's content and its end-of-turn token are trained
    assert tokenizer.decode(trained) == "Solution:\nJ0-M0: 0+5 -> 5" + EOS_TOKEN
    assert trained[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids).startswith(IM_START_TOKEN + "user\n")


def test_default_reads_whole_numbers():
    """The default tokenizer (``make train``'s) has one token per number 0-999."""
    tokenizer = build_tokenizer(vocab_size=400, corpus_size=20)
    assert tokenizer.tokenize("J12-M3: 105+20 -> 1250")[-2:] == ["125", "0"]


def test_vocab_size_floor():
    with pytest.raises(ValueError, match="at least"):
        build_tokenizer(vocab_size=100)


@pytest.mark.parametrize("architecture", ["qwen2", "llama"])
def test_build_model_forward_and_reload(tokenizer, architecture, tmp_path):
    from transformers import AutoModelForCausalLM

    model = build_model(
        tokenizer,
        architecture,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    assert model.config.vocab_size == len(tokenizer)
    assert model.config.eos_token_id == tokenizer.eos_token_id and model.config.pad_token_id == tokenizer.pad_token_id
    batch = tokenizer(["J0:\nM0:5 \n"], return_tensors="pt")
    loss = model(**batch, labels=batch["input_ids"]).loss
    assert torch.isfinite(loss) and loss.item() > 0
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == architecture and config["architectures"]
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert torch.allclose(reloaded(**batch).logits, model(**batch).logits)


def test_unknown_architecture(tokenizer):
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model(tokenizer, "gpt2")


def test_command_line_builds_a_loadable_directory(tmp_path):
    from transformers import PreTrainedTokenizerFast

    out = tmp_path / "tiny"
    main(
        [
            "--output-dir",
            str(out),
            "--hidden_size",
            "32",
            "--intermediate_size",
            "64",
            "--num_hidden_layers",
            "1",
            "--tokenizer_corpus_size",
            "20",
            "--vocab_size",
            "300",
            "--architecture",
            "llama",
        ]
    )
    assert json.loads((out / "tokenizer_config.json").read_text())[TOKENIZER_MARKER_KEY]
    assert (out / "chat_template.jinja").read_text() == CHAT_TEMPLATE
    assert json.loads((out / "config.json").read_text())["model_type"] == "llama"
    reloaded = PreTrainedTokenizerFast.from_pretrained(out)
    assert is_tiny_tokenizer(reloaded) and reloaded.eos_token == EOS_TOKEN
