"""jssp-sft diagnose: per-decision accuracy, prompt swap, loss by token class and the fixed-order check, on models
whose answers are known: a real Qwen2 whose output layer always ranks job 0 first, then job 1, ..."""

import json
import math

import pytest
import torch

from jssp_sft import parse_instance
from jssp_sft.cli.main import main as cli_main
from jssp_sft.data.templates import PromptFormat
from jssp_sft.evaluation.diagnostics import (
    diagnose,
    job_sequence,
    read_completion,
    repeat_rate,
    swap_partners,
    teacher_forced,
)
from jssp_sft.modeling.loading import load_model, load_tokenizer
from jssp_sft.solve.vocabulary import TokenVocabulary


pytestmark = pytest.mark.xdist_group("toy_solver_run")

COMPLETION = (
    "Solution:\nJ1-M0: 0+9 -> 9, J0-M2: 0+7 -> 7, J1-M2: 9+4 -> 13, J0-M0: 9+12 -> 21, J1-M1: 13+11 -> 24, "
    "J0-M1: 24+5 -> 29\nMaximum end completion time or Makespan: 29"
)


def test_completion_characters_are_classed_and_decisions_found(example_instance):
    parsed = read_completion(COMPLETION, example_instance)
    text = dict(zip(range(len(COMPLETION)), parsed.classes))
    first = COMPLETION.index("J0-M2: 0+7 -> 7")
    assert [text[first + k] for k in range(len("J0-M2: 0+7 -> 7"))] == (
        ["text", "job", "text", "text", "machine", "text", "text", "start", "text", "duration"]
        + ["text"] * 4
        + ["end"]
    )
    assert parsed.classes[-2:] == ["makespan", "makespan"] and parsed.classes[0] == "text"
    assert parsed.jobs == [1, 0, 1, 0, 1, 0] == job_sequence(COMPLETION)
    assert [sorted(d.continuations) for d in parsed.decisions] == [[0, 1]] * 5 + [[0]]
    assert parsed.decisions[1].continuations == {0: "0-M2:", 1: "1-M2:"}  # J1's next operation is on M2
    with pytest.raises(ValueError, match="job 1, which has no operation left"):
        read_completion(COMPLETION.replace("J0-M1: 24", "J1-M1: 24"), example_instance)


def test_repeat_rate_and_partners(example_instance):
    # decisions after the first with two unfinished jobs: operations 2-5 (repeats at 3 and 5); the 6th is forced
    assert repeat_rate([[1, 0, 0, 1, 1, 0]], [example_instance]) == pytest.approx(2 / 4)
    # serial: once job 1 is done, job 0 is forced, so only operations 2 and 3 are decisions (both repeats)
    assert repeat_rate([[1, 1, 1, 0, 0, 0]], [example_instance]) == 1.0
    records = [
        {"num_jobs": 2, "num_machines": 2, "input": "a"},
        {"num_jobs": 3, "num_machines": 2, "input": "b"},
        {"num_jobs": 2, "num_machines": 2, "input": "c"},
        {"num_jobs": 2, "num_machines": 2, "input": "a"},
    ]
    assert swap_partners(records) == [2, None, 3, 2]


@pytest.fixture(scope="module")
def lowest_job_model(tiny_model_dir):
    """The tiny model with an output layer that ignores its input: logits = a bias ranking the digit 0 first, then
    1, 2, ...; so its choice is always the lowest unfinished job, and every token's loss is known."""
    tokenizer = load_tokenizer(str(tiny_model_dir))
    model = load_model(str(tiny_model_dir))
    bias = torch.zeros(model.config.vocab_size)
    for token_id, surface in TokenVocabulary.of(tokenizer).surfaces.items():
        if surface[0].isdigit():
            bias[token_id] = 10.0 - int(surface[0])
    head = torch.nn.Linear(model.config.hidden_size, model.config.vocab_size, bias=True)
    torch.nn.init.zeros_(head.weight)
    head.bias.data = bias
    model.lm_head = head
    return model, tokenizer, bias


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from jssp_sft.data.generator import ensure_default_dataset
    from jssp_sft.evaluation.diagnostics import dataset_records

    path = ensure_default_dataset(tmp_path_factory.mktemp("data"), progress=False, num_instances=16, sizes="2-3x2-3")
    return dataset_records(str(path))


