"""Guaranteed decoding's restricted choice goes through transformers' logits warpers (temperature, top-k, top-p) and
picks exactly what the hand-written sampler it replaced picked, for the same seed; the vocabulary has its own module."""

import pytest
import torch

from jssp_sft.modeling.loading import load_tokenizer
from jssp_sft.solve import guaranteed
from jssp_sft.solve.sampling import SamplingSettings, choose_among, logits_warpers
from jssp_sft.solve.vocabulary import SOLUTION_ALPHABET, TokenVocabulary


def hand_written_choice(logits, allowed, settings):
    """The sampler guaranteed decoding used before (`_choose_tokens`), kept here as the reference."""
    width = max(len(row) for row in allowed)
    index = torch.zeros(len(allowed), width, dtype=torch.long)
    valid = torch.zeros(len(allowed), width, dtype=torch.bool)
    for r, row in enumerate(allowed):
        index[r, : len(row)] = torch.tensor(row)
        valid[r, : len(row)] = True
    scores = logits.float().gather(1, index).masked_fill(~valid, float("-inf"))
    if settings.greedy:
        picked = scores.argmax(dim=1)
    else:
        scores = scores / settings.temperature
        if settings.top_k is not None and settings.top_k < width:
            kth = scores.topk(settings.top_k, dim=1).values[:, -1:]
            scores = scores.masked_fill(scores < kth, float("-inf"))
        probs = scores.softmax(dim=1)
        if settings.top_p < 1.0:
            sorted_probs, order = probs.sort(dim=1, descending=True)
            drop = sorted_probs.cumsum(dim=1) - sorted_probs >= settings.top_p
            sorted_probs = sorted_probs.masked_fill(drop, 0.0)
            probs = torch.zeros_like(probs).scatter(1, order, sorted_probs)
        picked = torch.multinomial(probs, 1).squeeze(1)
    return index.gather(1, picked[:, None]).squeeze(1).tolist()


SETTINGS = [
    SamplingSettings(temperature=0),
    SamplingSettings(),
    SamplingSettings(temperature=0.7),
    SamplingSettings(temperature=1.5, top_k=3),
    SamplingSettings(top_k=1),
    SamplingSettings(top_k=50),
    SamplingSettings(top_p=0.9),
    SamplingSettings(temperature=0.8, top_k=4, top_p=0.5),
    SamplingSettings(top_p=0.05),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_the_warpers_pick_what_the_hand_written_sampler_picked(settings):
    generator = torch.Generator().manual_seed(0)
    vocabulary_size, rows = 64, 16
    differences = 0
    for trial in range(50):
        logits = torch.randn(rows, vocabulary_size, generator=generator) * 3
        allowed = [
            torch.randperm(vocabulary_size, generator=generator)[: 1 + (trial + r) % 9].tolist() for r in range(rows)
        ]
        torch.manual_seed(trial)
        expected = hand_written_choice(logits, allowed, settings)
        torch.manual_seed(trial)
        chosen = choose_among(logits, allowed, settings)
        assert all(token in row for token, row in zip(chosen, allowed))
        differences += sum(a != b for a, b in zip(expected, chosen))
    assert differences == 0


def test_the_warpers_are_transformers_own_in_generate_order():
    names = [type(w).__name__ for w in logits_warpers(SamplingSettings(temperature=0.5, top_k=5, top_p=0.9))]
    assert names == ["TemperatureLogitsWarper", "TopKLogitsWarper", "TopPLogitsWarper"]
    assert len(logits_warpers(SamplingSettings(temperature=0, top_k=5))) == 0


def test_top_k_one_is_greedy_among_the_allowed_ids():
    logits = torch.tensor([[0.0, 5.0, 1.0, 9.0], [3.0, 2.0, 1.0, 0.0]])
    for seed in range(5):
        torch.manual_seed(seed)
        assert choose_among(logits, [[0, 1, 2], [1, 2, 3]], SamplingSettings(top_k=1)) == [1, 1]


def test_the_vocabulary_lives_in_its_own_module(tiny_model_dir):
    assert guaranteed.TokenVocabulary is TokenVocabulary
    surfaces = TokenVocabulary.of(load_tokenizer(str(tiny_model_dir))).surfaces
    assert surfaces and all(set(s) <= SOLUTION_ALPHABET for s in surfaces.values())
