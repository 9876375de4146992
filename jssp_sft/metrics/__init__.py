"""``evaluate`` metric modules shipped inside the package, loadable offline with ``evaluate.load(path(name))``."""

from __future__ import annotations

from pathlib import Path


_HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    """Names of the metric modules shipped with the package."""
    return sorted(p.name for p in _HERE.iterdir() if (p / f"{p.name}.py").is_file())


def path(name: str = "jssp_makespan") -> str:
    """The directory of a shipped metric module: ``evaluate.load(jssp_sft.metrics.path("jssp_makespan"))``."""
    directory = _HERE / name
    if not (directory / f"{name}.py").is_file():
        raise ValueError(f"no metric module named {name!r}; available: {', '.join(available())}")
    return str(directory)
