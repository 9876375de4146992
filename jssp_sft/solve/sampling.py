"""Batched sampling from a causal LM: N samples per prompt, left-padded batches, one prompt pass per prompt.

Used by the generation-eval callback during training and by the solve command. Prompts are texts exactly as the
model saw them in training (``PromptFormat.prompt_text``). The prompt of each batch is run through the model once;
its key/value cache is then repeated for the N samples (``transformers`` alone would re-encode it N times).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field


logger = logging.getLogger(__name__)


@dataclass
class GenerationOutput:
    """Per prompt, its samples: ``texts[i][s]`` is sample ``s`` of prompt ``i``.

    ``num_tokens`` counts the generated tokens up to and including EOS; ``finished`` says whether EOS was reached
    (False: cut at ``max_new_tokens``).
    """

    texts: list[list[str]] = field(default_factory=list)
    num_tokens: list[list[int]] = field(default_factory=list)
    finished: list[list[bool]] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return sum(sum(row) for row in self.num_tokens)


@dataclass
class SamplingSettings:
    """How to sample; ``temperature=0`` (or ``do_sample=False``) means greedy decoding."""

    max_new_tokens: int = field(default=1024, metadata={"help": "Longest answer generated, in tokens."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature; 0 means greedy."})
    top_p: float = field(
        default=1.0, metadata={"help": "Nucleus sampling: keep the smallest set of tokens with this mass."}
    )
    top_k: int | None = field(default=None, metadata={"help": "Keep only the k most likely tokens (None: all)."})
    do_sample: bool = field(default=True, metadata={"help": "Sample (True) or decode greedily (False)."})

    def __post_init__(self):
        check_sampling(self.temperature, self.top_p, self.top_k, self.max_new_tokens)

    @property
    def greedy(self) -> bool:
        return not self.do_sample or self.temperature == 0


def check_sampling(
    temperature: float, top_p: float, top_k: int | None = None, max_new_tokens: int | None = None
) -> None:
    """``ValueError`` naming the first invalid sampling setting (a negative temperature is not greedy decoding)."""
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a finite number >= 0 (0 means greedy), got {temperature!r}")
    if not (isinstance(top_p, (int, float)) and 0 < top_p <= 1):
        raise ValueError(f"top_p must lie in (0, 1], got {top_p!r}")
    if top_k is not None and not (isinstance(top_k, int) and top_k >= 1):
        raise ValueError(f"top_k must be >= 1 (or unset: every token), got {top_k!r}")
    if max_new_tokens is not None and not (isinstance(max_new_tokens, int) and max_new_tokens >= 1):
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens!r}")


def logits_warpers(settings: SamplingSettings):
    """transformers' ``LogitsProcessorList`` for ``settings`` (temperature, then top-k, then top-p, as ``generate``
    applies them); empty for greedy decoding."""
    from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    warpers = LogitsProcessorList()
    if settings.greedy:
        return warpers
    if settings.temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(settings.temperature))
    if settings.top_k is not None:
        warpers.append(TopKLogitsWarper(settings.top_k))
    if settings.top_p < 1.0:
        warpers.append(TopPLogitsWarper(settings.top_p))
    return warpers


def choose_among(logits, allowed: Sequence[Sequence[int]], settings: SamplingSettings) -> list[int]:
    """One token id per row of ``logits``, drawn from the model's distribution restricted to the row's ``allowed`` ids
    and warped by ``logits_warpers(settings)`` (greedy: the allowed id with the highest logit)."""
    import torch

    width = max(len(row) for row in allowed)
    index = torch.zeros(len(allowed), width, dtype=torch.long)
    valid = torch.zeros(len(allowed), width, dtype=torch.bool)
    for r, row in enumerate(allowed):
        index[r, : len(row)] = torch.tensor(row)
        valid[r, : len(row)] = True
    index, valid = index.to(logits.device), valid.to(logits.device)
    scores = logits.float().gather(1, index).masked_fill(~valid, float("-inf"))
    if settings.greedy:
        picked = scores.argmax(dim=1)
    else:
        scores = logits_warpers(settings)(index, scores)
        picked = torch.multinomial(scores.softmax(dim=1), 1).squeeze(1)
    return index.gather(1, picked[:, None]).squeeze(1).tolist()


def eos_token_ids(model, tokenizer) -> list[int]:
    """The ids that end an answer: the tokenizer's EOS first, then the model's generation-config EOS ids."""
    ids = model.generation_config.eos_token_id
    ids = [] if ids is None else [ids] if isinstance(ids, int) else list(ids)
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.insert(0, tokenizer.eos_token_id)
    if not ids:
        raise ValueError("neither the tokenizer nor the model's generation config names an EOS token")
    return ids


def adds_special_tokens(tokenizer, prompts: Sequence[str]) -> bool:
    """Whether ``prompts`` get the tokenizer's special tokens: not when they already start with BOS (chat text)."""
    bos = tokenizer.bos_token
    return not (bos and all(p.startswith(bos) for p in prompts))


def prompt_token_ids(tokenizer, prompts: Sequence[str]) -> list[list[int]]:
    """Each prompt's token ids, unpadded, by the same rules as ``encode_prompts`` (for backends that take ids)."""
    add_special = adds_special_tokens(tokenizer, prompts)
    return [list(ids) for ids in tokenizer(list(prompts), add_special_tokens=add_special)["input_ids"]]


def encode_prompts(tokenizer, prompts: Sequence[str], device=None) -> dict:
    """Left-padded ``input_ids``/``attention_mask`` for ``prompts``, with special tokens as in training.

    A prompt that already starts with the BOS token (a rendered chat template) gets no second one.
    """
    add_special = adds_special_tokens(tokenizer, prompts)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        batch = tokenizer(list(prompts), padding=True, return_tensors="pt", add_special_tokens=add_special)
    finally:
        tokenizer.padding_side = side
    return {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}