def test_lowest_job_model_has_its_known_accuracy_loss_and_fixed_order(lowest_job_model, records):
    model, tokenizer, bias = lowest_job_model
    result = diagnose(model, tokenizer, records, PromptFormat(), batch_size=4)
    instances = [parse_instance(r["input"]) for r in records]
    hits = total = 0
    chance, jobs_loss = [], []
    log_z = torch.logsumexp(bias, 0).item()
    for record, instance in zip(records, instances):
        remaining = [len(job) for job in instance.jobs]
        for job in job_sequence(record["output"]):
            unfinished = [j for j, count in enumerate(remaining) if count]
            if len(unfinished) > 1:
                total += 1
                hits += job == min(unfinished)
                chance.append(1 / len(unfinished))
            jobs_loss.append(log_z - bias[tokenizer.convert_tokens_to_ids(str(job))].item())
            remaining[job] -= 1
    assert result.decisions == total and result.unjudged_decisions == 0
    assert result.decision_accuracy == pytest.approx(hits / total)
    assert result.chance_accuracy == pytest.approx(sum(chance) / len(chance))
    assert result.loss_by_class["job"] == pytest.approx(sum(jobs_loss) / len(jobs_loss), rel=1e-5)
    assert result.tokens_by_class["job"] == len(jobs_loss)
    assert result.uniform_job_loss == pytest.approx(sum(math.log(1 / c) for c in chance) / len(chance))
    # it never reads the prompt: every answer is the same under a swapped prompt, one order per size
    assert result.swapped_records > 0 and result.identical_under_swap == 1.0
    assert result.swapped_decision_accuracy == pytest.approx(result.decision_accuracy)
    assert result.greedy_gap == pytest.approx(result.swapped_greedy_gap)
    assert result.depends_only_on_size is True
    serial = [[j for j, job in enumerate(instance.jobs) for _ in job] for instance in instances]
    assert result.greedy_repeat_rate == pytest.approx(repeat_rate(serial, instances))
    for size, orders in result.orders_by_size.items():
        jobs = int(size.split("x")[0])
        assert (
            orders["distinct_orders"] == 1
            and orders["most_common"][0] == 0
            and len(set(orders["most_common"])) == jobs
        )


def test_swapped_prompt_classes_the_same_tokens_and_moves_a_prompt_reading_model(tiny_model_dir, records):
    """With another instance's prompt (of another length) the completion's tokens keep their classes; the loss of a
    model whose logits depend on the prompt (the untrained tiny model) moves."""
    tokenizer = load_tokenizer(str(tiny_model_dir))
    model = load_model(str(tiny_model_dir))
    instances = [parse_instance(r["input"]) for r in records]
    prompts = [PromptFormat().prompt_text(r) for r in records]
    partners = swap_partners(records)
    i = next(k for k, j in enumerate(partners) if j is not None)
    own = teacher_forced(model, tokenizer, [prompts[i]], [records[i]["output"]], [instances[i]])
    swapped = teacher_forced(model, tokenizer, [prompts[partners[i]]], [records[i]["output"]], [instances[i]])
    assert [c for c, _ in own[0].losses] == [c for c, _ in swapped[0].losses]
    assert [loss for _, loss in own[0].losses] != pytest.approx([loss for _, loss in swapped[0].losses])


def test_diagnose_command_on_a_trained_model(toy_solver_run, tmp_path, capsys):
    model_dir, records_path, toy = toy_solver_run
    output = tmp_path / "diag.json"
    assert (
        cli_main(["diagnose", "--model", str(model_dir), "--dataset", str(records_path), "--output", str(output)]) == 0
    )
    result = json.loads(output.read_text())
    expected = sum(
        1
        for record in toy
        for k, _ in enumerate(job_sequence(record["output"]))
        if len(read_completion(record["output"], parse_instance(record["input"])).decisions[k].continuations) > 1
    )
    assert result["records"] == 3 and result["decisions"] + result["unjudged_decisions"] == expected
    assert 0 <= result["decision_accuracy"] <= 1 and result["swapped_records"] == 2  # records 0 and 2 are 2x2
    assert set(result["loss_by_class"]) == {"job", "machine", "start", "duration", "end", "makespan", "text"}
    printed = capsys.readouterr().out
    assert "per-decision accuracy" in printed and "chance" in printed and "prompt swap" in printed
    with pytest.raises(SystemExit):
        cli_main(["diagnose", "--model", str(model_dir), "--num_records", "0"])


def test_multi_digit_job_numbers_are_judged_token_by_token(lowest_job_model, tmp_path):
    """With 11 jobs, job numbers take one or two digit tokens: the biased model writes "1" then prefers "0" to "-",
    so between jobs 1 and 10 it picks 10. Its choice is the unfinished job whose number, read digit by digit with
    "-" after every digit, comes first; every decision gets a verdict along the optimal path."""
    from jssp_sft.data.generator import ensure_default_dataset
    from jssp_sft.evaluation.diagnostics import dataset_records

    model, tokenizer, _ = lowest_job_model
    path = ensure_default_dataset(tmp_path, progress=False, num_instances=3, sizes="11x2", max_duration=9)
    eleven = dataset_records(str(path))
    instances = [parse_instance(r["input"]) for r in eleven]
    prompts = [PromptFormat().prompt_text(r) for r in eleven]
    results = teacher_forced(model, tokenizer, prompts, [r["output"] for r in eleven], instances, batch_size=3)
    for record, instance, result in zip(eleven, instances, results):
        remaining = [len(job) for job in instance.jobs]
        expected = []
        for job in job_sequence(record["output"]):
            unfinished = [j for j, count in enumerate(remaining) if count]
            if len(unfinished) > 1:
                expected.append((min(unfinished, key=lambda j: str(j) + "~") == job, len(unfinished)))
            remaining[job] -= 1
        assert result.decisions == expected
    assert any(v for r in results for v, _ in r.decisions) and not all(v for r in results for v, _ in r.decisions)
