"""The candidates answer format: candidate lines, replaying labels into it, training examples, and guaranteed decoding
that writes the lines itself (including sliding-window models, whose masks and cache cropping are checked against
transformers' own forward pass)."""

import random
import re

import evaluate
import pytest
import torch

import jssp_sft.metrics
from jssp_sft import Instance, verify
from jssp_sft.benchmarks.instances import load_benchmark
from jssp_sft.core.answers import job_groups, job_sequence, write_candidates_answer
from jssp_sft.core.builder import ScheduleBuilder
from jssp_sft.core.candidates import (
    FIELDS,
    CandidateFormat,
    candidate_line_choice,
    candidate_line_jobs,
    candidates,
    is_candidate_line,
)
from jssp_sft.core.codec import parse_solution, to_record
from jssp_sft.data.templates import PromptFormat
from jssp_sft.modeling.tiny import build_model
from jssp_sft.solve.guaranteed import SolutionWriter, TokenVocabulary, _decode_batch, guaranteed_generate
from jssp_sft.solve.sampling import SamplingSettings, encode_prompts
from jssp_sft.solvers.cpsat import solve_cpsat
from jssp_sft.training.job_choice import JobChoiceMarker


GREEDY = SamplingSettings(do_sample=False)
HOT = SamplingSettings(temperature=1.5)
CANDIDATES = PromptFormat(answer_format="candidates")
METRIC = evaluate.load(jssp_sft.metrics.path("jssp_makespan"))


def random_instance(rng: random.Random, jobs: int, machines: int, longest: int = 99) -> Instance:
    routes = [[(m, rng.randint(1, longest)) for m in rng.sample(range(machines), machines)] for _ in range(jobs)]
    return Instance(tuple(tuple(route) for route in routes), machines)


def labelled_record(instance: Instance) -> dict:
    return to_record(instance, solve_cpsat(instance, time_limit=5.0).schedule)


class _NoProgress:
    def update(self, n):
        pass


# ---------------------------------------------------------------------------------------------------- the lines


def test_candidate_lines_list_the_earliest_starts_with_their_numbers():
    instance = Instance((((0, 5), (1, 3)), ((1, 4), (0, 2)), ((0, 6), (1, 1))), 2)
    builder = ScheduleBuilder(instance)
    builder.append(0, "insert")  # J0's first operation: M0 busy 0-5
    found = candidates(builder, "insert")
    assert [(c.job, c.start) for c in found] == [(1, 0), (0, 5), (2, 5)]
    raw = CandidateFormat(fields="sdwnqfM", top_k=0, scale="raw").line(found, instance.lower_bound())
    # s: start minus the earliest; w: the job's work left; q: the machine's work left; f: machine free minus origin.
    assert raw == "Next: J1:s0d4w6n2q8f0M1A|J0:s5d3w3n1q8f0M1B|J2:s5d6w7n2q8f5M0C"
    assert candidate_line_jobs(raw) == [1, 0, 2]
    assert candidate_line_choice(raw) is None
    assert candidate_line_choice(raw + CandidateFormat.choice(2)) == 2
    bound = instance.lower_bound()
    by_start = CandidateFormat(fields="sd", top_k=2, scale="lb", order="start")
    line = by_start.line(by_start.listed(found), bound)
    assert line == f"Next: J1:s0d{round(4000 / bound)}A|J0:s{round(5000 / bound)}d{round(3000 / bound)}B"
    # by start, equal starts by most work left: J2 (7 left) before J0 (3 left), both at 5
    assert [c.job for c in CandidateFormat(top_k=0, order="start").listed(found)] == [1, 2, 0]
    # by job (the default): the same two earliest starts, listed and labelled in job order
    by_job = CandidateFormat(fields="sd", top_k=2, scale="lb")
    line = by_job.line(by_job.listed(found), bound)
    assert line == f"Next: J0:s{round(5000 / bound)}d{round(3000 / bound)}A|J1:s0d{round(4000 / bound)}B"


def test_scaled_numbers_stay_below_a_thousand_at_every_size():
    fmt = CandidateFormat(fields="".join(FIELDS), top_k=0)
    for name in ("ft06", "ta01", "ta71"):
        instance, _ = load_benchmark(name)
        builder = ScheduleBuilder(instance)
        rng = random.Random(name)
        while not builder.done:
            line = fmt.line(candidates(builder, "insert"), instance.lower_bound())
            assert is_candidate_line(line)
            numbers = [int(n) for n in re.findall(r"[sdwqf](\d+)", line)]
            assert max(numbers) <= 999
            builder.append(rng.choice(builder.remaining_jobs()), "insert")


