"""What the HTTP layer calls: solve one instance by a method, verify the answer, compare it, report timings.

``SchedulingService`` holds the model (a ``JSSPSolver`` loaded through ``jssp_sft.solve``, or none: then only CP-SAT,
the random control and the dispatching rules are offered, through ``solve_by_method`` as ``jssp-sft solve --method``
runs them), the batcher that shares generation calls between concurrent requests, and
the metrics. Every schedule it returns has been checked by the package's verifier; ``feasible`` and ``makespan`` are
the verifier's. CP-SAT, the rules and the controls run on worker threads, so the event loop keeps answering.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..core.codec import format_solution
from ..core.formats import schedule_to_dict
from ..core.instance import Instance
from ..core.schedule import Schedule
from ..core.verifier import verify
from ..solvers.controls import best_dispatching_rule, random_control
from ..solvers.dispatching import DEFAULT_VARIANT, RULES, VARIANTS
from ..solvers.methods import CPSAT, METHODS, MethodOptions, solve_by_method
from .batching import Batcher, QueueFull
from .config import ServeArguments
from .metrics import ServeMetrics


logger = logging.getLogger(__name__)

DECODINGS = ("free", "guaranteed")
DEFAULT_CPSAT_SECONDS = MethodOptions.time_limit  # a cap: CP-SAT stops at its deterministic budget first


class MethodError(ValueError):
    """An unknown or unavailable method or option (the service answers 400)."""


class Overloaded(RuntimeError):
    """Too many requests in flight (503 with Retry-After)."""


def schedule_json(instance: Instance, schedule: Schedule) -> dict:
    """A schedule in the JSON shape of ``jssp-sft solve --output x.json`` (``core.formats.schedule_to_dict``)."""
    return schedule_to_dict(instance, schedule)


def lift(makespan: int | None, baseline: int) -> float | None:
    """``(baseline - makespan) / baseline``: the share of the baseline's makespan an answer saves (above 0: better)."""
    if makespan is None or not baseline:
        return None
    return round((baseline - makespan) / baseline, 6)


@dataclass
class SolveParams:
    """A validated request: the instance and every option, with the server's defaults filled in."""

    instance: Instance
    method: str
    num_samples: int
    decoding: str = "guaranteed"
    temperature: float | None = None
    seed: int = 0
    time_limit: float = DEFAULT_CPSAT_SECONDS
    timeout: float = 120.0
    rule_variant: str = DEFAULT_VARIANT
    compare: bool = False
    timings: dict = field(default_factory=dict)


@dataclass
class Answer:
    """A verified schedule (or none) and facts about how it was found."""

    schedule: Schedule | None
    details: dict


