"""Does a model read its instance? Diagnostics for any causal LM fine-tuned on Starjob, with any tokenizer.

- **Per-decision accuracy**, teacher-forced on the optimal completion: at each operation where more than one job is
  unfinished, does the model's most likely token that commits to a job agree with the optimal next job? A job number
  may span several tokens (or share a token with text before it): every token from the one holding its first digit to
  the one that settles it is checked, each among the tokens that are a prefix of some unfinished job's continuation.
  Chance is a uniform pick among the unfinished jobs at each decision. In the candidates answer format the options of
  a decision are the jobs its candidate line lists (the completion is the record's answer in the run's format).
- **Prompt sensitivity**: greedy guaranteed answers with the instance's own prompt and with another same-size
  instance's prompt (the answer is still written for the instance itself): the share of identical answers, both gaps,
  and the teacher-forced accuracy under the swapped prompt. A model that reads the instance changes its answers.
- **Loss by token class** on the completion (job, machine, start, duration, end, makespan, text): tokens are classed
  by the characters they cover (the tokenizer's offsets mapping), so digit-per-token and whole-number tokenizers alike
  are measured; beside the job loss, the uniform pick's (the log of the number of unfinished jobs).
- **The fixed-order check**: per size, how many distinct job orders the greedy answers use. A model whose greedy
  output depends only on the size writes one order per size; also how often it repeats the previous job, beside the
  optimal completions' rate.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from ..core.candidates import CANDIDATE_LINE_RE, CHOICE_LABEL_RE, candidate_line_entries
from ..core.codec import parse_instance, record_makespan
from ..core.instance import Instance
from ..core.scoring import gap, mean, rate


logger = logging.getLogger(__name__)

TOKEN_CLASSES = ("job", "machine", "start", "duration", "end", "makespan", "text")
_OPERATION = re.compile(r"J(\d+)[ \t]*-[ \t]*M(\d+)[ \t]*:[ \t]*(\d+)[ \t]*\+[ \t]*(\d+)[ \t]*->[ \t]*(\d+)")
_MAKESPAN = re.compile(r"Makespan[ \t]*:[ \t]*(\d+)", re.IGNORECASE)
_FIELDS = ("job", "machine", "start", "duration", "end")


# ------------------------------------------------------------------------------------------------ completions


@dataclass(frozen=True)
class Decision:
    """One operation of a completion: where its job number is, the optimal job and the unfinished jobs with the
    text each would continue with (``J`` digits ``-M`` machine ``:``), from the job number's first character."""

    digit_start: int  # in the completion
    job: int
    continuations: dict[int, str]


@dataclass
class Completion:
    """A completion's characters by token class, and its decisions."""

    classes: list[str]
    decisions: list[Decision]
    jobs: list[int]


def read_completion(completion: str, instance: Instance) -> Completion:
    """Classes of every character and the decisions of ``completion`` (canonical or lenient Starjob solution text).

    A decision is the job number of an operation, or, after a candidate line that ends with a choice (the candidates
    answer format), the chosen label: its options are the listed entries' labels, each followed by its operation."""
    classes = ["text"] * len(completion)
    remaining = [len(job) for job in instance.jobs]
    decisions, jobs = [], []
    choice = None  # (label start, {job: label}) of the candidate line just read
    position = 0
    for line in completion.split("\n"):
        if CANDIDATE_LINE_RE.fullmatch(line):
            match = CHOICE_LABEL_RE.search(line)
            if match is not None:
                entries = candidate_line_entries(line)
                choice = (position + match.start(1), {job: entry_label for entry_label, job in entries})
            position += len(line) + 1
            continue
        for match in _OPERATION.finditer(line):
            for index, name in enumerate(_FIELDS, start=1):
                start, end = position + match.start(index), position + match.end(index)
                classes[start:end] = [name] * (end - start)
            job = int(match.group(1))
            if not 0 <= job < len(remaining) or not remaining[job]:
                raise ValueError(f"the completion names job {job}, which has no operation left: {match.group(0)!r}")

            def operation(j: int) -> str:
                return f"{j}-M{instance.jobs[j][len(instance.jobs[j]) - remaining[j]][0]}:"

            if choice is not None:
                label_start, labels = choice
                options = (
                    {
                        j: f"{labels[j]}{completion[label_start + len(labels[job]) : position]}J{operation(j)}"
                        for j in labels
                        if remaining[j]
                    }
                    if job in labels
                    else {}
                )
                decisions.append(Decision(label_start, job, options))
                choice = None
            else:
                unfinished = [j for j, count in enumerate(remaining) if count]
                decisions.append(Decision(position + match.start(1), job, {j: operation(j) for j in unfinished}))
            jobs.append(job)
            remaining[job] -= 1
        position += len(line) + 1
    for match in _MAKESPAN.finditer(completion):
        classes[match.start(1) : match.end(1)] = ["makespan"] * (match.end(1) - match.start(1))
    return Completion(classes, decisions, jobs)


