"""Solving with a model: sampling, guaranteed decoding, the generation backends, the solver and its results.

``config`` (``SolveConfig``), ``problems`` (``Problem`` and where problems come from), ``results`` (``Sample``,
``SolverResult``, the JSONL results file), ``solver`` (``JSSPSolver``), ``sampling`` (batched N-sample generation),
``guaranteed`` (decoding constrained to feasible schedules) and ``backends`` (transformers, vLLM).
"""

from .config import DECODING_MODES, SolveConfig
from .problems import DATASET_SPLITS, Problem, as_problem, benchmark_problems, dataset_problems
from .results import REPAIRED, WRITTEN, Sample, SolverResult, choose_best, read_results, solve_to_jsonl
from .solver import JSSPSolver
