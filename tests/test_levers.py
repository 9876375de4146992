"""Training levers of issue 11, each through the real parts: whole-number tokens in the tiny tokenizer, and the
job-choice loss weight (marking checked on TRL's own ``SFTTrainer`` preprocessing and collator, loss on its
``compute_loss``)."""

import itertools
import json
import random

import pytest
import torch
from conftest import one_layer_model, serial_record, sft_config, weighted_loss_by_hand
from datasets import Dataset

from jssp_sft.core.codec import parse_solution
from jssp_sft.data.loading import format_dataset
from jssp_sft.data.templates import PromptFormat
from jssp_sft.modeling.tiny import build_model, build_tokenizer
from jssp_sft.training.arguments import make_sft_parser
from jssp_sft.training.job_choice import JOB_CHOICE_MASK
from jssp_sft.training.trainer import StarjobSFTTrainer


@pytest.fixture(scope="module")
def records() -> list[dict]:
    rng = random.Random(0)
    return [serial_record(rng, n, m, shuffle_jobs=True) for n, m in [(2, 2), (3, 2), (12, 3), (3, 3)]]


def _trainer(tmp_path, tokenizer, records, weight: float, template: str = "prompt_completion"):
    model = one_layer_model(tokenizer)
    args = sft_config(tmp_path, per_device_train_batch_size=len(records), max_steps=1, learning_rate=1e-3, seed=0)
    dataset = format_dataset(Dataset.from_list(records), PromptFormat(template))
    return StarjobSFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer, job_choice_loss_weight=weight
    )


@pytest.mark.parametrize("number_tokens", [0, 1000])
@pytest.mark.parametrize("template", ["prompt_completion", "alpaca"])
def test_job_choice_mask_marks_exactly_the_job_numbers(tmp_path, records, number_tokens, template):
    tokenizer = build_tokenizer(vocab_size=400, corpus_size=30, number_tokens=number_tokens)
    trainer = _trainer(tmp_path, tokenizer, records, weight=3.0, template=template)
    examples = [trainer.train_dataset[i] for i in range(len(records))]  # TRL's own tokenization
    batch = trainer.data_collator(examples)
    mask = batch[JOB_CHOICE_MASK]
    assert mask.shape == batch["input_ids"].shape
    assert not mask[batch["labels"] == -100].any()  # never a prompt or padding token
    for row, record in enumerate(records):
        marked = [tokenizer.decode([t]) for t in batch["input_ids"][row][mask[row]].tolist()]
        expected = [str(op.job) for op in parse_solution(record["output"]).operations]
        # a job number is one token, or one token per digit (J10 and J11 of the 12-job record)
        assert "".join(marked) == "".join(expected)
        if number_tokens:
            assert marked == expected


def test_whole_number_tokens_round_trip_and_count():
    digits = build_tokenizer(vocab_size=400, corpus_size=30, number_tokens=0)
    numbers = build_tokenizer(vocab_size=400, corpus_size=30, number_tokens=1000)
    text = "J11-M3: 0+13 -> 1013, J1-M0: 105+69 -> 174"
    ids = numbers(text)["input_ids"]
    assert numbers.decode(ids) == text
    pieces = numbers.convert_ids_to_tokens(ids)
    assert "105" in pieces and "174" in pieces and "11" in pieces
    assert ["101", "3"] == pieces[pieces.index("13") + 3 : pieces.index("13") + 5]  # longest first, then the rest
    assert len(numbers) == len(digits) + 990
    with pytest.raises(ValueError, match="number_tokens"):
        build_tokenizer(vocab_size=400, corpus_size=30, number_tokens=-1)


def test_job_choice_weight_changes_only_the_weighted_loss(tmp_path, records):
    tokenizer = build_tokenizer(vocab_size=400, corpus_size=30)
    plain, weighted = (_trainer(tmp_path / str(w), tokenizer, records, weight=w) for w in (1.0, 5.0))
    examples = [plain.train_dataset[i] for i in range(len(records))]
    batch = plain.data_collator(examples)
    weighted.model.load_state_dict(plain.model.state_dict())
    plain.model.train()
    weighted.model.train()
    with torch.no_grad():
        loss_plain = plain.compute_loss(plain.model, dict(batch))
        loss_weighted = weighted.compute_loss(weighted.model, dict(batch))
        batch_without = {k: v for k, v in batch.items() if k != JOB_CHOICE_MASK}
        trl_loss = super(StarjobSFTTrainer, plain).compute_loss(plain.model, batch_without)
    assert loss_plain.item() == pytest.approx(trl_loss.item(), rel=1e-5)
    # by hand: the per-token losses of the job tokens counted 5 times
    assert loss_weighted.item() == pytest.approx(weighted_loss_by_hand(plain.model, batch, 5.0), rel=1e-4)
    assert loss_weighted.item() > loss_plain.item()
    assert plain._metrics["train"]["job_token_accuracy"]  # the job-number tokens' top-1 accuracy is logged