class TokenProgress:
    """A logits processor that only moves a tqdm bar one step per generated token (``model.generate`` calls it once
    per step), so a long free-decoding call shows how far it is; the scores pass through unchanged."""

    def __init__(self, bar):
        self.bar = bar

    def __call__(self, input_ids, scores):
        self.bar.update(1)
        return scores


def _generate_batch(
    model, tokenizer, prompts, num_samples, settings: SamplingSettings, eos_ids, pad_id, show_progress=False
):
    import torch
    from tqdm.auto import tqdm
    from transformers import LogitsProcessorList

    batch = encode_prompts(tokenizer, prompts, device=model.device)
    input_ids, attention_mask = batch["input_ids"], batch["attention_mask"]
    kwargs = {
        "max_new_tokens": settings.max_new_tokens,
        "eos_token_id": eos_ids,
        "pad_token_id": pad_id,
        "use_cache": True,
    }
    bar = tqdm(total=settings.max_new_tokens, desc="generating", unit="token", leave=False, disable=not show_progress)
    if show_progress:
        kwargs["logits_processor"] = LogitsProcessorList([TokenProgress(bar)])
    if settings.greedy:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    else:
        kwargs.update(do_sample=True, temperature=settings.temperature, top_p=settings.top_p, top_k=settings.top_k)
    if num_samples > 1 and input_ids.shape[1] > 1:
        # One forward pass over each prompt (all but its last token), then the cache is repeated for the samples;
        # generate() sees a cache shorter than the input by one token and only runs that token.
        # Left padding: positions count real tokens only, as generate() numbers them (cumsum of the mask).
        prefix_mask = attention_mask[:, :-1]
        positions = (prefix_mask.long().cumsum(-1) - 1).masked_fill(prefix_mask == 0, 0)
        prefix = model(
            input_ids=input_ids[:, :-1],
            attention_mask=prefix_mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
        )
        cache = prefix.cache
        cache.batch_repeat_interleave(num_samples)
        input_ids = input_ids.repeat_interleave(num_samples, dim=0)
        attention_mask = attention_mask.repeat_interleave(num_samples, dim=0)
        out = model.generate(input_ids=input_ids, attention_mask=attention_mask, cache=cache, **kwargs)
    else:
        out = model.generate(
            input_ids=input_ids, attention_mask=attention_mask, num_return_sequences=num_samples, **kwargs
        )
    bar.close()
    new = out[:, input_ids.shape[1] :]
    is_eos = torch.isin(new, torch.tensor(eos_ids, device=new.device))
    finished = is_eos.any(dim=1)
    first_eos = torch.where(
        finished, is_eos.int().argmax(dim=1), torch.full_like(finished, new.shape[1], dtype=torch.long)
    )
    lengths = torch.where(finished, first_eos + 1, first_eos)
    texts = [tokenizer.decode(row[: int(n)], skip_special_tokens=True) for row, n in zip(new, first_eos.tolist())]
    return texts, lengths.tolist(), finished.tolist()


def check_request(num_samples: int, batch_size: int, settings: SamplingSettings) -> None:
    """A ``ValueError`` for a sample count or batch size below 1; a warning for N identical greedy samples."""
    if num_samples < 1 or batch_size < 1:
        raise ValueError("num_samples and batch_size must be >= 1")
    if settings.greedy and num_samples > 1:
        logger.warning("greedy decoding with num_samples=%d gives %d identical samples", num_samples, num_samples)


def pad_token_id(tokenizer, eos_id: int) -> int:
    """The tokenizer's padding id, or ``eos_id`` for a tokenizer without one."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_id


def longest_first_batches(prompts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Indices of ``prompts`` in batches of ``batch_size``, longest prompts first, so a batch holds similar lengths."""
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


@contextmanager
def decoding_mode(model, seed: int | None = None) -> Iterator[None]:
    """The model in eval mode under ``torch.inference_mode`` (and torch seeded when ``seed`` is given); the model is
    given back in the mode it had."""
    import torch

    if seed is not None:
        torch.manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)


def generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    num_samples: int = 1,
    settings: SamplingSettings | None = None,
    batch_size: int = 8,
    seed: int | None = None,
    show_progress: bool = False,
) -> GenerationOutput:
    """Sample ``num_samples`` answers for each prompt, ``batch_size`` prompts at a time (longest first).

    The model is put in eval mode for the call and given back in the mode it had. ``show_progress``: a bar of the
    batches (when several) and one of each batch's generated tokens.
    """
    from tqdm.auto import tqdm

    settings = settings or SamplingSettings()
    check_request(num_samples, batch_size, settings)
    eos_ids = eos_token_ids(model, tokenizer)
    pad_id = pad_token_id(tokenizer, eos_ids[0])
    result: list = [None] * len(prompts)
    with decoding_mode(model, seed):
        batches = longest_first_batches(prompts, batch_size)
        for chunk in tqdm(batches, desc="batches", disable=not show_progress or len(batches) < 2, unit="batch"):
            chosen = [prompts[i] for i in chunk]
            texts, lengths, finished = _generate_batch(
                model, tokenizer, chosen, num_samples, settings, eos_ids, pad_id, show_progress
            )
            for k, i in enumerate(chunk):
                rows = slice(k * num_samples, (k + 1) * num_samples)
                result[i] = (texts[rows], lengths[rows], finished[rows])
    return GenerationOutput(
        texts=[r[0] for r in result], num_tokens=[r[1] for r in result], finished=[r[2] for r in result]
    )
