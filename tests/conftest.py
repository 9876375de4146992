"""Shared test set-up: everything runs offline, on CPU, on models and data built locally."""

import os


os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_MODE", "disabled")
# `make test` runs two xdist workers on two cores: one math thread each, and threads that sleep when idle, or the
# workers' OpenMP threads spin against each other (a training step ran ~10x slower that way here).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import random  # noqa: E402

import pytest  # noqa: E402

from jssp_sft import Instance, Schedule, parse_instance, to_record  # noqa: E402


EXAMPLE_INPUT = "J0:\nM2:7 M0:12 M1:5 \nJ1:\nM0:9 M2:4 M1:11 \n"
EXAMPLE_OUTPUT = (
    "Solution:\n"
    "J0-M2: 0+7 -> 7, J1-M0: 0+9 -> 9, J1-M2: 9+4 -> 13, J0-M0: 9+12 -> 21, J1-M1: 13+11 -> 24, J0-M1: 24+5 -> 29\n"
    "Maximum end completion time or Makespan: 29"
)
EXAMPLE_MATRIX = "2 3\n2 7 0 12 1 5\n0 9 2 4 1 11\n29.0\n3 1\n5 2\n0 4"

# Fisher and Thompson's 6x6 instance (optimum 55).
FT06 = Instance.from_arrays(
    [
        [2, 0, 1, 3, 5, 4],
        [1, 2, 4, 5, 0, 3],
        [2, 3, 5, 0, 1, 4],
        [1, 0, 2, 3, 4, 5],
        [2, 1, 4, 5, 0, 3],
        [1, 3, 5, 0, 4, 2],
    ],
    [
        [1, 3, 6, 7, 3, 6],
        [8, 5, 10, 10, 10, 4],
        [5, 4, 8, 9, 1, 7],
        [5, 5, 5, 3, 8, 9],
        [9, 3, 5, 4, 3, 1],
        [3, 3, 9, 10, 4, 1],
    ],
    name="ft06",
)


def serial_record(rng: random.Random, num_jobs: int, num_machines: int, shuffle_jobs: bool = False) -> dict:
    """A record whose solution runs the jobs one after another (feasible), in index order or a shuffled order."""
    jobs = [[(m, rng.randint(5, 500)) for m in rng.sample(range(num_machines), num_machines)] for _ in range(num_jobs)]
    instance = Instance(tuple(tuple(job) for job in jobs), num_machines)
    order = rng.sample(range(num_jobs), num_jobs) if shuffle_jobs else range(num_jobs)
    starts, time = [], 0
    for j in order:
        for k, (_, duration) in enumerate(instance.jobs[j]):
            starts.append((j, k, time))
            time += duration
    return to_record(instance, Schedule.from_starts(instance, starts).with_declared_makespan())


def one_layer_model(tokenizer, max_position_embeddings: int = 4096):
    """The smallest Qwen2 the loss and masking tests train: one layer, width 32."""
    from jssp_sft.modeling.tiny import build_model

    return build_model(
        tokenizer,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=max_position_embeddings,
    )


def argv(**options) -> list[str]:
    """Command-line flags from keyword options, as the recipe parsers read them: ``argv(max_steps=2)`` is
    ``["--max_steps", "2"]``."""
    return [item for name, value in options.items() for item in (f"--{name}", str(value))]


def sft_config(output_dir, **overrides):
    """The ``SFTConfig`` of the tests' small trainers: CPU, float32, no reporting, no truncation unless given."""
    from trl import SFTConfig

    options = {"use_cpu": True, "bf16": False, "report_to": "none", "max_length": None, **overrides}
    return SFTConfig(output_dir=str(output_dir), **options)


def weighted_loss_by_hand(model, batch: dict, weight: float) -> float:
    """The job-choice-weighted training loss of ``batch`` computed by hand: each trained token's cross-entropy, the
    job-choice tokens (``job_choice_mask``) counted ``weight`` times, over the number of trained tokens."""
    import torch

    from jssp_sft.training.job_choice import JOB_CHOICE_MASK

    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        nll = torch.nn.functional.cross_entropy(
            logits[:, :-1].transpose(1, 2), batch["labels"][:, 1:], ignore_index=-100, reduction="none"
        )
        trained = batch["labels"][:, 1:] != -100
        weights = 1 + (weight - 1) * batch[JOB_CHOICE_MASK][:, 1:].float()
        return ((nll * weights)[trained].sum() / trained.sum()).item()


