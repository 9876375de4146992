"""What the solver returns and where it keeps it: every sample with its verdict (``Sample``), the best answer of a
problem (``SolverResult``), and the JSONL results file (one line per instance) that a re-run continues."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.codec import format_instance, format_solution, parse_solution
from ..core.schedule import Schedule
from ..core.scoring import gap
from ..core.verifier import Report
from .problems import Problem


if TYPE_CHECKING:
    from .solver import JSSPSolver

logger = logging.getLogger(__name__)

# Where the best answer came from: the model's text feasible as written, or a repaired schedule.
WRITTEN, REPAIRED = "written", "repaired"
# The fields of a results line that must agree for a re-run to continue a file.
RESUME_KEYS = (
    "model",
    "template",
    "system_prompt",
    "backend",
    "decoding",
    "repair",
    "num_samples",
    "temperature",
    "top_p",
    "top_k",
    "max_new_tokens",
    "seed",
    # a run without a model (``method_solver.MethodSolver``)
    "method",
    "rule_variant",
    "deterministic_time",
    "time_limit",
    "workers",
)


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