@pytest.mark.parametrize(
    "line, ok",
    [
        ("Next: J3:s0d12A|J0:s4d1B =B", True),
        ("Next: J3: s0 d12 A | J0: s4 d1 B = B", True),
        ("Next: J3:s0d12A|J0:s4d1B", True),  # no choice (yet)
        ("Next: J3:s0d12A|J0:s4d1", False),  # a labelled entry beside an unlabelled one
        ("Next: s0d12J3|s4d1J0", True),  # unlabelled entries
        ("Next: s0 d12 J3 | s4 d1 J0", True),
        ("Next: J:s0J3", False),  # J names jobs, never an entry
        ("Next: J3:s0A =", False),  # a choice mark without its label
        ("  Next: J3  ", True),
        ("Next: s0d12", False),  # no job
        ("Next: J3J4", False),  # two jobs in one entry
        ("Next: s0 J0-M0: 0+5 -> 5", False),  # an operation is never part of a candidate line
        ("Next: s٣J0", False),  # ASCII digits only
        ("Next:", False),
    ],
)
def test_candidate_line_grammar(line, ok):
    assert is_candidate_line(line) is ok


def test_bad_candidate_options_are_named():
    with pytest.raises(ValueError, match="candidate fields"):
        CandidateFormat(fields="sx")
    with pytest.raises(ValueError, match="top_k"):
        CandidateFormat(top_k=-1)
    with pytest.raises(ValueError, match="scale"):
        CandidateFormat(scale="log")
    with pytest.raises(ValueError, match="answer_format"):
        PromptFormat(answer_format="plain")


# ------------------------------------------------------------------------------------------------- labels, replay


