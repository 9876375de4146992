"""Schedule an instance without a model, by name: CP-SAT, a dispatching rule, or the seeded random control.

``solve_by_method`` is the one path behind ``jssp-sft solve --method`` (instance files, benchmarks, records),
``jssp-sft evaluate --method`` and the service's ``"method"``, so the same name and options give the same schedule
everywhere. ``MethodOptions`` holds how the methods run; its defaults are the package's:

- rules run in the ``non_delay`` variant, the stronger one: on every Taillard, DMU, FT, LA, ABZ, ORB, SWV and YN
  size group and for every rule its mean gap is lower than ``insertion``'s (``python bench/rules.py`` prints the
  table); ``--rule_variant insertion`` gives L2D's setting, which the published PDR rows use;
- CP-SAT stops after ``deterministic_time`` units of its deterministic time, so a given ``seed`` and ``workers``
  give the same schedule on any machine (several workers search interleaved, which is deterministic);
  ``time_limit`` caps the wall clock, and a solve stopped by it says so (``stopped_by``), since where it stops then
  depends on the machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..core.instance import Instance
from ..core.schedule import Schedule
from .controls import random_control
from .dispatching import DEFAULT_VARIANT, RULES, VARIANTS, dispatching_rule


CPSAT, RANDOM = "cpsat", "random"
METHODS = (CPSAT, RANDOM, *RULES)


@dataclass
class MethodOptions:
    """How the methods without a model run (``jssp-sft solve``/``evaluate`` flags; the service's defaults)."""

    rule_variant: str = field(
        default=DEFAULT_VARIANT,
        metadata={
            "help": "A rule's variant: non_delay (only the operations that can start earliest compete; the stronger) "
            "or insertion (every job's next operation competes, placed in the earliest gap: the published rows').",
            "choices": list(VARIANTS),
        },
    )
    deterministic_time: float = field(
        default=1.0,
        metadata={
            "help": "CP-SAT's budget per instance in its deterministic time units: the same --seed and --workers "
            "give the same schedule on any machine (1 unit: about 12 s for a 15x15 instance on 2 busy cores). "
            "0: stop by --time_limit only (not reproducible)."
        },
    )
    time_limit: float = field(
        default=60.0,
        metadata={
            "help": "CP-SAT's wall-clock cap per instance in seconds; a solve stopped by it is marked "
            "(stopped_by: time_limit) and may differ from run to run."
        },
    )
    workers: int = field(
        default=1, metadata={"help": "CP-SAT's search workers (threads); reproducible for a given number."}
    )

    def __post_init__(self):
        if self.rule_variant not in VARIANTS:
            raise ValueError(f"unknown --rule_variant {self.rule_variant!r}; choose one of {', '.join(VARIANTS)}")
        if self.time_limit <= 0 or self.deterministic_time < 0 or self.workers < 1:
            raise ValueError(
                f"--time_limit must be > 0 (got {self.time_limit}), --deterministic_time >= 0 "
                f"(got {self.deterministic_time}) and --workers >= 1 (got {self.workers})"
            )

    def cpsat_label(self) -> str:
        """``"CP-SAT (deterministic 1, 1 worker)"``: the budget a CP-SAT row was made with."""
        budget = f"deterministic {self.deterministic_time:g}" if self.deterministic_time else f"{self.time_limit:g} s"
        return f"CP-SAT ({budget}, {self.workers} worker{'s' if self.workers > 1 else ''})"


def method_name(method: str) -> str:
    """The canonical name of a method: ``cpsat``, ``random`` or a rule as ``RULES`` spells it (``FDD/MWKR``).

    Case does not matter. A ``ValueError`` lists the choices."""
    name = method.strip()
    if name.lower() in (CPSAT, RANDOM):
        return name.lower()
    if name.upper() in RULES:
        return name.upper()
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(m.lower() for m in METHODS)}")


def method_label(method: str, options: MethodOptions, num_samples: int = 1) -> str:
    """How a method's results are named in every output line: ``FDD/MWKR (non_delay)``, ``random (best of 8)``."""
    name = method_name(method)
    if name == CPSAT:
        return options.cpsat_label()
    if name == RANDOM:
        return "random (1 sample)" if num_samples == 1 else f"random (best of {num_samples})"
    return f"{name} ({options.rule_variant})"


@dataclass(frozen=True)
class MethodResult:
    """A method's schedule (``None`` when CP-SAT found none within its limits), every sample it drew (the random
    control's N, in order; the schedule alone for the others) and the facts of how it was made."""

    schedule: Schedule | None
    details: dict
    samples: tuple[Schedule, ...] = ()


def solve_by_method(
    instance: Instance,
    method: str,
    options: MethodOptions | None = None,
    num_samples: int = 1,
    seed: int = 0,
    hint: Schedule | None = None,
) -> MethodResult:
    """Schedule ``instance`` by ``method`` (see ``method_name``) with ``options``.

    ``random`` draws ``num_samples`` schedules from the seeded random control (seeded by the controls' rule,
    ``controls.instance_seed``) and keeps the best; CP-SAT searches with ``seed`` (``hint``: a schedule to start
    from). ``details`` name the method, its options and the time taken."""
    from .cpsat import solve_cpsat

    options = options or MethodOptions()
    name = method_name(method)
    started = time.perf_counter()
    details: dict = {"method": name, "label": method_label(name, options, num_samples)}
    if name == CPSAT:
        limits = {"time_limit": options.time_limit, "workers": options.workers, "seed": seed}
        if options.deterministic_time:
            limits["deterministic_time"] = options.deterministic_time
        try:
            solved = solve_cpsat(
                instance,
                time_limit=options.time_limit,
                num_workers=options.workers,
                seed=seed,
                deterministic_time_limit=options.deterministic_time or None,
                hint=hint,
            )
        except RuntimeError as err:  # no schedule within the limits
            details.update(limits, status="UNKNOWN", message=str(err))
            return MethodResult(hint, _timed(details, started), (hint,) if hint else ())
        stopped_by = "optimal" if solved.optimal else _cpsat_stop(solved.wall_time, options)
        details.update(limits, status=solved.status, lower_bound=solved.lower_bound, stopped_by=stopped_by)
        schedule, samples = solved.schedule, (solved.schedule,)
    elif name == RANDOM:
        control = random_control(instance, num_samples, seed)
        details.update(num_samples=num_samples, seed=seed)
        schedule, samples = control.schedule, control.schedules
    else:
        schedule = dispatching_rule(instance, name, options.rule_variant)
        details.update(rule=name, rule_variant=options.rule_variant)
        samples = (schedule,)
    return MethodResult(schedule, _timed(details, started), samples)


def _cpsat_stop(wall_time: float, options: MethodOptions) -> str:
    """What stopped a CP-SAT search short of a proof: its deterministic budget, or the wall-clock cap."""
    if options.deterministic_time and wall_time < 0.99 * options.time_limit:
        return "deterministic_time"
    return "time_limit"


def _timed(details: dict, started: float) -> dict:
    details["seconds"] = round(time.perf_counter() - started, 3)
    return details
