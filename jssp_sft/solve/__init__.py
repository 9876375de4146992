"""Solving with a model: sampling, guaranteed decoding, the generation backends, the solver and its results."""

from .solver import JSSPSolver, Problem, SolveConfig, SolverResult, benchmark_problems, dataset_problems
