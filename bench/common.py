"""What the bench scripts share: their argument parsing, the machine line every timing is printed with, the random
instances they solve, the tiny solver they time, and the trained run they evaluate.

Each script is run as ``python bench/<name>.py``, so this module imports as ``common`` (its folder is on the path).
Importing it lets idle OpenMP threads sleep instead of spin (``OMP_WAIT_POLICY=PASSIVE``, as ``make bench`` sets),
so that a busy machine does not starve the measured process; it must come before torch is imported.
"""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path


os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
logger = logging.getLogger(__name__)


def parse(arguments_class, argv: list[str] | None = None):
    """The script's one arguments dataclass from ``argv`` (the command line by default), as ``transformers`` parses."""
    from transformers import HfArgumentParser

    (args,) = HfArgumentParser(arguments_class).parse_args_into_dataclasses(argv)
    return args


def machine_line(when: str = "at start") -> str:
    """The CPUs, torch's threads and the load average: every ratio is printed with the load it was measured under."""
    load = os.getloadavg()[0]
    threads = ""
    try:
        import torch

        threads = f", torch {torch.__version__} with {torch.get_num_threads()} threads"
    except ImportError:
        pass
    busy = " (busy: timings are noisy)" if load > 1 else ""
    return f"{os.cpu_count()} CPUs{threads}; load average {load:.2f} {when}{busy}"


def random_instances(count: int, seed: int = 0, min_size: int = 3, max_size: int = 6, max_duration: int = 99) -> list:
    """``count`` random instances of ``min_size..max_size`` jobs by as many machines (drawn apart), durations
    ``1..max_duration``, each job visiting every machine once."""
    from jssp_sft import Instance

    rng = random.Random(seed)
    instances = []
    for _ in range(count):
        n, m = rng.randint(min_size, max_size), rng.randint(min_size, max_size)
        jobs = tuple(
            tuple((machine, rng.randint(1, max_duration)) for machine in rng.sample(range(m), m)) for _ in range(n)
        )
        instances.append(Instance(jobs, m))
    return instances


def tiny_solver(directory: str):
    """The untrained tiny model (``jssp_sft.modeling.tiny``) built in ``directory``, loaded as a CPU solver."""
    from jssp_sft.modeling.tiny import TinyModelArguments, build_tiny
    from jssp_sft.solve import JSSPSolver

    build_tiny(TinyModelArguments(output_dir=directory))
    return JSSPSolver.from_pretrained(directory, device="cpu")


def ensure_trained_run(run_dir: str) -> None:
    """Run the quickstart (what ``make train`` runs) when ``run_dir`` holds no model yet."""
    if (Path(run_dir) / "config.json").is_file() or (Path(run_dir) / "adapter_config.json").is_file():
        return
    from jssp_sft.quickstart import QuickstartArguments
    from jssp_sft.quickstart import main as quickstart

    logger.info("%s is missing: running the quickstart (make train) first", run_dir)
    quickstart(QuickstartArguments(output_dir=run_dir))


def untrained_tiny(hidden_size: int, num_hidden_layers: int, seed: int = 0, **options):
    """An untrained tiny model (``jssp_sft.modeling.tiny``: MLP 3x the width) and its tokenizer, built in memory, in
    eval mode; ``options`` go to ``build_model`` (heads, window, positions)."""
    from jssp_sft.modeling.tiny import build_model, build_tokenizer

    tokenizer = build_tokenizer(seed=seed)
    model = build_model(
        tokenizer,
        hidden_size=hidden_size,
        intermediate_size=3 * hidden_size,
        num_hidden_layers=num_hidden_layers,
        seed=seed,
        **options,
    )
    return model.eval(), tokenizer