@pytest.mark.parametrize("seed", range(6))
def test_replaying_a_cpsat_label_reproduces_its_makespan_and_verifies(seed):
    rng = random.Random(seed)
    instance = random_instance(rng, rng.randint(2, 6), rng.randint(2, 6))
    record = labelled_record(instance)
    label = parse_solution(record["output"])
    order = ("job", "start")[seed % 2]
    ties = ("shuffle", "listed")[seed // 2 % 2]
    answer = PromptFormat(answer_format="candidates", candidate_order=order, candidate_ties=ties).candidates_answer(
        record
    )
    assert answer.schedule.makespan == label.makespan
    assert len(answer.schedule) == instance.num_operations
    # The verifier reads the operation lines only: same verdict with and without the candidate lines.
    with_lines = verify(instance, answer.text)
    without = verify(instance, "\n".join(line for line in answer.text.split("\n") if not is_candidate_line(line)))
    assert with_lines.feasible and with_lines.makespan_matches and with_lines.num_operations == instance.num_operations
    assert (with_lines.feasible, with_lines.makespan, with_lines.num_operations) == (
        without.feasible,
        without.makespan,
        without.num_operations,
    )
    assert sum(is_candidate_line(line) for line in answer.text.split("\n")) == instance.num_operations
    # ... and the metric scores both alike (valid, the label's makespan, optimal)
    plain = "\n".join(line for line in answer.text.split("\n") if not is_candidate_line(line))
    scored = METRIC.compute(predictions=[answer.text, plain], references=[record["input"]] * 2, return_details=True)
    first, second = ({k: v for k, v in d.items() if k != "num_tokens"} for d in scored["details"])
    assert first == second and first["feasible"] and first["makespan"] == label.makespan


@pytest.mark.parametrize("order", ["job", "start"])
def test_listed_ties_choose_the_first_listed_of_the_jobs_that_start_together(order):
    rng = random.Random(7)
    instance = random_instance(rng, 6, 5)
    schedule = solve_cpsat(instance, time_limit=5.0).schedule
    groups = job_groups(schedule)
    assert sorted(job for group in groups for job in group) == sorted(op.job for op in schedule.operations)
    assert any(len(group) > 1 for group in groups)  # the instance has ties to break
    fmt = CandidateFormat(top_k=0, order=order)
    answer = write_candidates_answer(instance, groups, fmt, "insert")
    assert answer.schedule.makespan == schedule.makespan
    assert sorted((op.job, op.start) for op in answer.schedule.operations) == sorted(
        (op.job, op.start) for op in schedule.operations
    )
    # Each choice is the first entry of its line among the jobs whose operation starts then in the label.
    starts = {(op.job, op.op_index): op.start for op in schedule.operations}
    done = dict.fromkeys(range(instance.num_jobs), 0)
    for line in (line for line in answer.text.split("\n") if is_candidate_line(line)):
        listed, chosen = candidate_line_jobs(line), candidate_line_choice(line)
        now = starts[chosen, done[chosen]]
        tied = [job for job in listed if done[job] < instance.num_machines and starts[job, done[job]] == now]
        assert chosen == tied[0]
        done[chosen] += 1
    # The shuffled order of the same label leaves the label to chance at some of those decisions.
    shuffled = write_candidates_answer(instance, job_sequence(schedule, tie_seed=1), fmt, "insert")
    assert shuffled.schedule.makespan == schedule.makespan and shuffled.text != answer.text


def test_a_top_k_smaller_than_the_label_needs_is_counted():
    rng = random.Random(3)
    instance = random_instance(rng, 8, 4)
    schedule = solve_cpsat(instance, time_limit=5.0).schedule
    full = write_candidates_answer(instance, job_sequence(schedule), CandidateFormat(top_k=0), "insert")
    narrow = write_candidates_answer(instance, job_sequence(schedule), CandidateFormat(top_k=1), "insert")
    assert full.unlisted == 0
    assert narrow.unlisted > 0
    assert narrow.schedule.makespan == full.schedule.makespan == schedule.makespan
    # A decision outside the top k lists its job after them, and chooses it.
    widened = [line for line in narrow.text.split("\n") if is_candidate_line(line) and "|" in line]
    assert len(widened) == narrow.unlisted
    assert all(candidate_line_choice(line) == candidate_line_jobs(line)[1] for line in widened)


def test_training_examples_and_saved_settings_carry_the_answer_format(tmp_path):
    rng = random.Random(1)
    record = labelled_record(random_instance(rng, 3, 3))
    fmt = PromptFormat(answer_format="candidates", candidate_fields="sdq", candidate_top_k=2, candidate_scale="raw")
    example = fmt.training_example(record)
    assert example["completion"] == fmt.candidates_answer(record).text
    assert example["completion"].split("\n")[1].startswith("Next: J")
    fmt.save_pretrained(tmp_path)
    assert PromptFormat.from_pretrained(tmp_path) == fmt
    assert fmt.decoding_options()["candidate_format"] == CandidateFormat("sdq", 2, "raw")
    assert PromptFormat().decoding_options()["candidate_format"] is None


def test_run_options_override_the_saved_answer_format(tmp_path):
    from jssp_sft.training.arguments import StarjobScriptArguments

    PromptFormat(answer_format="candidates", candidate_top_k=3).save_pretrained(tmp_path)
    saved = StarjobScriptArguments(dataset_name="x").prompt_format(str(tmp_path))
    assert saved.answer_format == "candidates" and saved.candidate_top_k == 3
    overridden = StarjobScriptArguments(dataset_name="x", candidate_top_k=5).prompt_format(str(tmp_path))
    assert overridden.candidate_top_k == 5 and overridden.answer_format == "candidates"
    # A given template (SFT's default) keeps the saved answer format: a run continuing from a candidates model.
    same = StarjobScriptArguments(dataset_name="x", template="prompt_completion").prompt_format(str(tmp_path))
    assert same.answer_format == "candidates" and same.candidate_top_k == 3
    plain = StarjobScriptArguments(dataset_name="x", answer_format="starjob").prompt_format(str(tmp_path))
    assert plain.answer_format == "starjob"
    assert StarjobScriptArguments(dataset_name="x").prompt_format(None) == PromptFormat()


def test_the_chosen_labels_are_the_marked_decisions(tiny):
    _, tokenizer = tiny
    rng = random.Random(2)
    record = labelled_record(random_instance(rng, 3, 3))
    example = CANDIDATES.training_example(record)
    ids = tokenizer(example["prompt"] + example["completion"])["input_ids"]
    mask = JobChoiceMarker(tokenizer).row_mask(ids, [True] * len(ids))
    marked = [tokenizer.decode([i]) for i, m in zip(ids, mask) if m]
    # The decision is the label that ends each candidate line; the operation after it (and the jobs the line lists)
    # follow from it and are never marked.
    assert marked == re.findall(r"=([A-Z]+)$", example["completion"], re.MULTILINE)
    assert len(marked) == len(parse_solution(example["completion"]).operations)


# ------------------------------------------------------------------------------------------- guaranteed decoding


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from jssp_sft.modeling.loading import load_model, load_tokenizer

    return load_model(str(tiny_model_dir)).eval(), load_tokenizer(str(tiny_model_dir))


@pytest.fixture(scope="module")
def windowed(tiny):
    """A small untrained model with a 24-token sliding window on every layer, on the project's tokenizer."""
    _, tokenizer = tiny
    model = build_model(
        tokenizer,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        sliding_window=24,
    )
    model.config._attn_implementation = "sdpa"
    return model.eval(), tokenizer


def _solve(model, tokenizer, instances, fmt=CANDIDATES, **options):
    prompts = [fmt.prompt_text(instance) for instance in instances]
    return guaranteed_generate(model, tokenizer, prompts, instances=instances, **fmt.decoding_options(), **options)


def _assert_feasible_candidates_answers(output, instances, fmt=CANDIDATES):
    for instance, texts, schedules in zip(instances, output.texts, output.schedules):
        for text, schedule in zip(texts, schedules):
            report = verify(instance, text)
            assert report.feasible and report.makespan_matches, (instance.name, report.violations[:3])
            assert report.num_operations == instance.num_operations
            lines = text.split("\n")
            assert sum(is_candidate_line(line) for line in lines) == instance.num_operations
            # Each operation's job is the one the line above it chose, among those it listed.
            for line, operation in zip(lines[1::2], lines[2::2]):
                job = int(operation[1 : operation.index("-")])
                assert candidate_line_choice(line) == job and job in candidate_line_jobs(line)
            assert schedule.makespan == report.makespan


@pytest.mark.parametrize("name", ["ft06", "la01", "ta01", "ta21"])
def test_untrained_model_writes_feasible_candidates_answers(tiny, name):
    model, tokenizer = tiny
    instance, _ = load_benchmark(name)
    output = _solve(model, tokenizer, [instance], num_samples=2, settings=HOT, seed=0)
    _assert_feasible_candidates_answers(output, [instance])
    # The candidate lines are forced: about one forward pass per decision (two where one job number is a prefix of
    # another's, J1 and J10), plus the prompt.
    assert output.forced_fraction > 0.9
    assert output.forward_passes <= 1.25 * instance.num_operations + 1


@pytest.mark.parametrize("name", ["ta11", "ta31", "ta41", "ta51", "ta61", "ta71"])
def test_a_sliding_window_model_writes_feasible_answers_at_every_taillard_size(windowed, name):
    model, tokenizer = windowed
    instance, _ = load_benchmark(name)
    output = _solve(model, tokenizer, [instance], settings=GREEDY)
    _assert_feasible_candidates_answers(output, [instance])


def test_sliding_window_choices_are_the_argmax_of_transformers_own_forward(windowed):
    """The masks built from real positions and the cropped cache give the choices of one uncached forward pass with
    transformers' own sliding-window mask, in a ragged batch."""
    model, tokenizer = windowed
    rng = random.Random(7)
    instances = [random_instance(rng, 5, 3), random_instance(rng, 3, 4), load_benchmark("ft06")[0]]
    prompts = [CANDIDATES.prompt_text(instance) for instance in instances]
    vocabulary = TokenVocabulary.of(tokenizer)
    writers = [
        SolutionWriter(instance, vocabulary, tokenizer.eos_token_id, candidate_format=CANDIDATES.candidate_format)
        for instance in instances
    ]
    with torch.inference_mode():
        _decode_batch(model, tokenizer, prompts, writers, 1, GREEDY, tokenizer.pad_token_id, _NoProgress())
        for prompt, writer in zip(prompts, writers):
            prompt_ids = encode_prompts(tokenizer, [prompt])["input_ids"][0].tolist()
            logits = model(input_ids=torch.tensor([prompt_ids + writer.ids])).logits[0]
            assert writer.choices
            for position, allowed in writer.choices:
                scores = logits[len(prompt_ids) + position - 1, list(allowed)]
                assert allowed[int(scores.argmax())] == writer.ids[position]


def test_sliding_window_greedy_answers_do_not_depend_on_the_batch(windowed):
    model, tokenizer = windowed
    rng = random.Random(5)
    instances = [load_benchmark("ft06")[0], random_instance(rng, 9, 3), random_instance(rng, 4, 6)]
    together = _solve(model, tokenizer, instances, settings=GREEDY, batch_size=3)
    alone = _solve(model, tokenizer, instances, settings=GREEDY, batch_size=1)
    assert together.texts == alone.texts
    _assert_feasible_candidates_answers(together, instances)
