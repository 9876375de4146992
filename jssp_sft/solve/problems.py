"""What the solver solves: a ``Problem`` (an instance with its reference makespan and origin), from an instance, a
text, a Starjob record, a named benchmark, or a whole benchmark group or dataset."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.codec import parse_instance, record_makespan
from ..core.instance import Instance


DATASET_SPLITS = ("all", "train", "test")


@dataclass(frozen=True)
class Problem:
    """One instance to solve: its id, its reference makespan (``bound``) and where it came from.

    ``bound`` is a benchmark's best known upper bound or a record's solver makespan (``bound_source`` says which;
    ``bound_optimal`` whether it is proven optimal, ``None`` when unknown). ``record`` (a Starjob record) or
    ``prompt`` (a verbatim prompt) decide the prompt text; otherwise it is built from the instance.
    """

    id: str
    instance: Instance
    group: str = "custom"
    bound: float | None = None
    bound_source: str | None = None
    bound_optimal: bool | None = None
    record: Mapping | None = field(default=None, compare=False, repr=False)
    prompt: str | None = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> str:
        return self.instance.size

    @classmethod
    def from_instance(cls, instance: Instance, id: str | None = None, **kwargs) -> Problem:
        return cls(id=id or instance.name or "problem", instance=instance, **kwargs)

    @classmethod
    def from_text(cls, text: str, id: str | None = None, **kwargs) -> Problem:
        """A Starjob ``input`` (the prompt is then built from the template) or a whole prompt (used verbatim)."""
        instance = parse_instance(text)
        prompt = None if text.lstrip().startswith("J0") else text
        return cls(id=id or "problem", instance=instance, prompt=prompt, **kwargs)

    @classmethod
    def from_record(cls, record: Mapping, id: str | None = None, group: str = "dataset") -> Problem:
        """A Starjob record; its bound is the solver's makespan (``codec.record_makespan``)."""
        instance = parse_instance(record["input"], num_machines=record.get("num_machines"))
        bound = record_makespan(record)
        status = record.get("solver_status")
        return cls(
            id=str(record.get("id") or id or "record"),
            instance=instance,
            group=group,
            bound=bound,
            bound_source="the record's solver makespan",
            bound_optimal=None if status is None else status == "OPTIMAL",
            record=record,
        )

    @classmethod
    def from_benchmark(cls, name: str) -> Problem:
        """A named benchmark instance (``ta01``, ``ft06``, ...) with its best known upper bound."""
        from ..benchmarks.instances import load_benchmark

        instance, info = load_benchmark(name)
        return cls(
            id=info.name,
            instance=instance,
            group=info.group,
            bound=info.upper_bound,
            bound_source=f"best known upper bound, {info.source}",
            bound_optimal=info.optimal,
        )


def as_problem(problem: Problem | Instance | Mapping | str, index: int = 0) -> Problem:
    """Anything ``solve`` accepts, as a ``Problem``."""
    if isinstance(problem, Problem):
        return problem
    if isinstance(problem, Instance):
        return Problem.from_instance(problem, id=problem.name or f"problem-{index}")
    if isinstance(problem, Mapping):
        return Problem.from_record(problem, id=f"problem-{index}", group="custom")
    if isinstance(problem, str):
        return Problem.from_text(problem, id=f"problem-{index}")
    raise TypeError(f"cannot solve a {type(problem).__name__}: pass an Instance, a Starjob record, or text")


def benchmark_problems(spec: str) -> list[Problem]:
    """Problems from ``"ft06,la01"``, ``"ta"``, ``"dmu:20x15"`` or a mix; duplicates are kept once, in order."""
    from ..benchmarks.instances import GROUPS, benchmark_names

    names: list[str] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        group, _, size = item.partition(":")
        if group.lower() in GROUPS:
            found = benchmark_names(group.lower(), size or None)
            if not found:
                raise ValueError(f"--benchmark {item!r}: group {group} has no instance of size {size}")
            names.extend(found)
        elif size:
            raise ValueError(f"--benchmark {item!r}: a size applies to a group ({', '.join(GROUPS)}), not to a name")
        else:
            names.append(item)
    if not names:
        raise ValueError(f"--benchmark {spec!r} names no instance")
    return [Problem.from_benchmark(name) for name in dict.fromkeys(names)]


def dataset_problems(source: str, split: str = "all", **load_kwargs) -> list[Problem]:
    """Problems from a Starjob file, directory or Hub dataset (``jssp_sft.data.loading.load_starjob``).

    ``split="all"`` takes every record; ``"train"``/``"test"`` the split ``load_starjob`` makes (the held-out 2% of
    a training run that used the same file and seed).
    """
    from ..data.loading import load_starjob

    if split not in DATASET_SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(DATASET_SPLITS)}")
    if split == "all":
        load_kwargs["test_size"] = 0
    records = load_starjob(source, **load_kwargs)["train" if split == "all" else split]
    group = Path(str(source)).stem if Path(str(source)).exists() else str(source)
    return [Problem.from_record(record, id=f"{group}-{split}-{i}", group=group) for i, record in enumerate(records)]
