"""GRPO reward functions: the strict verifier's verdict on each sampled schedule, as TRL reward functions.

Each function has the signature TRL's ``GRPOTrainer`` calls::

    reward(prompts=[...], completions=[...], reference_makespan=[...], **kwargs) -> list[float]

Prompts are texts or chat messages built by ``templates.PromptFormat.prompt_example``; the instance is read back from
the prompt by the codec (``scoring.InstanceCache``). Completions are texts or assistant messages. Every completion is
checked once per batch by ``scoring.verify_prediction`` (the core verifier, which never raises on model output), and
the reports are shared by all the rewards of a step through ``RolloutVerifier``'s cache. Recipes name the functions
of ``REWARDS`` in ``reward_funcs`` and weight them with ``reward_weights``.

Ranges (every function returns one float per completion, never ``None``, and never raises on a completion):

- ``format``: 1.0 when the text reads as a Starjob solution at all (the codec parses it), else 0.0.
- ``feasibility``: 1.0 for a feasible schedule (every operation once, right machines and durations, no precedence or
  machine overlap), else 0.0.
- ``operations``: the share of the instance's operations scheduled without a violation, in [0, 1]; 1.0 exactly
  when feasible. A dense signal for models that are rarely feasible yet.
- ``checks``: the share of the verifier's five per-operation checks (machine, duration, end, order, machine free)
  that pass, in [0, 1]; 1.0 exactly when feasible. Denser still: it credits an operation with one wrong number.
- ``makespan_quality``: ``reference / makespan`` for a feasible schedule, else 0.0. The reference is the record's
  ``reference_makespan`` (the solver's), or the instance's trivial lower bound where a row has none. In (0, 1] when
  the reference is optimal; above 1 only for a schedule that beats the reference, capped at ``MAX_QUALITY``.
- ``makespan_declared``: 1.0 when the text declares a makespan equal to the one its listed operations give, else 0.0
  (the Starjob paper's second criterion; independent of feasibility).
- ``valid``: 1.0 when feasible and declaring the right makespan (the paper's "valid solution"), else 0.0.

Besides the rewards, the first reward function that sees a new batch logs the rollouts' numbers through the
trainer's ``log_metric`` (``rollout/parse_rate``, ``rollout/feasible_rate``, ``rollout/valid_rate``,
``rollout/mean_gap``, ``rollout/optimal_rate``: the ``jssp_makespan`` metric's definitions, ``scoring.
summarize_reports``) and adds ``feasible``, ``makespan`` and ``gap`` columns to the completions table
(``log_extra``), once per batch however many rewards are used.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

from .core.instance import Instance
from .core.scoring import InstanceCache, gap, summarize_reports, verify_prediction
from .core.verifier import (
    MACHINE_OVERLAP,
    NEGATIVE_START,
    NON_BLOCKING_KINDS,
    PRECEDENCE,
    WRONG_DURATION,
    WRONG_END,
    WRONG_MACHINE,
    Report,
)


logger = logging.getLogger(__name__)

# A schedule that beats its reference earns more than 1, up to this: it bounds the reward if a reference is poor.
MAX_QUALITY = 2.0
# Names of the per-step numbers logged through the trainer's `log_metric`.
METRIC_PREFIX = "rollout/"
ROLLOUT_METRICS = ("parse_rate", "feasible_rate", "valid_rate", "mean_gap", "optimal_rate")


# ------------------------------------------------------------------------------------------- prompts and answers


def _content_text(content) -> str | None:
    """A message's content as text: a string, or the text parts of a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = [block.get("text") for block in content if isinstance(block, Mapping)]
        texts = [part for part in parts if isinstance(part, str)]
        return "".join(texts) if texts else None
    return None