# ------------------------------------------------------------------------------------------------ teacher forcing


@dataclass
class ForcedResult:
    """Teacher-forced numbers of one sequence: a verdict per decision with more than one unfinished job
    (``None``: no token can commit to a job there), its number of unfinished jobs, and each completion token's loss."""

    decisions: list[tuple[bool | None, int]] = field(default_factory=list)
    losses: list[tuple[str, float]] = field(default_factory=list)


def _token_spans(offsets: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Contiguous character spans of the tokens: each starts where the previous ended (offsets may trim spaces)."""
    spans, end = [], 0
    for _, token_end in offsets:
        start, end = end, max(end, token_end)
        spans.append((start, end))
    return spans


def _judge(decision: Decision, offset: int, text: str, spans, logits, vocabulary) -> bool | None:
    """Whether the model's choices at the tokens that write the job number agree with the optimal job."""
    first = offset + decision.digit_start
    q = next((i for i, (_, end) in enumerate(spans) if end > first), None)
    if q is None or q == 0:
        return None
    anchor = spans[q][0]
    candidates = {j: text[anchor:first] + rest for j, rest in decision.continuations.items()}
    judged = False
    while q < len(spans):
        consumed = text[anchor : spans[q][0]]
        alive = {j: c[len(consumed) :] for j, c in candidates.items() if c.startswith(consumed)}
        if decision.job not in alive:
            return None  # the completion's own text left the candidates (not canonical): no verdict
        if len(alive) == 1:
            return True if judged else None
        common = len(os.path.commonprefix(list(alive.values())))
        allowed = {}
        for rest in alive.values():
            allowed.update(
                (token_id, length) for token_id, length in vocabulary.prefix_tokens(rest) if length > common
            )
        if not allowed:
            return None
        ids = sorted(allowed)
        row = logits[q - 1, ids]
        chosen = ids[int(row.argmax())]
        surface = vocabulary.surfaces[chosen]
        if not alive[decision.job].startswith(surface):
            return False
        judged = True
        q += 1
    return None


def teacher_forced(
    model,
    tokenizer,
    prompts: Sequence[str],
    completions: Sequence[str],
    instances: Sequence[Instance],
    batch_size: int = 8,
) -> list[ForcedResult]:
    """Per-decision verdicts and per-token losses of ``prompt + completion`` (then EOS), one forward pass each."""
    import torch

    from ..solve.sampling import eos_token_ids
    from ..solve.vocabulary import TokenVocabulary

    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("the diagnostics need a fast tokenizer (its offsets mapping classes the tokens)")
    vocabulary = TokenVocabulary.of(tokenizer)
    eos_id = eos_token_ids(model, tokenizer)[0]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_id
    parsed = [read_completion(c, instance) for c, instance in zip(completions, instances)]
    results = []
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(prompts), batch_size):
            texts = [
                p + c for p, c in zip(prompts[start : start + batch_size], completions[start : start + batch_size])
            ]
            encoded = [tokenizer(text, return_offsets_mapping=True) for text in texts]
            rows = [e["input_ids"] + [eos_id] for e in encoded]
            width = max(len(row) for row in rows)
            input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, row in enumerate(rows):
                input_ids[r, : len(row)] = torch.tensor(row)
                mask[r, : len(row)] = 1
            with torch.inference_mode():
                logits = model(input_ids=input_ids.to(model.device), attention_mask=mask.to(model.device)).logits
            for r, (text, e) in enumerate(zip(texts, encoded)):
                i = start + r
                offset = len(prompts[i])
                spans = _token_spans(e["offset_mapping"]) + [(len(text), len(text))]  # EOS covers nothing
                row_logits = logits[r, : len(rows[r])].float().cpu()
                results.append(_forced_result(parsed[i], offset, text, spans, rows[r], row_logits, vocabulary))
    finally:
        model.train(was_training)
    return results


