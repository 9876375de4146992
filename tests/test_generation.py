"""Batched sampling: left padding, a shared prompt pass for N samples, greedy/sampling, EOS and token counts."""

import pytest
import torch

from jssp_sft.modeling.loading import load_model, load_tokenizer
from jssp_sft.solve.sampling import SamplingSettings, encode_prompts, generate


PROMPTS = ["J0:\nM0:5 M1:7 \nJ1:\nM1:3 M0:2 \n", "short", "J0:\nM0:5 \n and a longer prompt 12345 67890"]
GREEDY = SamplingSettings(max_new_tokens=12, do_sample=False)


@pytest.fixture(scope="module")
def model_and_tokenizer(tiny_model_dir):
    return load_model(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir))


def test_left_padding(model_and_tokenizer):
    _, tokenizer = model_and_tokenizer
    batch = encode_prompts(tokenizer, PROMPTS)
    assert batch["input_ids"].shape[0] == 3
    assert (batch["attention_mask"][:, -1] == 1).all()  # every prompt ends at the right edge
    assert batch["attention_mask"][1, 0] == 0 and tokenizer.padding_side == "right"  # restored


def test_batched_shared_prompt_pass_matches_one_by_one(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    one = generate(model, tokenizer, PROMPTS, num_samples=1, settings=GREEDY, batch_size=3)
    shared = generate(model, tokenizer, PROMPTS, num_samples=3, settings=GREEDY, batch_size=2)
    for i, prompt in enumerate(PROMPTS):
        alone = generate(model, tokenizer, [prompt], num_samples=1, settings=GREEDY)
        assert alone.texts[0] == one.texts[i]
        assert shared.texts[i] == one.texts[i] * 3
    assert [len(t) for t in shared.texts] == [3, 3, 3]
    # a random model rarely says EOS: cut at max_new_tokens and marked unfinished
    assert all(n <= GREEDY.max_new_tokens for row in one.num_tokens for n in row)
    assert one.total_tokens == sum(sum(r) for r in one.num_tokens)


def test_sampling_is_seeded_and_diverse(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    hot = SamplingSettings(max_new_tokens=12, temperature=1.5)
    a = generate(model, tokenizer, PROMPTS, num_samples=4, settings=hot, seed=1)
    b = generate(model, tokenizer, PROMPTS, num_samples=4, settings=hot, seed=1)
    assert a.texts == b.texts
    assert all(len(set(samples)) > 1 for samples in a.texts)


def test_stops_at_eos_and_restores_training_mode(tiny_model_dir):
    model, tokenizer = load_model(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir))
    # overfit the model on two answers so that it says them and then EOS
    pairs = [
        ("J0:\nM0:5 \n", "Solution:\nJ0-M0: 0+5 -> 5"),
        ("J0:\nM1:7 M0:3 \nJ1:\nM0:2 M1:4 \n", "Solution:\nJ1-M0: 0+2 -> 2, J0-M1: 0+7 -> 7"),
    ]
    examples = []
    for prompt, answer in pairs:
        prompt_ids = tokenizer(prompt)["input_ids"]
        answer_ids = tokenizer(answer)["input_ids"] + [tokenizer.eos_token_id]
        examples.append(
            (torch.tensor([prompt_ids + answer_ids]), torch.tensor([[-100] * len(prompt_ids) + answer_ids]))
        )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(150):
        for ids, labels in examples:
            optimizer.zero_grad()
            model(input_ids=ids, labels=labels).loss.backward()
            optimizer.step()
    # one batch: the short prompt is left-padded; its samples share one prompt pass
    settings = SamplingSettings(max_new_tokens=60, temperature=0.1)
    out = generate(model, tokenizer, [p for p, _ in pairs], num_samples=2, settings=settings, batch_size=2)
    assert model.training
    assert out.texts == [[answer, answer] for _, answer in pairs]
    assert all(out.finished[i] == [True, True] for i in range(2))
    assert out.num_tokens[0] == [len(tokenizer(pairs[0][1])["input_ids"]) + 1] * 2


def test_rejects_bad_arguments(model_and_tokenizer):
    with pytest.raises(ValueError, match="num_samples"):
        generate(*model_and_tokenizer, PROMPTS, num_samples=0)
