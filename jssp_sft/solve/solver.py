"""Solve job-shop instances with a trained model: best-of-N sampling, every sample verified, the best one kept.

``JSSPSolver.from_pretrained(model)`` loads a base model, a training run's output (a LoRA adapter or a merged model)
or a Hub id, with the prompt template and system prompt the run saved (``templates.PromptFormat``), so prompts are
built exactly as in training. ``solve`` answers one problem; ``solve_many`` batches prompts and samples (one prompt
pass shared by the N samples of a prompt); ``results.solve_to_jsonl`` writes one JSON line per instance and resumes an
interrupted file. ``jssp-sft solve`` is a thin layer over these.

Decoding modes and repair are hooks: ``decoding="free"`` samples freely; ``"guaranteed"`` and ``repair=True`` come
from ``jssp_sft.solve.guaranteed`` and ``jssp_sft.solvers.repair``. Whatever produced an answer, the verifier has the
last word.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ..core.codec import format_solution, parse_solution
from ..core.instance import Instance
from ..core.schedule import Operation, Schedule
from ..core.scoring import verify_prediction
from ..data.templates import PromptFormat
from ..solvers.controls import instance_seed
from .config import DECODING_MODES, SolveConfig, SolverModelArguments
from .problems import Problem, as_problem
from .results import REPAIRED, RESUME_KEYS, Sample, SolverResult, choose_best
from .sampling import GenerationOutput, SamplingSettings, prompt_token_ids


logger = logging.getLogger(__name__)


def answer_token_budget(instance: Instance, tokenizer, margin: float = 1.25) -> int:
    """Tokens enough for a canonical answer to ``instance`` (every number as wide as the horizon), plus a margin."""
    horizon = sum(d for job in instance.jobs for _, d in job)
    ops = (
        Operation(j, k, m, horizon, d, horizon + d)
        for j, job in enumerate(instance.jobs)
        for k, (m, d) in enumerate(job)
    )
    text = format_solution(Schedule(tuple(ops)), makespan=2 * horizon)
    return int(len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]) * margin) + 16


class JSSPSolver:
    """Best-of-N job-shop solving with a language model: prompts from the run's template, every answer verified.

    >>> solver = JSSPSolver.from_pretrained("outputs/tiny-sft")          # doctest: +SKIP
    >>> result = solver.solve(instance, num_samples=8, temperature=1.0)  # doctest: +SKIP
    >>> result.makespan, result.best_source, [s.report.feasible for s in result.samples]  # doctest: +SKIP
    """

    def __init__(
        self,
        backend,
        prompt_format: PromptFormat | None = None,
        config: SolveConfig | None = None,
        model_name: str | None = None,
        repair_function=None,
    ):
        """``backend`` samples (``jssp_sft.solve.backends``);
        ``repair_function(instance, text) -> Schedule | str | None``
        is used when ``repair=True`` (default: ``jssp_sft.solvers.repair.repair``, loaded when first needed)."""
        self.backend = backend
        self.tokenizer = backend.tokenizer
        self.prompt_format = prompt_format or PromptFormat()
        self.config = config or SolveConfig()
        self.model_name = model_name
        self.repair_function = repair_function

    @classmethod
    def from_pretrained(
        cls,
        model_name_or_path: str,
        *,
        backend: str = "transformers",
        base_model: str | None = None,
        revision: str | None = None,
        dtype: str = "auto",
        device: str = "auto",
        attn_implementation: str | None = None,
        load_in_4bit: bool = False,
        trust_remote_code: bool = False,
        prompt_format: PromptFormat | None = None,
        template: str | None = None,
        system_prompt: str | None = None,
        config: SolveConfig | None = None,
        backend_kwargs: Mapping | None = None,
        **config_overrides,
    ) -> JSSPSolver:
        """Load a base model, a training run's output (adapter or merged) or a Hub id.

        The prompt template and system prompt come from the run's saved ``PromptFormat`` (defaults for a base model);
        ``template``/``system_prompt`` override them (a new template drops the saved system prompt), or
        ``prompt_format`` replaces them. An adapter is loaded on the base model its config names, or on
        ``base_model``. ``backend`` names one of ``jssp_sft.solve.backends.BACKENDS``; ``backend_kwargs`` are its own
        options (vLLM's engine arguments). ``config_overrides`` set ``SolveConfig`` fields (``num_samples=8``, ...).
        """
        from ..modeling.loading import adapter_base_model, load_tokenizer, resolve_run_files, tokenizer_source
        from .backends import ModelSpec, check_backend, load_backend

        check_backend(backend)
        files = resolve_run_files(model_name_or_path, revision)
        if prompt_format is None:
            saved = PromptFormat.from_pretrained(files)
            if template is not None and template != saved.template:
                saved = dataclasses.replace(saved, template=template, system_prompt=None)
            if system_prompt is not None:
                saved = dataclasses.replace(saved, system_prompt=system_prompt)
            prompt_format = saved
        adapter_base = adapter_base_model(files)
        if adapter_base is None and base_model is not None:
            raise ValueError(f"base_model is for adapters, but {model_name_or_path} holds no adapter_config.json")
        tokenizer_name, tokenizer_revision = tokenizer_source(model_name_or_path, revision, base_model)
        spec = ModelSpec(
            name_or_path=model_name_or_path,
            tokenizer=load_tokenizer(tokenizer_name, tokenizer_revision, trust_remote_code),
            tokenizer_name_or_path=tokenizer_name,
            base_model=None if adapter_base is None else base_model or adapter_base,
            revision=revision,
            dtype=dtype,
            device=device,
            attn_implementation=attn_implementation,
            load_in_4bit=load_in_4bit,
            trust_remote_code=trust_remote_code,
            seed=(config or SolveConfig()).seed,
        )
        engine = load_backend(backend, spec, **dict(backend_kwargs or {}))
        config = (config or SolveConfig()).replace(**config_overrides)
        return cls(engine, prompt_format, config, model_name=model_name_or_path)

    @classmethod
    def from_arguments(cls, args: SolverModelArguments, config: SolveConfig | None = None) -> JSSPSolver:
        """The solver of ``args.model`` loaded with the command-line options ``solve``, ``evaluate`` and ``serve``
        share, sampling with ``config``: each option is the ``from_pretrained`` keyword of its name, but the vLLM
        engine's (``backend_kwargs``)."""
        vllm_options = ("gpu_memory_utilization", "tensor_parallel_size")
        options = {
            f.name: getattr(args, f.name)
            for f in dataclasses.fields(SolverModelArguments)
            if f.name not in ("model", *vllm_options)
        }
        backend_kwargs = {name: getattr(args, name) for name in vllm_options} if args.backend == "vllm" else None
        return cls.from_pretrained(args.model, config=config, backend_kwargs=backend_kwargs, **options)

    # ----- prompts

    def prompt_for(self, problem: Problem) -> str:
        """The exact text the model is given for ``problem``, built as in training."""
        if problem.prompt is not None:
            return problem.prompt
        source = problem.record if problem.record is not None else problem.instance
        return self.prompt_format.prompt_text(source, self.tokenizer)

    def run_config(self, config: SolveConfig) -> dict:
        """What identifies a run's answers (stored on every results line; a resumed file must match it)."""
        return {
            "model": self.model_name,
            "template": self.prompt_format.template,
            "system_prompt": self.prompt_format.system_prompt,
            "backend": self.backend.name,
            **{key: getattr(config, key) for key in RESUME_KEYS if hasattr(config, key)},
        }

    # ----- solving

    def solve(self, problem: Problem | Instance | Mapping | str, **overrides) -> SolverResult:
        """Sample ``num_samples`` answers for one problem (an ``Instance``, a Starjob record, an ``input`` text or a
        whole prompt), verify each, and keep the best. ``overrides`` set ``SolveConfig`` fields for this call."""
        return self.solve_many([problem], **overrides)[0]

    def solve_many(
        self, problems: Iterable[Problem | Instance | Mapping | str], show_progress: bool = False, **overrides
    ) -> list[SolverResult]:
        """``solve`` for many problems, batched; results in the order of ``problems``."""
        problems = [as_problem(p, i) for i, p in enumerate(problems)]
        results = {id(r.problem): r for r in self.iter_solve(problems, show_progress=show_progress, **overrides)}
        return [results[id(p)] for p in problems]

    def iter_solve(
        self, problems: Sequence[Problem], show_progress: bool = False, **overrides
    ) -> Iterator[SolverResult]:
        """Solve ``problems`` batch by batch (largest first, so a batch holds similar lengths), yielding each result
        as soon as its batch is verified. A tqdm bar shows the running rate of instances with a feasible answer."""
        from tqdm.auto import tqdm

        config = self.config.replace(**overrides)
        if config.repair and self.repair_function is None:
            self.repair_function = load_repair()
        run_config = self.run_config(config)
        order = sorted(problems, key=lambda p: -p.instance.num_operations)
        bar = tqdm(total=len(order), desc="solving", unit="instance", disable=not show_progress)
        solved = feasible = repaired = 0
        try:
            for start in range(0, len(order), config.batch_size):
                batch = order[start : start + config.batch_size]
                for result in self._solve_batch(batch, config, run_config, show_progress):
                    solved += 1
                    feasible += result.feasible
                    repaired += result.best_source == REPAIRED
                    bar.update(1)
                    postfix = {"feasible": f"{feasible}/{solved} ({feasible / solved:.0%})"}
                    if config.repair:
                        postfix["repaired"] = repaired
                    bar.set_postfix(postfix)
                    yield result
        finally:
            bar.close()

    def _solve_batch(
        self, batch: Sequence[Problem], config: SolveConfig, run_config: dict, show_progress: bool = False
    ) -> list[SolverResult]:
        prompts = [self.prompt_for(p) for p in batch]
        budget = config.max_new_tokens or max(answer_token_budget(p.instance, self.tokenizer) for p in batch)
        budget = self._fit_context(prompts, budget)
        settings = config.sampling(budget)
        seed = instance_seed(config.seed, batch[0].instance)  # the controls' rule: content, never the name
        started = time.perf_counter()
        output = self.sample(prompts, batch, config.num_samples, settings, config.decoding, seed, show_progress)
        elapsed = time.perf_counter() - started
        total_tokens = output.total_tokens
        results = []
        for i, problem in enumerate(batch):
            samples = []
            for text, tokens, finished in zip(output.texts[i], output.num_tokens[i], output.finished[i]):
                share = tokens / total_tokens if total_tokens else 1 / (len(batch) * config.num_samples)
                report = verify_prediction(problem.instance, text)
                repaired = None
                if config.repair and not report.feasible:
                    repaired = self.repair(problem.instance, text)
                samples.append(Sample(text, report, tokens, finished, elapsed * share, repaired))
            results.append(SolverResult(problem, samples, choose_best(samples), run_config))
        return results

    def _fit_context(self, prompts: Sequence[str], budget: int) -> int:
        """``budget`` cut to what the model's context leaves after the longest prompt (with a warning)."""
        context = getattr(self.backend, "context_length", None)
        if not context:
            return budget
        longest = max(len(ids) for ids in prompt_token_ids(self.tokenizer, prompts))
        room = context - longest
        if room < budget:
            logger.warning(
                "the answer budget of %d tokens does not fit the model's context of %d after a %d-token prompt; "
                "cut to %d (long answers will be truncated)",
                budget,
                context,
                longest,
                max(room, 1),
            )
            return max(room, 1)
        return budget

    # ----- hooks: decoding modes and repair

    def sample(
        self,
        prompts: Sequence[str],
        problems: Sequence[Problem],
        num_samples: int,
        settings: SamplingSettings,
        decoding: str = "free",
        seed: int | None = None,
        show_progress: bool = False,
    ) -> GenerationOutput:
        """``num_samples`` answers per prompt in the given decoding mode (``problems`` give the instances that a
        constrained mode needs); ``show_progress``: free decoding shows its generated tokens."""
        if decoding == "free":
            return self.backend.generate(prompts, num_samples, settings, seed, show_progress=show_progress)
        if decoding == "guaranteed":
            guaranteed_generate = getattr(self.backend, "guaranteed_generate", None)
            if guaranteed_generate is None:
                raise ValueError(
                    f"decoding='guaranteed' steps the model's forward pass itself: it needs the transformers backend, "
                    f"not {self.backend.name!r} (with {self.backend.name!r}, pass --decoding free)"
                )
            instances = [problem.instance for problem in problems]
            return guaranteed_generate(
                prompts, num_samples, settings, seed, instances=instances, **self.prompt_format.decoding_options()
            )
        raise ValueError(f"unknown decoding {decoding!r}; choose one of {', '.join(DECODING_MODES)}")

    def repair(self, instance: Instance, text: str) -> Schedule | None:
        """A feasible schedule made from an infeasible answer, or ``None``; verified here, whatever repair returns."""
        if self.repair_function is None:
            self.repair_function = load_repair()
        try:
            repaired = self.repair_function(instance, text)
        except Exception as err:  # noqa: BLE001 - model output must never stop a run
            logger.debug("repair failed: %s", err)
            return None
        if repaired is None:
            return None
        if isinstance(repaired, str):
            repaired = parse_solution(repaired)
        report = verify_prediction(instance, format_solution(repaired.with_declared_makespan()))
        if not report.feasible:
            logger.warning("repair returned an infeasible schedule (%s); ignored", report.violations[0].message)
            return None
        return repaired


def load_repair():
    """``jssp_sft.solvers.repair.repair(instance, text) -> Schedule | str | None``, or an error saying it is
    missing."""
    try:
        from ..solvers.repair import repair
    except ImportError as err:
        raise ImportError(f"repair=True needs jssp_sft.solvers.repair, which cannot be imported: {err}") from err
    return repair
