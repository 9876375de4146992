"""Guaranteed decoding: a model writes a Starjob solution but only chooses which job goes next.

While the model writes, a ``ScheduleBuilder`` tracks the schedule. At each operation the candidates are the texts
``J{job}-M{machine}: {start}+{duration} -> {end}`` of the jobs with operations left (machine, start, duration and end
follow from the state); the model may only emit tokens whose text is a prefix of some candidate, and once the
candidates narrow to one, the rest of that operation, the separator and everything up to the next real choice are
forced. Every output therefore parses, is feasible, covers every operation and declares the right makespan, whatever
the model (trained or not) and whatever its tokenizer.

Speed: a forced span goes through the model in one forward pass together with the token that decided it, so an
operation costs about one forward pass instead of one per token. The samples of a prompt share its prompt pass (the
key/value cache is repeated), and rows of different prompts advance together with ragged spans (left-padded within
each step; a 2-D attention mask over cache + step hides the padding; position ids are kept per row).

Tokenizer-agnostic: every token's surface text is read off the tokenizer's own decoder (byte-level BPE, SentencePiece
"▁" pieces and ``<0x..>`` byte fallback all decode to plain text), and forced text is spelled with the tokenizer's
own encoding when that decodes back exactly, else with the fewest tokens whose surfaces concatenate to it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..core.builder import START_RULES, ScheduleBuilder
from ..core.codec import MAKESPAN_PREFIX, OPERATION_SEPARATOR, SOLUTION_HEADER, format_operation, parse_instance
from ..core.instance import Instance
from ..core.schedule import Operation, Schedule
from .sampling import (
    GenerationOutput,
    SamplingSettings,
    check_request,
    choose_among,
    decoding_mode,
    encode_prompts,
    eos_token_ids,
    longest_first_batches,
    pad_token_id,
)
from .vocabulary import TokenVocabulary


logger = logging.getLogger(__name__)

# Where a chosen operation starts, by measurement (`python bench/guaranteed.py --compare_rules`; mean gap %, best of
# 8 samples / mean sample, same instances and samples for every rule):
#                       untrained tiny model, 10 Taillard/DMU     tiny model after `make train`, 64 held-out
#   "monotone"          300.4 / 332.4                             6.9 / 29.3
#   "append"            151.4 / 178.7                             4.6 / 26.4
#   "insert"             42.5 /  54.2                             2.0 / 17.6
# "append" beats "monotone" with both models: keeping the text sorted by start (as in the training data) costs more
# idle time than the in-distribution text gains. "insert" (the earliest idle gap on the machine where the operation
# fits, after its job's previous end) beats both; for any sequence of job choices it starts every operation no later
# than "append", which starts it no later than "monotone", so it is the default.
DEFAULT_START_RULE = "insert"

# ------------------------------------------------------------------------------------------------ one solution


class SolutionWriter:
    """The state of one guaranteed solution as it is written: schedule, text, and the choice the model faces.

    ``start()`` and ``choose(token)`` return the token ids to feed to the model next (the decided token, then the
    forced span up to the next real choice); ``allowed`` lists ``(token_id, surface_length)`` at that choice.
    """

    def __init__(self, instance: Instance, vocabulary: TokenVocabulary, eos_id: int, rule: str = DEFAULT_START_RULE):
        if rule not in START_RULES:
            raise ValueError(f"unknown start rule {rule!r}; choose one of {', '.join(START_RULES)}")
        self.instance = instance
        self.vocabulary = vocabulary
        self.eos_id = eos_id
        self.rule = rule
        self.builder = ScheduleBuilder(instance)
        self.ids: list[int] = []
        self.text_parts: list[str] = []
        self.num_forced = 0
        self.finished = False
        self.allowed: list[tuple[int, int]] = []
        # Each model choice: its position in `ids` and the ids it was allowed (for scoring and checks).
        self.choices: list[tuple[int, tuple[int, ...]]] = []
        self._candidates: dict[int, str] = {}
        self._separator = ""

    # ----- public steps

    def start(self) -> list[int]:
        """The forced opening (``Solution:`` and what follows up to the first choice)."""
        self._candidates = self._next_candidates()
        return self._advance([], SOLUTION_HEADER + "\n")

    def choose(self, token_id: int) -> list[int]:
        """Take the model's token at the current choice; return the ids to feed next (nothing is fed once finished)."""
        if token_id not in dict(self.allowed):
            raise ValueError(f"token {token_id} is not allowed at this point")
        surface = self.vocabulary.surfaces[token_id]
        self.choices.append((len(self.ids), tuple(t for t, _ in self.allowed)))
        self._candidates = {j: c[len(surface) :] for j, c in self._candidates.items() if c.startswith(surface)}
        self.ids.append(token_id)
        self.text_parts.append(surface)
        return self._advance([token_id], "")

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def schedule(self) -> Schedule:
        """The schedule written so far (complete once ``finished``), declaring its makespan."""
        return self.builder.to_schedule()

    # ----- internals

    def _next_candidates(self) -> dict[int, str]:
        """Per remaining job, the text of its next operation (after the separator): the model's options."""
        candidates = {}
        for job in self.builder.remaining_jobs():
            _, k, machine, duration = self.builder.next_operation(job)
            start = self.builder.earliest_start(job, self.rule)
            candidates[job] = self._separator + format_operation(
                Operation(job, k, machine, start, duration, start + duration)
            )
        return candidates

    def _advance(self, chunk: list[int], pending: str) -> list[int]:
        """Force everything the state implies, up to the next real choice or the end; return the ids to feed."""
        vocabulary = self.vocabulary
        min_length = 1
        while True:
            while len(self._candidates) == 1:
                ((job, rest),) = self._candidates.items()
                pending += rest
                self.builder.append(job, self.rule)
                self._separator = OPERATION_SEPARATOR
                self._candidates = self._next_candidates()
            if not self._candidates:
                pending += f"\n{MAKESPAN_PREFIX}{self.builder.makespan}"
                ids = vocabulary.spell(pending)
                self._force(ids, pending)
                self._force([self.eos_id], "")
                self.finished = True
                self.allowed = []
                return chunk + ids  # the caller feeds nothing more: no choice follows
            common = os.path.commonprefix(list(self._candidates.values()))
            if common:
                pending += common
                self._candidates = {j: c[len(common) :] for j, c in self._candidates.items()}
            held = ""
            if pending:
                ids = vocabulary.spell(pending)
                # Hold the last token back when a longer token could cover it and reach into the choice (a BPE that
                # merges " J" with digits): the model then picks among " J", " J1", ... itself.
                tail = vocabulary.surfaces[ids[-1]]
                covering = self._allowed({j: tail + c for j, c in self._candidates.items()}, len(tail))
                if any(length > len(tail) for _, length in covering):
                    held, ids = tail, ids[:-1]
                    pending = pending[: len(pending) - len(tail)]
                    self._candidates = {j: tail + c for j, c in self._candidates.items()}
                    min_length = len(tail)
                self._force(ids, pending)
                chunk = chunk + ids
                pending = ""
            allowed = self._allowed(self._candidates, min_length)
            if not allowed:
                where = self.text[-30:] + held
                raise ValueError(f"the tokenizer has no token that continues {where!r} with a candidate operation")
            surfaces = {vocabulary.surfaces[token_id] for token_id, _ in allowed}
            if len(surfaces) == 1:
                # One possible text (maybe several ids for it): nothing to choose; take the preferred id.
                (surface,) = surfaces
                token_id = vocabulary.preferred_id(surface)
                self._candidates = {j: c[len(surface) :] for j, c in self._candidates.items() if c.startswith(surface)}
                self._force([token_id], surface)
                chunk = chunk + [token_id]
                min_length = 1
                continue
            self.allowed = allowed
            return chunk

    def _allowed(self, candidates: dict[int, str], min_length: int) -> list[tuple[int, int]]:
        """Distinct ``(token_id, length)`` whose surface is a prefix of some candidate, at least ``min_length`` long."""
        found: dict[int, int] = {}
        for text in candidates.values():
            for token_id, length in self.vocabulary.prefix_tokens(text, min_length):
                found[token_id] = length
        return sorted(found.items())

    def _force(self, ids: list[int], text: str) -> None:
        """Append forced tokens (spelling ``text``) to the solution."""
        self.ids.extend(ids)
        self.text_parts.append(text)
        self.num_forced += len(ids)