def prompt_problem_text(prompt) -> str:
    """The text holding the instance: the prompt itself, or the last user message of a conversational prompt."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        for message in reversed(prompt):
            if isinstance(message, Mapping) and message.get("role") == "user":
                text = _content_text(message.get("content"))
                if text is not None:
                    return text
    raise ValueError(f"a prompt must be a text or chat messages with a user turn, got {type(prompt).__name__}")


def completion_text(completion):
    """The answer's text: the completion itself, or the content of the last assistant message.

    Anything else is returned unchanged, so that the verifier reports it as unparseable rather than this raising.
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        for message in reversed(completion):
            if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant":
                text = _content_text(message.get("content"))
                if text is not None:
                    return text
    return completion


def _reference(value) -> float | None:
    """A usable reference makespan (positive, finite), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


# ----------------------------------------------------------------------------------------------------- verifying


class RolloutVerifier:
    """Verifies each (prompt, completion) once and logs each batch's rollout numbers once.

    Several reward functions score the same batch in one GRPO step; the reports are kept in a bounded cache keyed by
    the problem text and the completion text, so the verifier runs once per completion. A batch is identified by the
    trainer's step and its pairs, so that its metrics are logged by whichever reward function sees it first.
    """

    def __init__(self, max_cached: int = 4096):
        self.max_cached = max_cached
        self.instances = InstanceCache()
        self._reports: OrderedDict[tuple, Report] = OrderedDict()
        self._logged_batch: tuple | None = None
        self.num_verified = 0  # how many times the verifier actually ran (tests check the cache with it)

    def instance(self, prompt) -> Instance:
        text = prompt_problem_text(prompt)
        try:
            return self.instances.get(text)
        except (ValueError, TypeError) as err:
            raise ValueError(f"the prompt holds no JSSP instance ({err}): {text[:80]!r}...") from None

    def report(self, prompt, completion) -> Report:
        """The verifier's report on one completion (cached)."""
        problem = prompt_problem_text(prompt)
        answer = completion_text(completion)
        key = (problem, answer if isinstance(answer, str) else repr(answer))
        report = self._reports.get(key)
        if report is not None:
            self._reports.move_to_end(key)
            return report
        report = verify_prediction(self.instance(prompt), answer)
        self.num_verified += 1
        self._reports[key] = report
        if len(self._reports) > self.max_cached:
            self._reports.popitem(last=False)
        return report

    def batch(self, prompts: Sequence, completions: Sequence, reference_makespan=None, **kwargs) -> list[Report]:
        """Reports of a batch; logs its rollout metrics through ``log_metric``/``log_extra`` if not done yet."""
        if len(prompts) != len(completions):
            raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
        reports = [self.report(p, c) for p, c in zip(prompts, completions)]
        log_metric, log_extra = kwargs.get("log_metric"), kwargs.get("log_extra")
        if log_metric is not None or log_extra is not None:
            state = kwargs.get("trainer_state")
            key = (
                getattr(state, "global_step", None),
                tuple((prompt_problem_text(p), repr(completion_text(c))) for p, c in zip(prompts, completions)),
            )
            if key != self._logged_batch:
                self._logged_batch = key
                refs = self.references(prompts, reference_makespan, lower_bound_fallback=False)
                self._log(reports, refs, log_metric, log_extra)
        return reports

    def references(self, prompts: Sequence, reference_makespan=None, lower_bound_fallback: bool = True) -> list:
        """Per row: its ``reference_makespan`` when usable, else the instance's lower bound (or ``None``)."""
        given = [None] * len(prompts) if reference_makespan is None else list(reference_makespan)
        if len(given) != len(prompts):
            raise ValueError(f"{len(given)} reference makespans but {len(prompts)} prompts")
        refs = [_reference(value) for value in given]
        if lower_bound_fallback:
            refs = [ref if ref is not None else float(self.instance(p).lower_bound()) for ref, p in zip(refs, prompts)]
        return refs

    @staticmethod
    def _log(reports, refs, log_metric, log_extra) -> None:
        summary = summarize_reports(reports, refs)
        if log_metric is not None:
            for name in ROLLOUT_METRICS:
                if summary[name] is not None:
                    log_metric(METRIC_PREFIX + name, float(summary[name]))
        if log_extra is not None:
            log_extra("feasible", [r.feasible for r in reports])
            log_extra("makespan", [r.makespan if r.feasible else None for r in reports])
            log_extra("gap", [gap(r.makespan, ref) if r.feasible and ref else None for r, ref in zip(reports, refs)])

    def clear(self) -> None:
        self._reports.clear()
        self._logged_batch = None


