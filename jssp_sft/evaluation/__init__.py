"""Evaluation: reports on solve results beside baselines and published rows, and their charts."""