class SchedulingService:
    """Methods, batching, verification and comparison behind the HTTP routes."""

    def __init__(self, args: ServeArguments, solver=None, metrics: ServeMetrics | None = None):
        self.args = args
        self.solver = solver
        self.metrics = metrics or ServeMetrics()
        self.in_flight = 0
        self.batcher = None
        if solver is not None:
            self._count_generation_calls(solver)
            self.batcher = Batcher(
                self._solve_batch,
                window_s=args.batch_window_ms / 1000,
                max_batch=args.max_batch,
                max_queue=args.max_queue,
                on_batch=self.metrics.batch_requests.observe,
            )

    @classmethod
    def from_arguments(cls, args: ServeArguments) -> SchedulingService:
        """Load ``args.model`` through the package's one loading path (``JSSPSolver.from_pretrained``)."""
        solver = None
        if args.model:
            local = Path(args.model)
            if local.is_dir() and not any((local / name).is_file() for name in ("config.json", "adapter_config.json")):
                raise ValueError(
                    f"--model {args.model} holds no model (no config.json or adapter_config.json): give a training "
                    "run's directory, a base model or a Hub id (in a container: mount the run at /model)"
                )

            from ..solve.solver import JSSPSolver

            logger.info("loading %s (%s backend)", args.model, args.backend)
            solver = JSSPSolver.from_arguments(args)
        return cls(args, solver)

    def _count_generation_calls(self, solver) -> None:
        """Count every call of the solver's ``sample`` hook (one per batch of prompts) in the metrics."""
        sample = solver.sample
        counter = self.metrics.generation_calls

        def counted_sample(*args, **kwargs):
            counter.inc()
            return sample(*args, **kwargs)

        solver.sample = counted_sample

    # ------------------------------------------------------------------------------------------ methods

    @property
    def default_decoding(self) -> str:
        """guaranteed where the backend lets us step the model (transformers), else free (vLLM)."""
        backend = getattr(getattr(self.solver, "backend", None), "name", "transformers")
        return "guaranteed" if backend == "transformers" else "free"

    @property
    def methods(self) -> list[str]:
        methods = ["model"] if self.solver is not None else []
        return [*methods, *(name.lower() for name in METHODS)]

    def check_method(self, method: str, rule_variant: str, decoding: str) -> str:
        """The method's canonical name, or a ``MethodError`` that lists the choices."""
        name = method.strip().lower()
        if name == "model" and self.solver is None:
            raise MethodError(
                "method 'model' is unavailable: this server runs without a model (start it with --model)"
            )
        if name not in self.methods:
            raise MethodError(f"unknown method {method!r}; choose one of {', '.join(self.methods)}")
        if name.upper() in RULES and rule_variant not in VARIANTS:
            raise MethodError(f"unknown rule_variant {rule_variant!r}; choose one of {', '.join(VARIANTS)}")
        if decoding not in DECODINGS:
            raise MethodError(f"unknown decoding {decoding!r}; choose one of {', '.join(DECODINGS)}")
        if name == "model" and decoding == "guaranteed" and self.default_decoding != "guaranteed":
            raise MethodError("decoding 'guaranteed' steps the model itself: it needs the transformers backend")
        return name

    async def start(self) -> None:
        if self.batcher is not None:
            self.batcher.start()

    async def stop(self) -> None:
        if self.batcher is not None:
            await self.batcher.stop()

    # ------------------------------------------------------------------------------------------ solving

    async def solve(
        self, params: SolveParams, rounds: int = 1, on_best: Callable[[Schedule, dict], None] | None = None
    ) -> dict:
        """Solve, verify and (when asked) compare; the answer of ``/v1/solve``. ``rounds`` > 1 splits the model's
        samples (or runs a dispatching rule before CP-SAT) so that ``on_best`` hears of better schedules as found."""
        if self.in_flight >= self.args.max_queue:
            self.metrics.errors.labels("overload").inc()
            raise Overloaded(f"{self.in_flight} requests are in flight (at most {self.args.max_queue})")
        self.in_flight += 1
        started = time.perf_counter()
        try:
            if params.method == "model":
                answer = await self._solve_model(params, rounds, on_best)
            else:
                answer = await self._solve_by_method(params, rounds, on_best)
            solved = time.perf_counter()
            response = self._response(params, answer)
            if params.compare:
                response["comparison"] = await asyncio.to_thread(self._compare, params, response["makespan"])
            params.timings["solve_s"] = round(solved - started, 4)
            params.timings["total_s"] = round(time.perf_counter() - started, 4)
            response["timings"] = dict(params.timings)
            self.metrics.solves.labels(params.method).inc()
            return response
        finally:
            self.in_flight -= 1

    def _response(self, params: SolveParams, answer: Answer) -> dict:
        instance = params.instance
        feasible, makespan, schedule = False, None, None
        if answer.schedule is not None:
            report = verify(instance, format_solution(answer.schedule.with_declared_makespan()))
            feasible = report.feasible
            if feasible:
                makespan = report.makespan
                schedule = schedule_json(instance, answer.schedule)
            else:  # never expected: every method hands over verified schedules; say so rather than answer it
                answer.details["verifier"] = report.violations[0].message
        return {
            "method": params.method,
            "num_jobs": instance.num_jobs,
            "num_machines": instance.num_machines,
            "feasible": feasible,
            "makespan": makespan,
            "schedule": schedule,
            "details": answer.details,
            "comparison": None,
        }

    def _model_overrides(self, params: SolveParams, num_samples: int, seed: int) -> dict:
        overrides = {"num_samples": num_samples, "decoding": params.decoding, "seed": seed, "repair": False}
        if params.temperature is not None:
            overrides["temperature"] = params.temperature
        return overrides

    def _solve_batch(self, problems, overrides: dict):
        """The batcher's work, on its worker thread: one ``solve_many`` call, one generation call for all."""
        return self.solver.solve_many(problems, batch_size=len(problems), **overrides)

    async def _solve_model(self, params: SolveParams, rounds: int, on_best) -> Answer:
        from ..solve import Problem

        rounds = max(1, min(rounds, params.num_samples))
        per_round = math.ceil(params.num_samples / rounds)
        best, best_source, feasible, drawn = None, None, 0, 0
        queued = time.perf_counter()
        for r in range(rounds):
            count = min(per_round, params.num_samples - drawn)
            if count <= 0:
                break
            overrides = self._model_overrides(params, count, params.seed + r)
            key = tuple(sorted(overrides.items()))
            problem = Problem.from_instance(params.instance, id="request")
            try:
                self.metrics.queue_depth.set(self.batcher.depth + 1)
                result = await self.batcher.submit(problem, key, overrides)
            except QueueFull as err:
                self.metrics.errors.labels("overload").inc()
                raise Overloaded(str(err)) from None
            finally:
                self.metrics.queue_depth.set(self.batcher.depth)
            drawn += count
            feasible += sum(s.report.feasible for s in result.samples)
            if result.schedule is not None and (best is None or result.makespan < best.makespan):
                best, best_source = result.schedule, result.best_source
                if on_best is not None:
                    on_best(best, {"samples_drawn": drawn})
        params.timings["model_s"] = round(time.perf_counter() - queued, 4)
        details = {
            "num_samples": drawn,
            "feasible_samples": feasible,
            "decoding": params.decoding,
            "best_source": best_source,
            "seed": params.seed,
        }
        return Answer(best, details)

    async def _solve_by_method(self, params: SolveParams, rounds: int, on_best) -> Answer:
        """CP-SAT, the random control or a rule, on a worker thread, through ``solve_by_method``; a CP-SAT job
        (``rounds`` > 1) first runs the best dispatching rule, as the best so far and CP-SAT's hint."""
        hint = None
        if params.method == CPSAT and rounds > 1:
            name, hint = await asyncio.to_thread(best_dispatching_rule, params.instance)
            if on_best is not None:
                on_best(hint, {"found_by": name})
        options = MethodOptions(rule_variant=params.rule_variant, time_limit=params.time_limit)
        result = await asyncio.to_thread(
            solve_by_method, params.instance, params.method, options, params.num_samples, params.seed, hint
        )
        details = {key: value for key, value in result.details.items() if key != "method"}
        return Answer(result.schedule, details)

    def _compare(self, params: SolveParams, makespan: int | None) -> list[dict]:
        """The seeded random control at the same N (the decoder's placement) and the best dispatching rule."""
        control = random_control(params.instance, num_samples=params.num_samples, seed=params.seed)
        name, rule_schedule = best_dispatching_rule(params.instance)
        return [
            {
                "name": "random_control",
                "makespan": control.makespan,
                "lift": lift(makespan, control.makespan),
                "num_samples": params.num_samples,
            },
            {
                "name": f"best_rule: {name}",
                "makespan": rule_schedule.makespan,
                "lift": lift(makespan, rule_schedule.makespan),
            },
        ]