def _forced_result(completion: Completion, offset, text, spans, ids, logits, vocabulary) -> ForcedResult:
    result = ForcedResult()
    for decision in completion.decisions:
        if len(decision.continuations) > 1:
            verdict = _judge(decision, offset, text, spans, logits, vocabulary)
            result.decisions.append((verdict, len(decision.continuations)))
    log_probs = logits.log_softmax(dim=-1)
    for q in range(1, len(ids)):
        start, end = spans[q]
        if end <= offset and q < len(ids) - 1:
            continue  # a prompt token
        classes = [completion.classes[c - offset] for c in range(max(start, offset), end)]
        token_class = next((c for c in classes if c != "text"), "text")
        result.losses.append((token_class, -float(log_probs[q - 1, ids[q]])))
    return result


# ------------------------------------------------------------------------------------------------ the diagnostics


@dataclass
class Diagnostics:
    """The numbers of ``diagnose`` (fractions, nats per token); see the module docstring."""

    records: int
    decisions: int
    decision_accuracy: float | None
    chance_accuracy: float | None
    unjudged_decisions: int
    loss_by_class: dict[str, float | None]
    tokens_by_class: dict[str, int]
    uniform_job_loss: float | None
    swapped_records: int
    identical_under_swap: float | None
    swapped_decision_accuracy: float | None
    greedy_gap: float | None
    swapped_greedy_gap: float | None
    orders_by_size: dict[str, dict]
    depends_only_on_size: bool | None
    greedy_repeat_rate: float | None
    optimal_repeat_rate: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def swap_partners(records: Sequence[Mapping]) -> list[int | None]:
    """For each record, the next record (cyclically) of the same size with a different instance, or ``None``."""
    sizes = [(r["num_jobs"], r["num_machines"]) for r in records]
    partners = []
    for i in range(len(records)):
        order = [(i + k) % len(records) for k in range(1, len(records))]
        partners.append(
            next((j for j in order if sizes[j] == sizes[i] and records[j]["input"] != records[i]["input"]), None)
        )
    return partners


def repeat_rate(sequences: Sequence[Sequence[int]], instances: Sequence[Instance]) -> float | None:
    """Share of the decisions (more than one unfinished job) that pick the job of the operation just written."""
    repeats = total = 0
    for jobs, instance in zip(sequences, instances):
        remaining = [len(job) for job in instance.jobs]
        for k, job in enumerate(jobs):
            if k and sum(1 for count in remaining if count) > 1:
                total += 1
                repeats += job == jobs[k - 1]
            remaining[job] -= 1
    return rate(repeats, total)


def job_sequence(text: str) -> list[int]:
    return [int(match.group(1)) for match in _OPERATION.finditer(text)]


def _accuracy(results: Sequence[ForcedResult]) -> tuple[float | None, float | None, int, int]:
    judged = [(v, k) for r in results for v, k in r.decisions if v is not None]
    unjudged = sum(v is None for r in results for v, _ in r.decisions)
    return rate(sum(v for v, _ in judged), len(judged)), mean([1 / k for _, k in judged]), len(judged), unjudged


