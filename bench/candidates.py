"""The ``candidates`` answer format (issue 21, item 6): what its candidate lines cost in tokens and in decoding time,
and how far a scheduler that reads nothing but their numbers gets.

1. Token cost: random instances of every size up to 100x20 (the package's generator, Taillard's durations 1-99),
   scheduled by a dispatching rule (the cost does not need good schedules), written as the plain Starjob answer and
   as the candidates answer with ``--top_k`` listed candidates (default 4) and with every candidate (top_k 0), and
   counted with the tiny tokenizer (``jssp_sft.modeling.tiny``: whole numbers 0-999 are one token). Target: the
   top-k answer within ``--target_ratio`` (5x) of the plain answer's tokens at every size.
2. Decoding time: guaranteed greedy decoding (``jssp_sft.solve.guaranteed``) of one instance per size with a small
   UNTRAINED tiny model whose every layer attends to a sliding window, in the plain and the candidates format: the
   candidate lines are forced text, fed in the same forward pass as the choice before them, so they cost tokens
   through the model but few extra passes.
3. Feature-imitation reference: a linear scorer (softmax over the listed candidates) over exactly the numbers a
   candidate line shows the model (``--fields``, ``--scale``, ``--top_k``; read off the written line), trained on the
   decisions replayed from CP-SAT-optimal 4x4 schedules with a set likelihood (every listed job whose next operation
   starts earliest in the CP-SAT schedule counts as right), then run greedily through the same decoder (the same
   placement, the same listed candidates) on fresh larger instances and on Taillard's. Printed beside the best single
   dispatching rule and the per-instance best of all rules, with its per-decision accuracy on held-out 4x4 decisions.
   A reference for what the lines' numbers support with one linear rule: a model trained on the candidates format
   can be held against it.

The CP-SAT-labelled sets are built once (deterministic budgets) under ``--work_dir`` and reused. About 3 minutes on 2
busy cores the first time, about 2 once the sets are built; the all-candidates answers of 100x20 (2.3M tokens each)
are most of section 1.

4. With ``--sections imitation,model --run DIR``: a run trained in the candidates format beside the scorer, its
   choices and the scorer's judged on the same held-out decisions, and its greedy and best-of-N gaps on the same
   sets beside the random policy of its decoder, every rule and the per-instance best of them.

    python bench/candidates.py [--sections cost,decoding,imitation] [--fields sdw] [--top_k 4] [--train_instances 1000]
    python bench/candidates.py --sections imitation,model --run outputs/tiny-candidates
"""

from __future__ import annotations

import logging
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import machine_line, parse, untrained_tiny

from jssp_sft.core.builder import ScheduleBuilder
from jssp_sft.core.candidates import (
    CANDIDATE_SEPARATOR,
    CANDIDATES_PREFIX,
    DEFAULT_FIELDS,
    DEFAULT_ORDER,
    DEFAULT_TOP_K,
    CandidateFormat,
    candidate_line_choice,
    candidates,
    is_candidate_line,
)
from jssp_sft.core.codec import parse_instance, parse_solution, to_record
from jssp_sft.core.instance import Instance
from jssp_sft.core.scoring import gap, mean
from jssp_sft.data.generator import GenerateArguments, generate_instance
from jssp_sft.data.templates import PromptFormat
from jssp_sft.solvers.dispatching import dispatching_rule


logger = logging.getLogger("bench.candidates")

SECTIONS = ("cost", "decoding", "imitation", "model")
_FIELD_RE = re.compile(r"([a-zM])(-?[0-9]+)")


