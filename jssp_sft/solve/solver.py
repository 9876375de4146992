"""Solve job-shop instances with a trained model: best-of-N sampling, every sample verified, the best one kept.

``JSSPSolver.from_pretrained(model)`` loads a base model, a training run's output (a LoRA adapter or a merged model)
or a Hub id, with the prompt template and system prompt the run saved (``templates.PromptFormat``), so prompts are
built exactly as in training. ``solve`` answers one problem; ``solve_many`` batches prompts and samples (one prompt
pass shared by the N samples of a prompt); ``solve_to_jsonl`` writes one JSON line per instance and resumes an
interrupted file. ``jssp-sft solve`` is a thin layer over these.

Decoding modes and repair are hooks: ``decoding="free"`` samples freely; ``"guaranteed"`` and ``repair=True`` come
from ``jssp_sft.solve.guaranteed`` and ``jssp_sft.solvers.repair``. Whatever produced an answer, the verifier has the last word.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..core.codec import format_solution, parse_instance, parse_solution, record_makespan
from ..core.instance import Instance
from ..core.schedule import Operation, Schedule
from ..core.scoring import gap, verify_prediction
from ..core.verifier import Report
from ..data.templates import PromptFormat
from .sampling import GenerationOutput, SamplingSettings, prompt_token_ids


logger = logging.getLogger(__name__)

DECODING_MODES = ("free", "guaranteed")
DATASET_SPLITS = ("all", "train", "test")
WRITTEN, REPAIRED = "written", "repaired"
# The fields of a results line that must agree for a re-run to continue a file.
RESUME_KEYS = (
    "model", "template", "system_prompt", "backend", "decoding", "repair", "num_samples", "temperature", "top_p",
    "top_k", "max_new_tokens", "seed",
)  # fmt: skip


# ---------------------------------------------------------------------------------------------------- settings


@dataclass
class SolveConfig:
    """How to sample and choose answers; every field can be overridden per call (``solver.solve(x, num_samples=4)``).

    ``max_new_tokens=None`` sizes the budget to each batch's largest instance (a canonical answer's length plus a
    margin), so a long instance is never cut by a budget sized for a short one.
    """

    num_samples: int = field(
        default=20, metadata={"help": "Answers sampled per instance (the Starjob paper used 20)."}
    )
    temperature: float = field(
        default=SamplingSettings.temperature, metadata={"help": "Sampling temperature; 0 means greedy."}
    )
    top_p: float = field(default=SamplingSettings.top_p, metadata={"help": "Nucleus sampling mass."})
    top_k: int | None = field(default=SamplingSettings.top_k, metadata={"help": "Keep the k most likely tokens."})
    max_new_tokens: int | None = field(
        default=None, metadata={"help": "Longest answer in tokens; default: enough for the batch's largest instance."}
    )
    batch_size: int = field(
        default=8, metadata={"help": "Instances per generation batch (each with its num_samples answers)."}
    )
    decoding: str = field(
        default="free",
        metadata={"help": "free: plain sampling; guaranteed: constrained so every answer is feasible.",
                  "choices": list(DECODING_MODES)},
    )  # fmt: skip
    repair: bool = field(
        default=False,
        metadata={"help": "Repair infeasible answers (jssp_sft.solvers.repair); counted apart from feasible."},
    )
    seed: int = field(default=0, metadata={"help": "Random seed of the sampling."})

    def __post_init__(self):
        if self.num_samples < 1 or self.batch_size < 1:
            raise ValueError("num_samples and batch_size must be >= 1")
        if self.decoding not in DECODING_MODES:
            raise ValueError(f"unknown decoding {self.decoding!r}; choose one of {', '.join(DECODING_MODES)}")
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")

    def sampling(self, max_new_tokens: int) -> SamplingSettings:
        return SamplingSettings(
            max_new_tokens=max_new_tokens, temperature=self.temperature, top_p=self.top_p, top_k=self.top_k,
            do_sample=self.temperature > 0,
        )  # fmt: skip

    def replace(self, **overrides) -> SolveConfig:
        """A copy with ``overrides`` (``None`` values are ignored, except for ``top_k``/``max_new_tokens``)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(
                f"unknown solve option(s) {', '.join(unknown)}; the options are {', '.join(sorted(names))}"
            )
        return dataclasses.replace(self, **overrides)


