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

Candidate lines (``candidate_format``, the ``candidates`` answer format of ``jssp_sft.core.answers``): before each
operation the writer forces the line that lists the candidates (the ``top_k`` with the earliest starts, with their
numbers) up to its choice mark; the model chooses an entry's label (the same few tokens at every instance size), and
that entry's operation line is forced. Operations are then separated by line breaks.

Sliding-window models (``config.layer_types`` with ``"sliding_attention"``): the attention masks are built here
from each row's real positions, so that every query sees exactly the ``sliding_window`` tokens before it as in
training, whatever the padding of the batch; and when every layer slides, cache slots no row can see any more are
dropped, so that a step costs the same at any answer length.

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
from ..core.candidates import CandidateFormat, candidates
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

    def __init__(
        self,
        instance: Instance,
        vocabulary: TokenVocabulary,
        eos_id: int,
        rule: str = DEFAULT_START_RULE,
        candidate_format: CandidateFormat | None = None,
    ):
        if rule not in START_RULES:
            raise ValueError(f"unknown start rule {rule!r}; choose one of {', '.join(START_RULES)}")
        self.instance = instance
        self.candidate_format = candidate_format
        self._lower_bound = instance.lower_bound() if candidate_format is not None else 0
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
        """Per job the model may choose, the text of its next operation (after the separator and, with candidate
        lines, after the line that lists the choices): the model's options."""
        builder = self.builder
        if self.candidate_format is None:
            options = {}
            for job in builder.remaining_jobs():
                _, k, machine, duration = builder.next_operation(job)
                start = builder.earliest_start(job, self.rule)
                options[job] = self._separator + format_operation(
                    Operation(job, k, machine, start, duration, start + duration)
                )
            return options
        fmt = self.candidate_format
        listed = fmt.listed(candidates(builder, self.rule))
        if not listed:
            return {}
        # The line is forced up to its choice; the model picks an entry's label, and its operation follows.
        head = self._separator + fmt.line(listed, self._lower_bound)
        options = {}
        for index, c in enumerate(listed):
            operation = Operation(c.job, builder.next_operation(c.job).op_index, c.machine, c.start, c.duration, c.end)
            options[c.job] = head + fmt.choice(index) + "\n" + format_operation(operation)
        return options

    def _advance(self, chunk: list[int], pending: str) -> list[int]:
        """Force everything the state implies, up to the next real choice or the end; return the ids to feed."""
        vocabulary = self.vocabulary
        min_length = 1
        while True:
            while len(self._candidates) == 1:
                ((job, rest),) = self._candidates.items()
                pending += rest
                self.builder.append(job, self.rule)
                self._separator = OPERATION_SEPARATOR if self.candidate_format is None else "\n"
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


def sliding_window_of(model) -> int | None:
    """The model's attention window when some of its layers slide (``config.layer_types``), else ``None``."""
    config = model.config
    window = getattr(config, "sliding_window", None)
    if window and "sliding_attention" in (getattr(config, "layer_types", None) or ()):
        return int(window)
    return None


