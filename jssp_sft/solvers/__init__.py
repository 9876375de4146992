"""Classic solvers to compare a model against and to label data with: CP-SAT, dispatching rules, repair."""