# ---------------------------------------------------------------------------------------------------- problems


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
            id=info.name, instance=instance, group=info.group, bound=info.upper_bound,
            bound_source=f"best known upper bound, {info.source}", bound_optimal=info.optimal,
        )  # fmt: skip


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


# ----------------------------------------------------------------------------------------------------- results


@dataclass
class Sample:
    """One sampled answer and its verdict; ``repaired`` holds the repaired schedule when repair made it feasible."""

    text: str
    report: Report
    num_tokens: int
    finished: bool
    seconds: float
    repaired: Schedule | None = None

    @property
    def answer_makespan(self) -> int | None:
        """The makespan of this sample's answer: as written if feasible, else repaired, else ``None``."""
        if self.report.feasible:
            return self.report.makespan
        return self.repaired.makespan if self.repaired is not None else None

    def to_dict(self, include_text: bool = False) -> dict:
        out = {
            "feasible": self.report.feasible,
            "parsed": self.report.parsed,
            "makespan": self.report.makespan,
            "declared_makespan": self.report.declared_makespan,
            "makespan_matches": self.report.makespan_matches,
            "violations": dict(sorted(self.report.counts().items())),
            "first_violation": self.report.violations[0].message if self.report.violations else None,
            "repaired": self.repaired is not None,
            "repaired_makespan": self.repaired.makespan if self.repaired is not None else None,
            "tokens": self.num_tokens,
            "finished": self.finished,
            "seconds": round(self.seconds, 4),
        }
        if include_text:
            out["text"] = self.text
        return out


def choose_best(samples: Sequence[Sample]) -> int | None:
    """Index of the best answer: the lowest makespan; ties go to an answer feasible as written, then to one that
    declares its makespan correctly, then to the earliest sample. ``None`` when no answer is feasible."""
    ranked = [
        (s.answer_makespan, not s.report.feasible, s.report.makespan_matches is not True, i)
        for i, s in enumerate(samples)
        if s.answer_makespan is not None
    ]
    return min(ranked)[3] if ranked else None


@dataclass
class SolverResult:
    """Every sample of one problem, and the best verified answer among them."""

    problem: Problem
    samples: list[Sample]
    best_index: int | None = None
    config: dict = field(default_factory=dict)

    @property
    def best(self) -> Sample | None:
        return None if self.best_index is None else self.samples[self.best_index]

    @property
    def best_source(self) -> str | None:
        """``"written"`` (feasible as the model wrote it), ``"repaired"``, or ``None`` (no feasible answer)."""
        best = self.best
        return None if best is None else WRITTEN if best.report.feasible else REPAIRED

    @property
    def feasible(self) -> bool:
        """Whether any sample is feasible as written."""
        return any(s.report.feasible for s in self.samples)

    @property
    def schedule(self) -> Schedule | None:
        """The best schedule (as written, or repaired)."""
        best = self.best
        if best is None:
            return None
        return parse_solution(best.text) if best.report.feasible else best.repaired

    @property
    def text(self) -> str | None:
        """The best answer's text: the model's own, or the repaired schedule in canonical form."""
        best = self.best
        if best is None:
            return None
        return best.text if best.report.feasible else format_solution(best.repaired.with_declared_makespan())

    @property
    def makespan(self) -> int | None:
        return None if self.best is None else self.best.answer_makespan

    @property
    def gap(self) -> float | None:
        """``(makespan - bound) / bound`` of the best answer; ``None`` without an answer or a bound."""
        if self.makespan is None or not self.problem.bound:
            return None
        return gap(self.makespan, self.problem.bound)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.samples)

    def to_dict(self, include_sample_texts: bool = False) -> dict:
        """The JSON line of ``solve_to_jsonl`` (see ``read_results`` for the fields)."""
        from ..core.codec import format_instance

        problem = self.problem
        best = self.best
        return {
            "id": problem.id,
            "group": problem.group,
            "size": problem.size,
            "num_jobs": problem.instance.num_jobs,
            "num_machines": problem.instance.num_machines,
            "bound": problem.bound,
            "bound_source": problem.bound_source,
            "bound_optimal": problem.bound_optimal,
            "input": format_instance(problem.instance),
            "feasible": self.feasible,
            "best_sample": self.best_index,
            "best_source": self.best_source,
            "best_makespan": self.makespan,
            "best_makespan_matches": None if best is None else best.report.makespan_matches,
            "best_text": self.text,
            "gap": self.gap,
            "seconds": round(self.seconds, 4),
            "samples": [s.to_dict(include_sample_texts) for s in self.samples],
            "config": self.config,
        }