# The verifier the rewards of REWARDS share (one per process).
VERIFIER = RolloutVerifier()


# ------------------------------------------------------------------------------------------------------- rewards


def format_reward(prompts, completions, **kwargs) -> list[float]:
    """1.0 when the completion reads as a Starjob solution (operations the codec can parse), else 0.0."""
    return [float(r.parsed) for r in VERIFIER.batch(prompts, completions, **kwargs)]


def feasibility_reward(prompts, completions, **kwargs) -> list[float]:
    """1.0 when the schedule is feasible (the verifier finds no blocking violation), else 0.0."""
    return [float(r.feasible) for r in VERIFIER.batch(prompts, completions, **kwargs)]


def operations_reward(prompts, completions, **kwargs) -> list[float]:
    """The share of the instance's operations scheduled without a violation, in [0, 1] (1.0 iff feasible).

    An operation counts against the share when a violation names it (wrong machine, duration or end, negative start,
    precedence, machine overlap, missing); a listed entry that is not one of the instance's operations (unknown job
    or machine, duplicate, extra) costs one operation too. An unparseable answer scores 0.
    """
    reports = VERIFIER.batch(prompts, completions, **kwargs)
    return [_operations_share(VERIFIER.instance(p), r) for p, r in zip(prompts, reports)]


def _operations_share(instance: Instance, report: Report) -> float:
    return _share_kept(instance, report, len)


def _share_kept(instance: Instance, report: Report, lost: Callable[[dict[tuple[int, int], set[str]]], float]) -> float:
    """1.0 when feasible, 0.0 when unparseable, else the share of operations left after ``lost(failed)`` (the
    operations' cost of the failed ones, ``_violations_by_operation``) and one per stray violation, at least 0."""
    if report.feasible:
        return 1.0
    if not report.parsed:
        return 0.0
    failed, stray = _violations_by_operation(instance, report)
    total = instance.num_operations
    return max(0.0, (total - lost(failed) - stray) / total)


def _violations_by_operation(instance: Instance, report: Report) -> tuple[dict[tuple[int, int], set[str]], int]:
    """The blocking violation kinds of each of the instance's operations ``(job, op_index)`` that has any, and the
    number of violations that name no such operation (unknown job or machine, duplicate or extra entries)."""
    failed: dict[tuple[int, int], set[str]] = {}
    stray = 0
    for v in report.violations:
        if v.kind in NON_BLOCKING_KINDS:
            continue
        if (
            v.job is not None
            and v.op_index is not None
            and 0 <= v.job < instance.num_jobs
            and 0 <= v.op_index < len(instance.jobs[v.job])
        ):
            failed.setdefault((v.job, v.op_index), set()).add(v.kind)
        else:
            stray += 1
    return failed, stray


# The verifier's per-operation checks, and the violation kinds that fail each one (`checks_reward`).
OPERATION_CHECKS: dict[str, frozenset[str]] = {
    "machine": frozenset({WRONG_MACHINE}),
    "duration": frozenset({WRONG_DURATION}),
    "end": frozenset({WRONG_END}),
    "order": frozenset({PRECEDENCE, NEGATIVE_START}),
    "machine_free": frozenset({MACHINE_OVERLAP}),
}
_CHECKED_KINDS = frozenset().union(*OPERATION_CHECKS.values())


