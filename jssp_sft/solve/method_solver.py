"""``MethodSolver``: a solver with ``JSSPSolver``'s interface that schedules by CP-SAT, a rule or the random control.

It lets ``jssp-sft solve --method cpsat|random|<rule>`` write the same results file as a model run (one line per
instance, every sample verified, resumable) on benchmarks, records or instance files, so ``jssp-sft evaluate`` reports
a rule or CP-SAT exactly as it reports a model. The schedules come from ``jssp_sft.solvers.methods.solve_by_method``,
the path the service uses too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ..core.codec import format_solution
from ..core.instance import Instance
from ..core.scoring import verify_prediction
from ..solvers.methods import MethodOptions, method_name, solve_by_method
from .config import SolveConfig
from .problems import Problem, as_problem
from .results import Sample, SolverResult, choose_best


class MethodSolver:
    """Solve problems by ``method`` with ``options``; ``config`` gives the random control's N and every seed."""

    def __init__(self, method: str, options: MethodOptions | None = None, config: SolveConfig | None = None):
        self.method = method_name(method)
        self.options = options or MethodOptions()
        self.config = config or SolveConfig()

    def run_config(self, config: SolveConfig) -> dict:
        """What identifies a run's answers (stored on every results line; a resumed file must match it)."""
        from ..solvers.methods import CPSAT, RANDOM, method_label

        num_samples = config.num_samples if self.method == RANDOM else 1
        out = {"method": self.method, "label": method_label(self.method, self.options, num_samples)}
        if self.method == CPSAT:
            out.update(dataclasses.asdict(self.options), seed=config.seed)
            out.pop("rule_variant")
        elif self.method == RANDOM:
            out.update(seed=config.seed)
        else:
            out.update(rule_variant=self.options.rule_variant)
        return {**out, "num_samples": num_samples}

    def solve(self, problem: Problem | Instance | Mapping | str, **overrides) -> SolverResult:
        return self.solve_many([problem], **overrides)[0]

    def solve_many(self, problems: Iterable, show_progress: bool = False, **overrides) -> list[SolverResult]:
        problems = [as_problem(p, i) for i, p in enumerate(problems)]
        return list(self.iter_solve(problems, show_progress=show_progress, **overrides))

    def iter_solve(
        self, problems: Sequence[Problem], show_progress: bool = False, **overrides
    ) -> Iterator[SolverResult]:
        """Solve ``problems`` in order, yielding each result when verified; a tqdm bar when ``show_progress``."""
        from tqdm.auto import tqdm

        config = self.config.replace(**overrides)
        run_config = self.run_config(config)
        for problem in tqdm(problems, desc=run_config["label"], unit="instance", disable=not show_progress):
            solved = solve_by_method(problem.instance, self.method, self.options, config.num_samples, config.seed)
            seconds = solved.details["seconds"] / max(len(solved.samples), 1)
            samples = []
            for schedule in solved.samples:
                text = format_solution(schedule.with_declared_makespan())
                samples.append(Sample(text, verify_prediction(problem.instance, text), 0, True, seconds))
            details = {k: v for k, v in solved.details.items() if k not in run_config and k != "seconds"}
            yield SolverResult(problem, samples, choose_best(samples), {**run_config, **details})
