"""Benchmark instances with best known bounds, Taillard's generator, and published results to compare against."""

from .instances import GROUPS, BenchmarkInfo, benchmark_names, benchmark_sizes, load_benchmark, load_group