def checks_reward(prompts, completions, **kwargs) -> list[float]:
    """The share of the verifier's per-operation checks that pass, in [0, 1] (1.0 iff feasible): the densest signal.

    Each of the instance's operations has five checks (``OPERATION_CHECKS``: right machine, right duration, end equal
    to start plus duration, after its job's previous operation and not before 0, its machine free); a missing
    operation fails all five, and a listed entry that is not one of the instance's operations (unknown job or machine,
    duplicate, extra) costs a whole operation. Where ``operations`` gives an operation with a wrong duration nothing,
    this gives it 4/5, so a weak model's samples still differ in reward (GRPO learns only from differences within a
    group). An unparseable answer scores 0.
    """
    reports = VERIFIER.batch(prompts, completions, **kwargs)
    return [_checks_share(VERIFIER.instance(p), r) for p, r in zip(prompts, reports)]


def _checks_share(instance: Instance, report: Report) -> float:
    return _share_kept(instance, report, _checks_lost)


def _checks_lost(failed: dict[tuple[int, int], set[str]]) -> float:
    """The failed checks of the failed operations, in operations (five checks make one)."""
    num_checks = len(OPERATION_CHECKS)
    lost = 0.0
    for kinds in failed.values():
        if not kinds <= _CHECKED_KINDS:  # a missing operation (or a kind no check covers) fails every check
            lost += 1.0
        else:
            lost += sum(1 for covered in OPERATION_CHECKS.values() if kinds & covered) / num_checks
    return lost


def makespan_quality_reward(prompts, completions, reference_makespan=None, **kwargs) -> list[float]:
    """``reference / makespan`` for a feasible schedule (capped at ``MAX_QUALITY``), else 0.0.

    The reference is the row's ``reference_makespan``; a row without one is scored against the instance's trivial
    lower bound (longest job or busiest machine), which no schedule beats.
    """
    reports = VERIFIER.batch(prompts, completions, reference_makespan=reference_makespan, **kwargs)
    refs = VERIFIER.references(prompts, reference_makespan)
    return [_quality(r, ref) for r, ref in zip(reports, refs)]


def _quality(report: Report, reference: float) -> float:
    if not report.feasible:
        return 0.0
    if report.makespan <= 0:
        return 1.0  # only an instance whose operations all take no time
    return min(reference / report.makespan, MAX_QUALITY)


def makespan_declared_reward(prompts, completions, **kwargs) -> list[float]:
    """1.0 when the declared makespan equals the one the listed operations give, else 0.0 (none declared: 0.0)."""
    return [float(r.makespan_matches is True) for r in VERIFIER.batch(prompts, completions, **kwargs)]


def valid_reward(prompts, completions, **kwargs) -> list[float]:
    """1.0 when the schedule is feasible and declares its makespan right (the Starjob paper's criterion), else 0.0."""
    return [float(r.valid) for r in VERIFIER.batch(prompts, completions, **kwargs)]


# name (as recipes write it in `reward_funcs`) -> reward function
REWARDS: dict[str, Callable[..., list[float]]] = {
    "format": format_reward,
    "feasibility": feasibility_reward,
    "operations": operations_reward,
    "checks": checks_reward,
    "makespan_quality": makespan_quality_reward,
    "makespan_declared": makespan_declared_reward,
    "valid": valid_reward,
}
# Documented range of each reward, [low, high].
REWARD_RANGES: dict[str, tuple[float, float]] = {
    "format": (0.0, 1.0),
    "feasibility": (0.0, 1.0),
    "operations": (0.0, 1.0),
    "checks": (0.0, 1.0),
    "makespan_quality": (0.0, MAX_QUALITY),
    "makespan_declared": (0.0, 1.0),
    "valid": (0.0, 1.0),
}


def get_reward_funcs(names: Sequence[str]) -> list[Callable[..., list[float]]]:
    """The reward functions a recipe names, in order; ``ValueError`` naming an unknown one."""
    unknown = [name for name in names if name not in REWARDS]
    if unknown:
        raise ValueError(
            f"unknown reward function(s) {', '.join(map(repr, unknown))}; choose from {', '.join(REWARDS)}"
        )
    if not names:
        raise ValueError(f"name at least one reward function; choose from {', '.join(REWARDS)}")
    return [REWARDS[name] for name in names]