def test_job_choice_loss_weight_is_a_recipe_option():
    parser = make_sft_parser()
    script_args, _, _ = parser.parse_args_and_config(
        [
            "--output_dir",
            "x",
            "--dataset_name",
            "d.jsonl",
            "--use_cpu",
            "true",
            "--bf16",
            "false",
            "--job_choice_loss_weight",
            "4",
        ]
    )
    assert script_args.job_choice_loss_weight == 4.0
    with pytest.raises(ValueError, match="job_choice_loss_weight"):
        StarjobSFTTrainer.__init__(object.__new__(StarjobSFTTrainer), job_choice_loss_weight=-1.0)


def test_stream_is_reproducible_and_follows_the_curriculum():
    from jssp_sft.data.stream import StreamSettings, stream_records

    settings = StreamSettings("2x2,3x3", seed=5, curriculum_records=3)
    first = [r["input"] for r in itertools.islice(stream_records(settings), 8)]
    assert first == [r["input"] for r in itertools.islice(stream_records(settings), 8)]
    sizes = [r["num_jobs"] for r in itertools.islice(stream_records(settings), 8)]
    assert sizes == [2, 2, 2, 3, 3, 3, 3, 3]
    alternating = StreamSettings("2x2,3x3", seed=5)
    assert [r["num_jobs"] for r in itertools.islice(stream_records(alternating), 4)] == [2, 3, 2, 3]
    odd = [r["input"] for r in itertools.islice(stream_records(settings, start=1, step=2), 3)]
    assert odd == first[1:6:2]  # a worker's shard is every other record of the same stream
    with pytest.raises(ValueError, match="sizes"):
        StreamSettings("4by4")


def _stream_run(tmp_path, tiny_dir, name: str):
    from jssp_sft.sft import train

    argv = [
        "--model_name_or_path",
        str(tiny_dir),
        "--output_dir",
        str(tmp_path / name),
        "--use_cpu",
        "true",
        "--bf16",
        "false",
        "--report_to",
        "none",
        "--stream_sizes",
        "2x2",
        "--max_steps",
        "3",
        "--per_device_train_batch_size",
        "4",
        "--learning_rate",
        "1e-3",
        "--eval_strategy",
        "no",
        "--save_strategy",
        "no",
        "--generation_eval_problems",
        "0",
        "--job_choice_loss_weight",
        "3",
        "--dataset_name",
        str(tmp_path / "unused.jsonl"),
        "--seed",
        "0",
    ]
    trainer = train(*make_sft_parser().parse_args_and_config(argv))
    return trainer.model.state_dict(), trainer.state.log_history


def test_streamed_training_runs_through_sft_and_repeats_exactly(tmp_path, records):
    tokenizer = build_tokenizer(vocab_size=400, corpus_size=30, number_tokens=100)
    model = one_layer_model(tokenizer, max_position_embeddings=1024)
    tiny_dir = tmp_path / "tiny"
    model.save_pretrained(tiny_dir)
    tokenizer.save_pretrained(tiny_dir)
    (tmp_path / "unused.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records * 3))
    weights_a, history = _stream_run(tmp_path, tiny_dir, "a")
    weights_b, _ = _stream_run(tmp_path, tiny_dir, "b")
    assert history[-1]["step"] == 3
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
    assert any(not torch.equal(weights_a[k], model.state_dict()[k]) for k in weights_a)  # it trained


def test_value_embedding_starts_number_tokens_from_their_value():
    from jssp_sft.modeling.tiny import number_token_values, value_embedding

    tokenizer = build_tokenizer(vocab_size=400, corpus_size=30, number_tokens=1000)
    values = number_token_values(tokenizer)
    assert sorted(values.values()) == list(range(1000))
    shape = {"hidden_size": 64, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2}
    plain = build_model(tokenizer, num_key_value_heads=1, number_embedding="random", **shape)
    plain = plain.get_input_embeddings().weight
    valued = build_model(tokenizer, num_key_value_heads=1, number_embedding="value", **shape)
    valued = valued.get_input_embeddings().weight
    changed = (plain != valued).any(dim=1).nonzero().flatten().tolist()
    assert sorted(changed) == sorted(values)  # only the number tokens, from the same random start
    ramp = [value_embedding(v, 64)[0].item() for v in (0, 13, 14, 500, 999)]
    assert ramp == sorted(ramp)
    near = torch.nn.functional.cosine_similarity(value_embedding(13, 64), value_embedding(14, 64), dim=0)
    far = torch.nn.functional.cosine_similarity(value_embedding(13, 64), value_embedding(700, 64), dim=0)
    assert near > far
    with pytest.raises(ValueError, match="number_embedding"):
        build_model(tokenizer, number_embedding="sorted", **shape)