@dataclass
class CandidatesBenchArguments:
    sections: str = field(
        default="cost,decoding,imitation",
        metadata={"help": f"Which sections to run, comma-separated, of {', '.join(SECTIONS)} ('model' needs --run)."},
    )
    fields: str = field(default=DEFAULT_FIELDS, metadata={"help": "Candidate fields (jssp_sft.core.candidates)."})
    top_k: int = field(default=DEFAULT_TOP_K, metadata={"help": "Candidates listed per line (0: all)."})
    scale: str = field(default="lb", metadata={"help": "Time scale of the numbers: lb or raw."})
    order: str = field(default=DEFAULT_ORDER, metadata={"help": "Order of the entries: job or start."})
    placement: str = field(default="insert", metadata={"help": "Start rule of the decoder (and of the replays)."})
    seed: int = field(default=0, metadata={"help": "Seed of the random instances, the model and the scorer."})
    # 1. token cost
    cost_sizes: str = field(
        default="6x6,10x10,15x15,20x20,30x20,50x20,100x20", metadata={"help": "Sizes of the token-cost table."}
    )
    cost_instances: int = field(default=3, metadata={"help": "Random instances per size in the token-cost table."})
    cost_rule: str = field(default="FDD/MWKR", metadata={"help": "Dispatching rule writing the costed schedules."})
    cost_variant: str = field(default="non_delay", metadata={"help": "Its variant (insertion, non_delay, ...)."})
    target_ratio: float = field(default=5.0, metadata={"help": "Most top-k answer tokens per plain answer token."})
    # 2. decoding time
    decode_sizes: str = field(
        default="6x6,10x10,15x15,20x20", metadata={"help": "Sizes decoded (one instance each); 30x20 etc. also work."}
    )
    decode_repeats: int = field(default=2, metadata={"help": "Timed decodings per size and format (the fastest)."})
    hidden_size: int = field(default=128, metadata={"help": "Width of the untrained tiny model."})
    num_hidden_layers: int = field(default=2, metadata={"help": "Layers of the untrained tiny model."})
    sliding_window: int = field(default=96, metadata={"help": "Its attention window in tokens (0: full attention)."})
    # 3. feature imitation
    work_dir: str = field(
        default="outputs/bench-candidates", metadata={"help": "Where the CP-SAT-labelled sets are built and reused."}
    )
    train_size: str = field(default="4x4", metadata={"help": "Size of the CP-SAT-labelled training instances."})
    train_instances: int = field(default=1000, metadata={"help": "Training instances (their decisions train)."})
    held_out_instances: int = field(default=200, metadata={"help": "Held-out instances of the training size."})
    test_sizes: str = field(default="6x6,8x8,10x10", metadata={"help": "Sizes of the fresh test sets."})
    test_instances: int = field(default=30, metadata={"help": "Instances per fresh test set."})
    benchmark: str = field(
        default="ta:15x15", metadata={"help": "Benchmark instances (names and groups, ta:15x15 = ta01-ta10); '' none."}
    )
    deterministic_time: float = field(
        default=5.0, metadata={"help": "CP-SAT budget per labelled instance, in deterministic seconds."}
    )
    epochs: int = field(default=300, metadata={"help": "Full-batch Adam steps of the scorer."})
    # 4. a trained model beside the scorer
    run: str = field(
        default="",
        metadata={
            "help": "A run trained in the candidates format (a directory with jssp_sft_prompt.json): section 'model' "
            "scores it beside the scorer on the same sets (guaranteed decoding, greedy and best of --best_of)."
        },
    )
    best_of: int = field(default=8, metadata={"help": "Samples per instance of the model's best-of-N row."})
    accuracy_records: int = field(
        default=64, metadata={"help": "Held-out records on which the model's and the scorer's choices are compared."}
    )
    learning_rate: float = field(default=0.05, metadata={"help": "Adam learning rate of the scorer."})
    num_proc: int = field(default=2, metadata={"help": "Processes labelling instances with CP-SAT."})

    def __post_init__(self):
        unknown = sorted(set(_items(self.sections)) - set(SECTIONS))
        if unknown:
            raise ValueError(f"unknown sections {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
        if "model" in _items(self.sections) and not self.run:
            raise ValueError("section 'model' needs --run DIR (a run trained in the candidates format)")
        self.prompt_format()  # validates fields, top_k, scale, order and placement

    @property
    def candidate_format(self) -> CandidateFormat:
        return CandidateFormat(self.fields, self.top_k, self.scale, self.order)

    def prompt_format(self, top_k: int | None = None) -> PromptFormat:
        """The candidates format of these settings (``top_k`` overrides ``--top_k``)."""
        return PromptFormat(
            answer_format="candidates",
            candidate_fields=self.fields,
            candidate_top_k=self.top_k if top_k is None else top_k,
            candidate_scale=self.scale,
            candidate_order=self.order,
            placement=self.placement,
        )


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def random_instance(size: str, seed: int, index: int) -> Instance:
    """Record ``index``'s instance of the package's generator (Taillard's generator, durations 1-99) at ``size``."""
    return generate_instance(GenerateArguments(output="", sizes=size, instance_generator="taillard", seed=seed), index)


def top_label(top_k: int) -> str:
    return f"top-{top_k}" if top_k else "all"


# ---------------------------------------------------------------------------------------------------- 1. tokens


def token_cost(args: CandidatesBenchArguments, tokenizer) -> bool:
    """Tokens of the plain answer and of the candidates answer (top-k and all) per size; whether the target holds."""

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    top_k = args.top_k
    formats = {top_k: args.prompt_format(top_k), 0: args.prompt_format(0)}
    print(
        f"\n## 1. Token cost: {args.cost_instances} random instances per size, scheduled by {args.cost_rule} "
        f"({args.cost_variant}); candidate fields {args.fields}, {args.scale} scale, by {args.order}; "
        f"tiny tokenizer ({len(tokenizer)} tokens, one per number 0-999); mean tokens per answer"
    )
    header = (
        f"{'size':>7} {'ops':>5} {'prompt':>8} {'plain':>8} {top_label(top_k):>9} {'ratio':>6} {'all':>10} "
        f"{'ratio':>6} {'plain/op':>9} {top_label(top_k) + '/op':>9} {'unlisted':>9} {'seconds':>8}"
    )
    print(header)
    worst = 0.0
    for size in _items(args.cost_sizes):
        started = time.perf_counter()
        prompt, plain, listed, every, unlisted, operations = [], [], [], [], [], 0
        for index in range(args.cost_instances):
            instance = random_instance(size, args.seed, index)
            record = to_record(instance, dispatching_rule(instance, args.cost_rule, args.cost_variant))
            prompt.append(count(PromptFormat().prompt_text(instance)))
            plain.append(count(record["output"]))
            answer = formats[top_k].candidates_answer(record)
            listed.append(count(answer.text))
            unlisted.append(answer.unlisted / instance.num_operations)
            every.append(count(formats[0].candidates_answer(record).text) if top_k else listed[-1])
            operations = instance.num_operations
            logger.info("%s #%d: plain %d, top-k %d, all %d tokens", size, index, plain[-1], listed[-1], every[-1])
        ratio, ratio_all = mean(listed) / mean(plain), mean(every) / mean(plain)
        worst = max(worst, ratio)
        print(
            f"{size:>7} {operations:>5} {mean(prompt):>8.0f} {mean(plain):>8.0f} {mean(listed):>9.0f} {ratio:>5.2f}x "
            f"{mean(every):>10.0f} {ratio_all:>5.1f}x {mean(plain) / operations:>9.1f} "
            f"{mean(listed) / operations:>9.1f} {mean(unlisted):>9.1%} {time.perf_counter() - started:>8.1f}",
            flush=True,
        )
    met = worst <= args.target_ratio
    print(
        f"unlisted: decisions whose job is not among the {top_label(top_k)} earliest starts (its line lists it too, "
        f"one entry more). Worst {top_label(top_k)} ratio {worst:.2f}x: target (<= {args.target_ratio:g}x at every "
        f"size) {'met' if met else 'MISSED'}"
    )
    return met


# ------------------------------------------------------------------------------------------------ 2. decoding


def decoding_time(args: CandidatesBenchArguments, model, tokenizer) -> None:
    """Guaranteed greedy decoding of one instance per size, plain and candidates, with the same model."""
    from jssp_sft.solve.guaranteed import guaranteed_generate
    from jssp_sft.solve.sampling import SamplingSettings
    from jssp_sft.solve.vocabulary import TokenVocabulary

    formats = {"plain": PromptFormat(placement=args.placement), "candidates": args.prompt_format()}
    greedy = SamplingSettings(do_sample=False)

    def decode(instance: Instance, prompt_format: PromptFormat):
        options = prompt_format.decoding_options()
        best = None
        for _ in range(max(1, args.decode_repeats)):
            started = time.perf_counter()
            out = guaranteed_generate(
                model, tokenizer, [prompt_format.prompt_text(instance)], 1, greedy, instances=[instance], **options
            )
            seconds = time.perf_counter() - started
            best = (out, seconds) if best is None or seconds < best[1] else best
        return best

    TokenVocabulary.of(tokenizer)  # built once per tokenizer: not part of a decoding's time
    decode(random_instance("3x3", args.seed, 0), formats["candidates"])  # warm-up
    window = f"sliding window {args.sliding_window}" if args.sliding_window else "full attention"
    print(
        f"\n## 2. Decoding time: guaranteed greedy decoding, untrained tiny model ({model.num_parameters():,} "
        f"parameters, {args.num_hidden_layers} layers, width {args.hidden_size}, {window}), one instance per size, "
        f"fastest of {args.decode_repeats}; candidates {top_label(args.top_k)}, fields {args.fields}"
    )
    print(
        f"{'size':>7} {'format':11} {'tokens':>7} {'passes':>7} {'seconds':>8} {'tokens/s':>9} {'ms/op':>7} "
        f"{'x time':>7} {'x tokens/s':>11}"
    )
    for size in _items(args.decode_sizes):
        instance = random_instance(size, args.seed, 0)
        rows = {name: decode(instance, prompt_format) for name, prompt_format in formats.items()}
        base_out, base_seconds = rows["plain"]
        for name, (out, seconds) in rows.items():
            ratios = ""
            if name != "plain":
                speed = (out.total_tokens / seconds) / (base_out.total_tokens / base_seconds)
                ratios = f"{seconds / base_seconds:>6.2f}x {speed:>10.2f}x"
            print(
                f"{size:>7} {name:11} {out.total_tokens:>7} {out.forward_passes:>7} {seconds:>8.2f} "
                f"{out.total_tokens / seconds:>9.0f} {1e3 * seconds / instance.num_operations:>7.2f} {ratios}",
                flush=True,
            )
    print("x time: candidates seconds / plain seconds; x tokens/s: candidates tokens/s / plain tokens/s")


# ---------------------------------------------------------------------------------------- 3. feature imitation


def line_features(fmt: CandidateFormat, listed, lower_bound: int) -> list[list[int]]:
    """The numbers of each entry of the candidate line of ``listed``, read off the line itself (what the LM reads)."""
    line = fmt.line(listed, lower_bound)
    rows = []
    for entry in line[len(CANDIDATES_PREFIX) :].strip().split(CANDIDATE_SEPARATOR):
        values = [int(value) for _, value in _FIELD_RE.findall(entry.split(":", 1)[1])]
        if len(values) != len(fmt.fields):
            raise ValueError(f"cannot read the fields {fmt.fields!r} off the entry {entry!r}")
        rows.append(values)
    return rows


@dataclass
class Decision:
    """One choice among two or more listed candidates: their features, which are right, which starts first."""

    features: list[list[int]]
    correct: list[bool]
    earliest: int  # the listed entry with the smallest earliest start (the first one listed among ties)
    chosen: int  # the listed entry the label chose (-1: not listed)


def replay_decisions(record: dict, prompt_format: PromptFormat) -> tuple[list[Decision], int, int]:
    """The decisions of ``record``'s schedule replayed as ``prompt_format``'s candidates answer writes them (start
    order, ties as its ``candidate_ties``); ``(decisions, decisions whose job is not listed, all decisions)``."""
    fmt, placement = prompt_format.candidate_format, prompt_format.placement
    instance = parse_instance(record["input"], num_machines=record["num_machines"])
    schedule = parse_solution(record["output"])
    starts = {(op.job, op.op_index): op.start for op in schedule.operations}
    answer = prompt_format.candidates_answer(record)
    jobs = [candidate_line_choice(line) for line in answer.text.split("\n") if is_candidate_line(line)]
    builder = ScheduleBuilder(instance)
    lower_bound = instance.lower_bound()
    decisions, unlisted, total = [], 0, 0
    for job in jobs:
        listed = fmt.listed(candidates(builder, placement))
        total += 1
        unlisted += all(c.job != job for c in listed)
        if len(listed) > 1:
            optimal = [starts[(c.job, builder.next_operation(c.job).op_index)] for c in listed]
            first = min(optimal)
            earliest = min(range(len(listed)), key=lambda i: listed[i].start)
            chosen = next((i for i, c in enumerate(listed) if c.job == job), -1)
            features = line_features(fmt, listed, lower_bound)
            decisions.append(Decision(features, [start == first for start in optimal], earliest, chosen))
        builder.append(job, placement)
    return decisions, unlisted, total


@dataclass
class LinearScorer:
    """``score = weights . (features - mean) / std + bias`` per listed candidate; the highest is chosen."""

    weights: list[float]
    mean: list[float]
    std: list[float]

    def scores(self, rows: list[list[int]]) -> list[float]:
        return [sum(w * (x - m) / s for w, x, m, s in zip(self.weights, row, self.mean, self.std)) for row in rows]

    def choose(self, rows: list[list[int]]) -> int:
        scores = self.scores(rows)
        return max(range(len(rows)), key=lambda i: (scores[i], -i))  # ties: the first listed


def train_scorer(
    decisions: list[Decision], epochs: int, learning_rate: float, seed: int
) -> tuple[LinearScorer, float]:
    """Fit the scorer by full-batch Adam on the set likelihood: -log (softmax mass on the right entries)."""
    import torch

    torch.manual_seed(seed)
    width = max(len(d.features) for d in decisions)
    dims = len(decisions[0].features[0])
    x = torch.zeros(len(decisions), width, dims)
    present = torch.zeros(len(decisions), width, dtype=torch.bool)
    right = torch.zeros(len(decisions), width, dtype=torch.bool)
    for i, d in enumerate(decisions):
        x[i, : len(d.features)] = torch.tensor(d.features, dtype=torch.float32)
        present[i, : len(d.features)] = True
        right[i, : len(d.correct)] = torch.tensor(d.correct)
    rows = x[present]
    mu, sd = rows.mean(0), rows.std(0) + 1e-6
    x = (x - mu) / sd
    linear = torch.nn.Linear(dims, 1, bias=False)  # a bias shifts every entry alike: softmax ignores it
    optimizer = torch.optim.Adam(linear.parameters(), lr=learning_rate)
    for _ in range(epochs):
        scores = linear(x).squeeze(-1).masked_fill(~present, -1e9)
        loss = (torch.logsumexp(scores, 1) - torch.logsumexp(scores.masked_fill(~right, -1e9), 1)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scorer = LinearScorer(linear.weight[0].tolist(), mu.tolist(), sd.tolist())
    return scorer, loss.item()


def accuracy(decisions: list[Decision], choose) -> float:
    """Share of decisions where ``choose(decision)`` picks a right entry."""
    return sum(d.correct[choose(d)] for d in decisions) / len(decisions)


def scorer_makespan(instance: Instance, scorer: LinearScorer, fmt: CandidateFormat, placement: str) -> int:
    """The scorer's greedy schedule: at each decision the listed candidates, the best-scored one placed."""
    builder = ScheduleBuilder(instance)
    lower_bound = instance.lower_bound()
    while not builder.done:
        listed = fmt.listed(candidates(builder, placement))
        chosen = listed[scorer.choose(line_features(fmt, listed, lower_bound))] if len(listed) > 1 else listed[0]
        builder.append(chosen.job, placement)
    return builder.makespan


def labelled_records(args: CandidatesBenchArguments, count: int, seed: int) -> tuple[list[dict], Path]:
    """``count`` CP-SAT-labelled instances of ``--train_size`` (built once under ``--work_dir``)."""
    import json

    from jssp_sft.data.generator import ensure_default_dataset

    path = ensure_default_dataset(
        Path(args.work_dir) / "train",
        progress=False,
        sizes=args.train_size,
        num_instances=count,
        seed=seed,
        min_duration=1,
        max_duration=99,
        instance_generator="taillard",
        time_limit=10 * args.deterministic_time,
        deterministic_time_limit=args.deterministic_time,
        num_proc=args.num_proc,
    )
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()], path


def feature_imitation(args: CandidatesBenchArguments) -> tuple:
    """Section 3; returns ``(scorer, test sets, held-out records, the scorer's mean gap on each set)`` for section 4."""
    from jssp_sft.evaluation.zero_shot import (
        TestSet,
        benchmark_test_set,
        every_rule_gaps,
        generated_test_set,
        paired_difference,
    )
    from jssp_sft.solve.problems import benchmark_problems

    fmt = args.candidate_format
    started = time.perf_counter()
    train_records, train_path = labelled_records(args, args.train_instances, args.seed)
    held_records, _ = labelled_records(args, args.held_out_instances, args.seed + 1)
    logger.info("labelled %s: %s (%.0f s)", args.train_size, train_path, time.perf_counter() - started)

    def replay(records):
        decisions, unlisted, total = [], 0, 0
        for record in records:
            found, missed, count = replay_decisions(record, args.prompt_format())
            decisions += found
            unlisted, total = unlisted + missed, total + count
        return decisions, unlisted / total

    train, train_unlisted = replay(train_records)
    held, held_unlisted = replay(held_records)
    fit_started = time.perf_counter()
    scorer, loss = train_scorer(train, args.epochs, args.learning_rate, args.seed)
    fit_seconds = time.perf_counter() - fit_started

    sets = [
        TestSet(
            f"{args.train_size} held-out",
            [parse_instance(r["input"], num_machines=r["num_machines"]) for r in held_records],
            [int(r["makespan"]) for r in held_records],
            "CP-SAT",
        )
    ]
    for size in _items(args.test_sizes):
        directory = Path(args.work_dir) / "test"
        sets.append(
            generated_test_set(
                size,
                args.test_instances,
                directory,
                deterministic_time=args.deterministic_time,
                num_proc=args.num_proc,
            )
        )
    if args.benchmark:
        names = [problem.id for problem in benchmark_problems(args.benchmark)]
        sets.append(benchmark_test_set(names, f"{names[0]}-{names[-1]}" if len(names) > 1 else names[0]))

    print(
        f"\n## 3. Feature imitation: linear scorer over the candidate lines' numbers (fields {args.fields}, "
        f"{args.scale} scale, {top_label(args.top_k)}, placement {args.placement}), set likelihood, "
        f"{args.epochs} full-batch Adam steps"
    )
    print(
        f"trained on {len(train)} decisions of {len(train_records)} CP-SAT-labelled {args.train_size} instances "
        f"(decisions with one listed candidate left out; CP-SAT's job unlisted in {train_unlisted:.1%} of all); "
        f"final loss {loss:.3f}; fit {fit_seconds:.1f} s"
    )
    print(
        "weights (standardised features): "
        + ", ".join(f"{tag} {w:+.2f}" for tag, w in zip(args.fields, scorer.weights))
    )
    chance = sum(sum(d.correct) / len(d.correct) for d in held) / len(held)
    held_accuracy = accuracy(held, lambda d: scorer.choose(d.features))
    print(
        f"per-decision accuracy on {len(held)} held-out decisions of {len(held_records)} {args.train_size} "
        f"instances (CP-SAT's job unlisted in {held_unlisted:.1%}): scorer {held_accuracy:.3f}, earliest start "
        f"{accuracy(held, lambda d: d.earliest):.3f}, uniform pick {chance:.3f}; on its training decisions "
        f"{accuracy(train, lambda d: scorer.choose(d.features)):.3f}"
    )
    print(
        f"{'set':>16} {'n':>4} {'scorer %':>9} {'best rule %':>12} {'best rule':>22} {'best of rules %':>16} "
        f"{'scorer - best rule':>19} {'seconds':>8}  reference"
    )
    scorer_gaps = []
    for test_set in sets:
        set_started = time.perf_counter()
        pairs = list(zip(test_set.instances, test_set.references))
        ours = [gap(scorer_makespan(instance, scorer, fmt, args.placement), ref) for instance, ref in pairs]
        scorer_gaps.append(mean(ours))
        rules = every_rule_gaps(test_set)
        best = min(rules, key=lambda name: mean(rules[name]))
        per_instance = [min(values[k] for values in rules.values()) for k in range(len(pairs))]
        difference, spread = paired_difference(ours, rules[best])
        print(
            f"{test_set.name:>16} {len(pairs):>4} {100 * mean(ours):>9.1f} {100 * mean(rules[best]):>12.1f} "
            f"{best:>22} {100 * mean(per_instance):>16.1f} {100 * difference:>+12.1f}+-{100 * spread:<4.1f} "
            f"{time.perf_counter() - set_started:>8.1f}  {test_set.reference}",
            flush=True,
        )
    print(
        "gaps: mean % above the reference; best rule: the rule and variant (insertion, non_delay) with the lowest "
        "mean gap on that set; scorer - best rule: paired mean +- 2 standard errors"
    )
    return scorer, sets, held_records, scorer_gaps


# ------------------------------------------------------------------------------------------- 4. a trained model


def trained_model(
    args: CandidatesBenchArguments,
    scorer: LinearScorer,
    sets: list,
    held_records: list[dict],
    scorer_gaps: list[float],
) -> None:
    """The run of ``--run`` beside the scorer: the same choices judged on the same held-out decisions (agreement
    with CP-SAT's label), and greedy gaps on the same sets, with every control of ``jssp_sft.evaluation.zero_shot``."""
    from jssp_sft.evaluation.diagnostics import diagnose
    from jssp_sft.evaluation.zero_shot import panel_lines, score_test_set
    from jssp_sft.modeling.loading import load_for_generation

    model, tokenizer = load_for_generation(args.run)
    prompt_format = PromptFormat.from_pretrained(args.run)
    if prompt_format.candidate_format != args.candidate_format or prompt_format.placement != args.placement:
        logger.warning(
            "the run's candidate lines (%s, placement %s) differ from the scorer's (%s, placement %s)",
            prompt_format.candidate_format,
            prompt_format.placement,
            args.candidate_format,
            args.placement,
        )
    records = held_records[: args.accuracy_records]
    diagnostics = diagnose(model, tokenizer, records, prompt_format)
    # The same decisions as the run's labels (its entry order and ties), scored by the model, the scorer and the rule.
    decisions = [d for record in records for d in replay_decisions(record, prompt_format)[0]]
    agree = sum(scorer.choose(d.features) == d.chosen for d in decisions) / len(decisions)
    earliest = sum(d.earliest == d.chosen for d in decisions) / len(decisions)
    print(f"\n## 4. The run {args.run} ({prompt_format.answer_format} answers) beside the scorer")
    print(
        f"choices that match CP-SAT's label on {len(records)} held-out {args.train_size} records: model "
        f"{_fraction(diagnostics.decision_accuracy)} (uniform {_fraction(diagnostics.chance_accuracy)}; "
        f"{diagnostics.decisions} decisions with a choice), scorer {agree:.3f} and earliest start {earliest:.3f} "
        f"({len(decisions)} decisions among two or more listed)"
    )
    scores = [score_test_set(model, tokenizer, prompt_format, test_set, args.best_of, args.seed) for test_set in sets]
    for line in panel_lines(scores, prompt_format.choice_top_k):
        print(line)
    print("  linear scorer (section 3), greedy  " + "  ".join(f"{100 * value:.1f}" for value in scorer_gaps))


def _fraction(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


# ---------------------------------------------------------------------------------------------------------- main


def tiny_model(args: CandidatesBenchArguments):
    """The untrained tiny model and its tokenizer (``jssp_sft.modeling.tiny``), built once, in memory."""
    return untrained_tiny(args.hidden_size, args.num_hidden_layers, args.seed, sliding_window=args.sliding_window)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logger.setLevel(logging.INFO)
    args = parse(CandidatesBenchArguments, argv)
    sections = _items(args.sections)
    print(machine_line())
    started = time.perf_counter()
    passed = True
    if "cost" in sections or "decoding" in sections:
        model, tokenizer = tiny_model(args)
        if "cost" in sections:
            passed &= token_cost(args, tokenizer)
        if "decoding" in sections:
            decoding_time(args, model, tokenizer)
    if "imitation" in sections or "model" in sections:
        scorer, sets, held_records, scorer_gaps = feature_imitation(args)
        if "model" in sections:
            trained_model(args, scorer, sets, held_records, scorer_gaps)
    print(f"\n{machine_line('at end')}; {time.perf_counter() - started:.0f} s in all")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
