"""Shared test set-up: everything runs offline, on CPU, on models and data built locally."""

import os


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_MODE", "disabled")

import pytest  # noqa: E402

from jssp_sft import Instance, parse_instance  # noqa: E402


EXAMPLE_INPUT = "J0:\nM2:7 M0:12 M1:5 \nJ1:\nM0:9 M2:4 M1:11 \n"
EXAMPLE_OUTPUT = (
    "Solution:\n"
    "J0-M2: 0+7 -> 7, J1-M0: 0+9 -> 9, J1-M2: 9+4 -> 13, J0-M0: 9+12 -> 21, J1-M1: 13+11 -> 24, J0-M1: 24+5 -> 29\n"
    "Maximum end completion time or Makespan: 29"
)
EXAMPLE_MATRIX = "2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\n29.0\n3 1\n5 2\n0 4"


@pytest.fixture
def example_instance() -> Instance:
    """The 2x3 instance of the Starjob format spec."""
    return parse_instance(EXAMPLE_INPUT)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A very small model + tokenizer from ``jssp_sft.tiny`` (random weights), saved once per test session."""
    from jssp_sft.tiny import TinyModelArguments, build_tiny

    directory = tmp_path_factory.mktemp("tiny-model")
    args = TinyModelArguments(
        output_dir=str(directory), vocab_size=400, tokenizer_corpus_size=80, hidden_size=32, intermediate_size=64,
        num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024,
    )  # fmt: skip
    build_tiny(args)
    return directory