def diagnose(model, tokenizer, records: Sequence[Mapping], prompt_format, batch_size: int = 8) -> Diagnostics:
    """Every diagnostic of the module docstring on ``records`` (Starjob records whose output is the optimal or
    reference solution; their makespan is the gap's reference)."""
    from ..solve.guaranteed import guaranteed_generate
    from ..solve.sampling import SamplingSettings

    instances = [parse_instance(r["input"], num_machines=r.get("num_machines")) for r in records]
    prompts = [prompt_format.prompt_text(r, tokenizer) for r in records]
    completions = [prompt_format.answer(r) for r in records]
    own = teacher_forced(model, tokenizer, prompts, completions, instances, batch_size)
    accuracy, chance, decisions, unjudged = _accuracy(own)
    losses: dict[str, list[float]] = {name: [] for name in TOKEN_CLASSES}
    for result in own:
        for name, loss in result.losses:
            losses[name].append(loss)
    uniform = mean([math.log(k) for r in own for _, k in r.decisions])

    partners = swap_partners(records)
    swapped = [i for i, j in enumerate(partners) if j is not None]
    swapped_results = teacher_forced(
        model,
        tokenizer,
        [prompts[partners[i]] for i in swapped],
        [completions[i] for i in swapped],
        [instances[i] for i in swapped],
        batch_size,
    )
    greedy = SamplingSettings(do_sample=False)
    decoding = prompt_format.decoding_options()
    answers = guaranteed_generate(model, tokenizer, prompts, 1, greedy, batch_size, instances=instances, **decoding)
    own_texts = [row[0] for row in answers.texts]
    swapped_texts = []
    if swapped:
        out = guaranteed_generate(
            model,
            tokenizer,
            [prompts[partners[i]] for i in swapped],
            1,
            greedy,
            batch_size,
            instances=[instances[i] for i in swapped],
            **decoding,
        )
        swapped_texts = [row[0] for row in out.texts]
    makespans = [row[0].makespan for row in answers.schedules]
    bounds = [record_makespan(r) for r in records]
    swapped_makespans = [row[0].makespan for row in out.schedules] if swapped else []

    sequences = [job_sequence(text) for text in own_texts]
    by_size: dict[str, Counter] = {}
    for record, sequence in zip(records, sequences):
        by_size.setdefault(f"{record['num_jobs']}x{record['num_machines']}", Counter())[tuple(sequence)] += 1
    orders = {
        size: {
            "instances": sum(c.values()),
            "distinct_orders": len(c),
            "most_common_share": c.most_common(1)[0][1] / sum(c.values()),
            "most_common": list(c.most_common(1)[0][0]),
        }
        for size, c in sorted(by_size.items())
    }
    repeated_sizes = [o for o in orders.values() if o["instances"] > 1]
    return Diagnostics(
        records=len(records),
        decisions=decisions,
        decision_accuracy=accuracy,
        chance_accuracy=chance,
        unjudged_decisions=unjudged,
        loss_by_class={name: mean(values) for name, values in losses.items()},
        tokens_by_class={name: len(values) for name, values in losses.items()},
        uniform_job_loss=uniform,
        swapped_records=len(swapped),
        identical_under_swap=rate(sum(own_texts[i] == t for i, t in zip(swapped, swapped_texts)), len(swapped)),
        swapped_decision_accuracy=_accuracy(swapped_results)[0],
        greedy_gap=mean([gap(m, b) for m, b in zip(makespans, bounds) if b]),
        swapped_greedy_gap=mean([gap(m, bounds[i]) for i, m in zip(swapped, swapped_makespans) if bounds[i]]),
        orders_by_size=orders,
        depends_only_on_size=all(o["distinct_orders"] == 1 for o in repeated_sizes) if repeated_sizes else None,
        greedy_repeat_rate=repeat_rate(sequences, instances),
        optimal_repeat_rate=repeat_rate([job_sequence(c) for c in completions], instances),
    )


def render(diagnostics: Diagnostics) -> str:
    """The diagnostics as a short plain-text table (what ``jssp-sft diagnose`` prints)."""
    d = diagnostics

    def pct(value):
        return "n/a" if value is None else f"{100 * value:.1f}%"

    def nats(value):
        return "n/a" if value is None else f"{value:.3f}"

    lines = [
        f"records: {d.records}; decisions with more than one unfinished job: {d.decisions}"
        + (
            f" ({d.unjudged_decisions} without a token that commits to a job, not counted)"
            if d.unjudged_decisions
            else ""
        ),
        f"per-decision accuracy (teacher-forced argmax among the unfinished jobs' tokens, against the optimal next "
        f"job; not training's job_token_accuracy, an argmax over the whole vocabulary): {pct(d.decision_accuracy)}  "
        f"chance (uniform over the unfinished jobs): {pct(d.chance_accuracy)}",
        f"prompt swap ({d.swapped_records} records with a same-size partner): identical greedy answers "
        f"{pct(d.identical_under_swap)}; accuracy with the swapped prompt {pct(d.swapped_decision_accuracy)}; greedy "
        f"gap own {pct(d.greedy_gap)} / swapped {pct(d.swapped_greedy_gap)}",
        "loss by token class (nats per token; tokens): "
        + ", ".join(f"{name} {nats(d.loss_by_class[name])} ({d.tokens_by_class[name]})" for name in TOKEN_CLASSES)
        + f"; uniform pick of the job: {nats(d.uniform_job_loss)}",
        "greedy job orders per size: "
        + ", ".join(
            f"{size}: {o['distinct_orders']} distinct in {o['instances']}" for size, o in d.orders_by_size.items()
        )
        + f"; depends only on the size: {d.depends_only_on_size}",
        f"repeats the previous job: greedy {pct(d.greedy_repeat_rate)}, optimal completions "
        f"{pct(d.optimal_repeat_rate)}",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ records


def dataset_records(source: str, limit: int | None = None) -> list[dict]:
    """Every record of a Starjob source (the first ``limit``)."""
    from ..data.loading import load_starjob

    records = load_starjob(source, test_size=0)["train"]
    return [records[i] for i in range(len(records) if limit is None else min(limit, len(records)))]