# ------------------------------------------------------------------------------------------------------ batches


@dataclass
class GuaranteedOutput(GenerationOutput):
    """``GenerationOutput`` plus what guaranteed decoding knows for free: each sample's schedule (complete, feasible,
    declaring its makespan), its token ids (EOS last), how many of them were forced, and the forward passes run
    (prompt passes included).
    """

    schedules: list[list[Schedule]] = field(default_factory=list)
    token_ids: list[list[list[int]]] = field(default_factory=list)
    num_forced: list[list[int]] = field(default_factory=list)
    forward_passes: int = 0

    @property
    def forced_fraction(self) -> float:
        """Share of all output tokens that were forced rather than chosen by the model."""
        total = self.total_tokens
        return sum(sum(row) for row in self.num_forced) / total if total else 0.0


def _left_pad(rows: Sequence[list[int]], pad_id: int):
    """``(input_ids, mask)`` of ragged rows, padded on the left so that every row's last token is in the last slot."""
    import torch

    width = max(len(row) for row in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for r, row in enumerate(rows):
        if row:
            ids[r, width - len(row) :] = torch.tensor(row)
            mask[r, width - len(row) :] = 1
    return ids, mask


def _decode_batch(model, tokenizer, prompts, writers, num_samples, settings, pad_id, progress) -> int:
    """Write every solution of ``writers`` (``num_samples`` consecutive writers per prompt); return forward passes."""
    import torch

    device = model.device
    openings = [writer.start() for writer in writers]
    rows = [i for i, writer in enumerate(writers) if not writer.finished]
    if not rows:
        return 0
    # Prompt pass: each prompt once, followed by its forced opening (identical for the samples of a prompt).
    encoded = encode_prompts(tokenizer, prompts)
    prompt_rows = []
    for p in range(len(prompts)):
        real = encoded["input_ids"][p][encoded["attention_mask"][p].bool()].tolist()
        prompt_rows.append(real + openings[p * num_samples])
    input_ids, mask = _left_pad(prompt_rows, pad_id)
    input_ids, mask = input_ids.to(device), mask.to(device)
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    passes = 1
    cache, logits = out.cache, out.logits[:, -1, :]
    next_position = mask.sum(dim=1)
    if num_samples > 1:
        cache.batch_repeat_interleave(num_samples)
        logits = logits.repeat_interleave(num_samples, dim=0)
        mask = mask.repeat_interleave(num_samples, dim=0)
        next_position = next_position.repeat_interleave(num_samples, dim=0)
    batch_rows = list(range(len(writers)))  # writer index of each row of the cache
    if len(rows) < len(writers):
        keep = torch.tensor(rows, device=device)
        cache.batch_select_indices(keep)
        logits, mask, next_position = logits[keep], mask[keep], next_position[keep]
        batch_rows = rows
    while batch_rows:
        allowed = [[token_id for token_id, _ in writers[i].allowed] for i in batch_rows]
        tokens = choose_among(logits, allowed, settings)
        chunks = [writers[i].choose(token) for i, token in zip(batch_rows, tokens)]
        alive = [r for r, i in enumerate(batch_rows) if not writers[i].finished]
        progress.update(len(batch_rows) - len(alive))
        if not alive:
            break
        if len(alive) < len(batch_rows):
            keep = torch.tensor(alive, device=device)
            cache.batch_select_indices(keep)
            mask, next_position = mask[keep], next_position[keep]
            batch_rows = [batch_rows[r] for r in alive]
            chunks = [chunks[r] for r in alive]
        step_ids, step_mask = _left_pad(chunks, pad_id)
        step_ids, step_mask = step_ids.to(device), step_mask.to(device)
        lengths = step_mask.sum(dim=1)
        width = step_ids.shape[1]
        offsets = torch.arange(width, device=device)[None, :] - (width - lengths)[:, None]
        positions = (next_position[:, None] + offsets).clamp(min=0)
        mask = torch.cat([mask, step_mask], dim=1)
        out = model(
            input_ids=step_ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        passes += 1
        cache, logits = out.cache, out.logits[:, -1, :]
        next_position = next_position + lengths
    return passes


def guaranteed_generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    num_samples: int = 1,
    settings: SamplingSettings | None = None,
    batch_size: int = 8,
    seed: int | None = None,
    show_progress: bool = False,
    instances: Sequence[Instance] | None = None,
    start_rule: str = DEFAULT_START_RULE,
) -> GuaranteedOutput:
    """Like ``sampling.generate``, but every sample is a complete, feasible Starjob solution of its instance.

    ``instances[i]`` is the problem of ``prompts[i]`` (parsed from the prompt when not given). The model chooses only
    the job of each operation, sampling with ``settings`` (temperature, top-p, top-k) among the tokens that can start
    a remaining job's operation; greedy decoding is deterministic. ``settings.max_new_tokens`` does not apply: a
    solution is as long as its instance needs.

    ``start_rule`` places each chosen operation (see ``jssp_sft.core.builder.START_RULES``): "append" starts it at the later of
    its job's and its machine's previous end; "monotone" also never before the previous operation's start, so the
    text stays sorted by start time as in the training data; "insert" (default) in the earliest idle gap of its
    machine where it fits after its job's previous end. The default was chosen by measurement: see
    ``DEFAULT_START_RULE``.
    """
    from tqdm.auto import tqdm

    settings = settings or SamplingSettings()
    check_request(num_samples, batch_size, settings)
    if start_rule not in START_RULES:
        raise ValueError(f"unknown start rule {start_rule!r}; choose one of {', '.join(START_RULES)}")
    if instances is None:
        instances = [parse_instance(prompt) for prompt in prompts]
    if len(instances) != len(prompts):
        raise ValueError(f"{len(prompts)} prompts but {len(instances)} instances")
    vocabulary = TokenVocabulary.of(tokenizer)
    eos_id = eos_token_ids(model, tokenizer)[0]
    pad_id = pad_token_id(tokenizer, eos_id)
    writers_of: list = [None] * len(prompts)
    passes = 0
    total = len(prompts) * num_samples
    with (
        decoding_mode(model, seed),
        tqdm(total=total, desc="guaranteed decoding", unit="sample", disable=not show_progress) as progress,
    ):
        for chunk in longest_first_batches(prompts, batch_size):
            writers = [
                SolutionWriter(instances[i], vocabulary, eos_id, start_rule) for i in chunk for _ in range(num_samples)
            ]
            passes += _decode_batch(
                model, tokenizer, [prompts[i] for i in chunk], writers, num_samples, settings, pad_id, progress
            )
            for k, i in enumerate(chunk):
                writers_of[i] = writers[k * num_samples : (k + 1) * num_samples]
    return GuaranteedOutput(
        texts=[[w.text for w in ws] for ws in writers_of],
        num_tokens=[[len(w.ids) for w in ws] for ws in writers_of],
        finished=[[True for _ in ws] for ws in writers_of],
        schedules=[[w.schedule() for w in ws] for ws in writers_of],
        token_ids=[[w.ids for w in ws] for ws in writers_of],
        num_forced=[[w.num_forced for w in ws] for ws in writers_of],
        forward_passes=passes,
    )