@pytest.fixture
def example_instance() -> Instance:
    """The 2x3 instance of the Starjob format spec."""
    return parse_instance(EXAMPLE_INPUT)


# The LoRA options of the tests' adapter runs (TrlParser command-line form).
TINY_LORA_ARGS = ("--use_peft", "--lora_r", "4", "--lora_alpha", "8", "--lora_target_modules", "all-linear")


def build_quantizable_tiny(directory):
    """A one-layer tiny model that bitsandbytes can quantize (it works in blocks of 64 inputs: every layer needs 64
    input features), saved to ``directory``."""
    from jssp_sft.modeling.tiny import TinyModelArguments, build_tiny

    build_tiny(
        TinyModelArguments(
            output_dir=str(directory),
            vocab_size=400,
            tokenizer_corpus_size=40,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
        )
    )
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A very small model + tokenizer from ``jssp_sft.modeling.tiny`` (random weights), saved once per test session."""
    from jssp_sft.modeling.tiny import TinyModelArguments, build_tiny

    directory = tmp_path_factory.mktemp("tiny-model")
    args = TinyModelArguments(
        output_dir=str(directory),
        vocab_size=400,
        tokenizer_corpus_size=80,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=1024,
    )
    build_tiny(args)
    return directory


# Three small problems for the solve/evaluate tests: (machines per job, durations per job).
TOY_PROBLEMS = (
    ([[0, 1], [1, 0]], [[3, 2], [2, 5]]),
    ([[1, 0], [0, 1], [1, 0]], [[5, 1], [2, 2], [4, 3]]),
    ([[0, 1], [1, 0]], [[6, 3], [4, 1]]),
)


@pytest.fixture(scope="session")
def toy_solver_run(tmp_path_factory, tiny_model_dir):
    """A solver test bed: three small Starjob records (CP-SAT solved, ``toy.jsonl``) and a copy of the tiny model
    trained for a few seconds to answer them, saved like a training run (``model/``, with its prompt settings).

    The model learned the optimal schedule for records 0 and 2 and a poor serial one for record 1 (a positive gap),
    and sampling makes mistakes, so samples come out both feasible and infeasible. Returns ``(model_dir,
    records_path, records)``.
    """
    import json

    import torch

    from jssp_sft import Instance, Schedule, format_solution, to_record
    from jssp_sft.data.templates import PromptFormat
    from jssp_sft.modeling.loading import load_model, load_tokenizer
    from jssp_sft.solvers.cpsat import solve_cpsat

    directory = tmp_path_factory.mktemp("toy-solver-run")
    records, answers = [], []
    for i, (machines, durations) in enumerate(TOY_PROBLEMS):
        instance = Instance.from_arrays(machines, durations)
        record = {"id": f"toy-{i}", **to_record(instance, solve_cpsat(instance, time_limit=10).schedule)}
        records.append(record)
        if i == 1:  # every operation after the previous one: feasible, and far from optimal
            starts, clock = [], 0
            for j, job in enumerate(instance.jobs):
                for k, (_, duration) in enumerate(job):
                    starts.append((j, k, clock))
                    clock += duration
            answers.append(format_solution(Schedule.from_starts(instance, starts).with_declared_makespan()))
        else:
            answers.append(record["output"])
    records_path = directory / "toy.jsonl"
    records_path.write_text("".join(json.dumps(r) + "\n" for r in records))

    tokenizer = load_tokenizer(str(tiny_model_dir))
    model = load_model(str(tiny_model_dir))
    prompt_format = PromptFormat()
    rows = []
    for record, answer in zip(records, answers):
        prompt = tokenizer(prompt_format.prompt_text(record))["input_ids"]
        rows.append((prompt, tokenizer(answer)["input_ids"] + [tokenizer.eos_token_id]))
    width = max(len(p) + len(a) for p, a in rows)
    input_ids = torch.full((len(rows), width), tokenizer.pad_token_id)
    labels = torch.full((len(rows), width), -100)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (prompt, answer) in enumerate(rows):
        n = len(prompt) + len(answer)
        input_ids[i, :n] = torch.tensor(prompt + answer)
        labels[i, len(prompt) : n] = torch.tensor(answer)
        attention_mask[i, :n] = 1
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(200):
        optimizer.zero_grad()
        model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss.backward()
        optimizer.step()
    model_dir = directory / "model"
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    prompt_format.save_pretrained(model_dir)
    return model_dir, records_path, records