class _Attention:
    """What the model may attend to: per row of the batch, the real position of each cache slot (-1 for padding).

    Without a sliding window the model gets the usual 2-D mask over cache + step. With one, it gets prepared 4-D masks
    per layer type, built from real positions (a query at position p sees the real slots at p - window < q <= p on
    sliding layers, every real slot up to p on full ones), and the cache is cropped to the slots still visible.
    """

    def __init__(self, model, mask):
        import torch

        self.window = sliding_window_of(model)
        self.layer_types = set(model.config.layer_types or ()) if self.window else set()
        self.crops = self.window is not None and self.layer_types == {"sliding_attention"}
        self.boolean = getattr(model.config, "_attn_implementation", "sdpa") in ("sdpa", "flex_attention")
        self.mask = mask  # 2-D, over every slot so far
        self.slot_position = (mask.cumsum(dim=1) - 1).masked_fill(mask == 0, -1)
        self.next_position = mask.sum(dim=1)
        self._torch = torch

    def prompt(self):
        """``(position_ids, attention_mask)`` of the prompt pass (its tokens are every slot so far)."""
        positions = self.slot_position.clamp(min=0)
        if self.window is None:
            return positions, self.mask
        return positions, self._masks(self.slot_position, self.slot_position)

    def step(self, step_mask):
        """``(position_ids, attention_mask)`` for a step of left-padded tokens; records their slots."""
        torch = self._torch
        lengths = step_mask.sum(dim=1)
        width = step_mask.shape[1]
        offsets = torch.arange(width, device=step_mask.device)[None, :] - (width - lengths)[:, None]
        query = (self.next_position[:, None] + offsets).masked_fill(step_mask == 0, -1)
        self.next_position = self.next_position + lengths
        self.mask = torch.cat([self.mask, step_mask], dim=1)
        self.slot_position = torch.cat([self.slot_position, query], dim=1)
        if self.window is None:
            return query.clamp(min=0), self.mask
        return query.clamp(min=0), self._masks(query, self.slot_position)

    def _masks(self, query, keys):
        """Per layer type, the ``(rows, 1, queries, slots)`` mask (boolean for sdpa, additive otherwise)."""
        torch = self._torch
        q, k = query[:, :, None], keys[:, None, :]
        seen = (k >= 0) & (k <= q)
        # A padding query sees its own slot only: its output is never used, but a row of nothing would give NaN.
        own = torch.zeros_like(seen)
        own[:, :, keys.shape[1] - query.shape[1] :] = torch.eye(query.shape[1], dtype=torch.bool, device=keys.device)
        seen = seen | (own & (q < 0))
        masks = {}
        for layer_type in self.layer_types:
            visible = seen & (q - k < self.window) if layer_type == "sliding_attention" else seen
            visible = visible | (own & (q < 0))
            if not self.boolean:
                zero = torch.zeros((), dtype=torch.float32, device=keys.device)
                visible = torch.where(visible, zero, torch.finfo(torch.float32).min)
            masks[layer_type] = visible[:, None]
        return masks

    def select(self, keep):
        self.mask, self.slot_position, self.next_position = (
            self.mask[keep],
            self.slot_position[keep],
            self.next_position[keep],
        )

    def repeat(self, times: int):
        self.mask = self.mask.repeat_interleave(times, dim=0)
        self.slot_position = self.slot_position.repeat_interleave(times, dim=0)
        self.next_position = self.next_position.repeat_interleave(times, dim=0)

    def crop(self, cache) -> None:
        """Drop the oldest cache slots that no row's next query can see (every layer sliding only)."""
        if not self.crops:
            return
        # The next query of a row sits at next_position or later: it sees slots at positions > next - window.
        visible = self.slot_position > (self.next_position[:, None] - self.window)
        first = int(visible.int().argmax(dim=1).min()) if visible.any() else self.slot_position.shape[1]
        if first == 0:
            return
        for layer in cache.layers:
            layer.keys = layer.keys[:, :, first:]
            layer.values = layer.values[:, :, first:]
        self.mask = self.mask[:, first:]
        self.slot_position = self.slot_position[:, first:]


def _forward(model, input_ids, attention_mask, positions, cache):
    """One forward pass over ``input_ids`` with the cache: the updated cache and each row's next-token logits."""
    out = model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=positions,
        cache=cache,
        use_cache=True,
        logits_to_keep=1,
    )
    return out.cache, out.logits[:, -1, :]


def _decode_batch(model, tokenizer, prompts, writers, num_samples, settings, pad_id, progress) -> int:
    """Write every solution of ``writers`` (``num_samples`` consecutive writers per prompt); return forward passes."""
    import torch
    from transformers import DynamicCache

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
    attention = _Attention(model, mask)
    positions, attention_mask = attention.prompt()
    # A plain cache: the sliding-window layers' own caches would drop slots by count, blind to padding.
    cache = DynamicCache() if attention.window is not None else None
    cache, logits = _forward(model, input_ids, attention_mask, positions, cache)
    passes = 1
    if num_samples > 1:
        cache.batch_repeat_interleave(num_samples)
        logits = logits.repeat_interleave(num_samples, dim=0)
        attention.repeat(num_samples)
    batch_rows = list(range(len(writers)))  # writer index of each row of the cache
    if len(rows) < len(writers):
        keep = torch.tensor(rows, device=device)
        cache.batch_select_indices(keep)
        logits = logits[keep]
        attention.select(keep)
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
            attention.select(keep)
            batch_rows = [batch_rows[r] for r in alive]
            chunks = [chunks[r] for r in alive]
        step_ids, step_mask = _left_pad(chunks, pad_id)
        step_ids, step_mask = step_ids.to(device), step_mask.to(device)
        positions, attention_mask = attention.step(step_mask)
        cache, logits = _forward(model, step_ids, attention_mask, positions, cache)
        passes += 1
        attention.crop(cache)
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
    candidate_format: CandidateFormat | None = None,
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

    ``candidate_format`` writes the ``candidates`` answer format (a model trained on it; ``PromptFormat`` says which):
    a forced candidate line before each operation, the choice restricted to the jobs it lists.
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
                SolutionWriter(instances[i], vocabulary, eos_id, start_rule, candidate_format)
                for i in chunk
                for _ in range(num_samples)
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