# ------------------------------------------------------------------------------------------------------ solver


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
        """``backend`` samples (``jssp_sft.solve.backends``); ``repair_function(instance, text) -> Schedule | str | None``
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
                saved = PromptFormat(template)
            prompt_format = PromptFormat(
                saved.template, saved.system_prompt if system_prompt is None else system_prompt
            )
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
                for result in self._solve_batch(batch, config, run_config):
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

    def _solve_batch(self, batch: Sequence[Problem], config: SolveConfig, run_config: dict) -> list[SolverResult]:
        prompts = [self.prompt_for(p) for p in batch]
        budget = config.max_new_tokens or max(answer_token_budget(p.instance, self.tokenizer) for p in batch)
        budget = self._fit_context(prompts, budget)
        settings = config.sampling(budget)
        seed = config.seed + zlib.crc32(batch[0].id.encode())
        started = time.perf_counter()
        output = self.sample(prompts, batch, config.num_samples, settings, config.decoding, seed)
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
                "cut to %d (long answers will be truncated)", budget, context, longest, max(room, 1),
            )  # fmt: skip
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
    ) -> GenerationOutput:
        """``num_samples`` answers per prompt in the given decoding mode (``problems`` give the instances that a
        constrained mode needs)."""
        if decoding == "free":
            return self.backend.generate(prompts, num_samples, settings, seed)
        if decoding == "guaranteed":
            from .guaranteed import guaranteed_generate

            model = getattr(self.backend, "model", None)
            if model is None:
                raise ValueError(
                    f"decoding='guaranteed' steps the model's forward pass itself: it needs the transformers backend, "
                    f"not {self.backend.name!r}"
                )
            instances = [problem.instance for problem in problems]
            return guaranteed_generate(model, self.tokenizer, prompts, num_samples, settings, batch_size=len(prompts),
                                       seed=seed, instances=instances)  # fmt: skip
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
    """``jssp_sft.solvers.repair.repair(instance, text) -> Schedule | str | None``, or an error saying it is missing."""
    try:
        from ..solvers.repair import repair
    except ImportError as err:
        raise ImportError(f"repair=True needs jssp_sft.solvers.repair, which cannot be imported: {err}") from err
    return repair


# ------------------------------------------------------------------------------------------------- JSONL files


def read_results(path: str | Path, allow_torn_tail: bool = True) -> tuple[list[dict], int]:
    """The lines of a results file and the byte length of its good part.

    A last line that is incomplete (no newline, or not valid JSON: a run was killed while writing) is left out
    with a warning when ``allow_torn_tail``; any other bad line, or an id seen twice, is a ``ValueError`` naming it.

    Each line holds: ``id``, ``group``, ``size``, ``num_jobs``, ``num_machines``, ``bound`` (``bound_source``,
    ``bound_optimal``), ``input`` (the instance, canonical), ``feasible`` (any sample feasible as written),
    ``best_sample``, ``best_source`` (``written``/``repaired``/null), ``best_makespan``, ``best_makespan_matches``,
    ``best_text``, ``gap``, ``seconds``, ``samples`` (per sample: ``feasible``, ``parsed``, ``makespan``,
    ``declared_makespan``, ``makespan_matches``, ``violations`` (kind -> count), ``first_violation``, ``repaired``,
    ``repaired_makespan``, ``tokens``, ``finished``, ``seconds``, and ``text`` when sample texts are kept) and
    ``config`` (model, template, backend, decoding, repair, sampling settings, seed).
    """
    data = Path(path).read_bytes()
    lines, good_end, seen = [], 0, {}
    position = 0
    number = 0
    while position < len(data):
        newline = data.find(b"\n", position)
        end = len(data) if newline < 0 else newline + 1
        number += 1
        chunk = data[position:end]
        is_last = end == len(data)
        try:
            line = json.loads(chunk) if chunk.strip() else None
            if line is not None and not isinstance(line, dict):
                raise ValueError("not a JSON object")
            if newline < 0 and line is not None:
                raise ValueError("no newline at the end")
        except ValueError as err:
            if is_last and allow_torn_tail:
                logger.warning("%s: line %d is incomplete (%s); it is left out", path, number, err)
                break
            raise ValueError(f"{path}: line {number} is not a results line: {err}") from None
        if line is not None:
            if "id" not in line or "samples" not in line:
                raise ValueError(f"{path}: line {number} has no 'id' or 'samples': not a solve results line")
            if line["id"] in seen:
                raise ValueError(f"{path}: line {number} repeats id {line['id']!r} (first on line {seen[line['id']]})")
            seen[line["id"]] = number
            lines.append(line)
        good_end = end
        position = end
    return lines, good_end


def solve_to_jsonl(
    solver: JSSPSolver,
    problems: Sequence[Problem],
    output: str | Path,
    overwrite: bool = False,
    include_sample_texts: bool = False,
    show_progress: bool = True,
    **overrides,
) -> list[dict]:
    """Solve ``problems`` into a JSONL file, one line per instance, flushed batch by batch.

    An existing file is continued: the problems it already holds are skipped (a torn last line is cut off first);
    a file written with other settings (see ``RESUME_KEYS``) is refused unless ``overwrite``. Returns every line of
    the finished file.
    """
    ids = [p.id for p in problems]
    if len(set(ids)) != len(ids):
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"problem ids must be unique; repeated: {', '.join(duplicated[:5])}")
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = solver.config.replace(**overrides)
    expected = solver.run_config(config)
    done: list[dict] = []
    if path.exists() and not overwrite:
        done, good_end = read_results(path)
        if good_end < path.stat().st_size:
            with path.open("r+b") as handle:
                handle.truncate(good_end)
        for line in done:
            stored = line.get("config", {})
            differing = [k for k in RESUME_KEYS if k in expected and stored.get(k) != expected[k]]
            if differing:
                key = differing[0]
                raise ValueError(
                    f"{path} was written with {key}={stored.get(key)!r} (line of {line['id']!r}), this run has "
                    f"{key}={expected[key]!r}: use another --output, or --overwrite to start it again"
                )
    elif path.exists():
        path.unlink()
    finished = {line["id"] for line in done}
    todo = [p for p in problems if p.id not in finished]
    if done:
        logger.info("%s: %d instances already solved, %d to go", path, len(problems) - len(todo), len(todo))
    with path.open("a") as handle:
        for result in solver.iter_solve(todo, show_progress=show_progress, **overrides):
            line = result.to_dict(include_sample_texts)
            handle.write(json.dumps(line) + "\n")
            handle.flush()
            done.append(line)
    return done
