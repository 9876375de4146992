"""The package as users install it: a wheel built from the source, installed into a fresh virtual environment without
the source tree, runs ``jssp-sft quickstart --help`` and finds its default recipe (package data); the packaged
recipe equals the repository's ``recipes/`` file that users copy."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
PACKAGED_RECIPES = sorted((ROOT / "jssp_sft" / "recipes").rglob("*.yaml"))


def test_packaged_recipes_equal_the_repository_files():
    assert PACKAGED_RECIPES, "no recipe ships with the package"
    for packaged in PACKAGED_RECIPES:
        original = ROOT / "recipes" / packaged.relative_to(ROOT / "jssp_sft" / "recipes")
        assert packaged.read_text() == original.read_text(), f"{packaged} differs from {original}: copy it again"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built (with this venv's setuptools) from a copy of the sources, so the shared tree gets no build/."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "jssp_sft", source / "jssp_sft", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        cwd=source,
    )
    (built,) = out.glob("jssp_sft-*.whl")
    return built


def test_the_wheel_holds_the_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "jssp_sft/py.typed",
        "jssp_sft/recipes/tiny/sft/config.yaml",
        "jssp_sft/metrics/jssp_makespan/jssp_makespan.py",
        "jssp_sft/metrics/jssp_makespan/README.md",
    } <= names
    assert not any(name.startswith(("tests/", "recipes/", "bench/")) for name in names)


def test_installed_wheel_runs_quickstart_help_without_the_source_tree(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # torch, transformers, ... come from this venv's site-packages (a plain path line: its .pth files, among them the
    # editable install of jssp_sft, are not run); jssp_sft comes only from the wheel.
    (site / "main-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--ignore-installed",
            "--no-index",
            str(wheel),
        ],
        check=True,
    )
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": "", "COLUMNS": "1000"}  # no wrapped help lines
    found = subprocess.run(
        [python, "-c", "import jssp_sft, jssp_sft.quickstart as q; print(jssp_sft.__file__); print(q.DEFAULT_RECIPE)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
    ).stdout.split()
    package_file, recipe = (Path(line) for line in found)
    assert package_file.is_relative_to(venv) and recipe.is_relative_to(venv), found
    assert recipe.is_file() and recipe.name == "config.yaml"

    helped = subprocess.run(
        [venv / "bin" / "jssp-sft", "quickstart", "--help"], capture_output=True, text=True, cwd=workdir, env=env
    )
    assert helped.returncode == 0, helped.stderr
    assert f"(default: {recipe})" in helped.stdout, helped.stdout
