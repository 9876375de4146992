"""README's and docs/'s commands run as written: every ```bash command either runs here, on CPU and offline, in a
scratch directory beside the repository's examples/, tests/, recipes/ and bench/ and the running environment as
.venv/ (so it writes only under its outputs/), or says why it cannot with a trailing tag and how long it takes:

    jssp-sft train --config recipes/...  # GPU: not run here
    make train  # long: 11-19 min on 2 CPU cores

Tags: ``long`` (minutes), ``model`` (needs ``make train``'s model), ``server`` (needs ``jssp-sft serve`` running),
``GPU``, ``network``, ``make`` (a make target, which installs first). A tagged command must state a time (``40 s``,
``11 min``, ``2 h``) or ``not run``. The commands of a page run in order, so a later one reads an earlier one's files.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TAGS = ("long", "model", "server", "GPU", "network", "make")
TAG = re.compile(r"\s#\s*(" + "|".join(TAGS) + r")\b:?(.*)$")
TIME = re.compile(r"\b\d+(\.\d+)?(-\d+)?\s*(s|min|minutes|h|hours?)\b|\bnot run\b|\bat once\b")
LINKED = ("examples", "tests", "recipes", "bench")  # what the commands read, linked into the scratch directory
COMMAND_TIMEOUT = 240


def commands(page: Path) -> list[tuple[int, str]]:
    """``(line number, command)`` of every command in the page's ```bash blocks: continuation lines joined, comment
    lines and blank lines left out."""
    found, block, start, pending = [], False, 0, None
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if line.startswith("```"):
            block = line.strip() == "```bash"
            continue
        if not block or (pending is None and (not line.strip() or line.lstrip().startswith("#"))):
            continue
        if pending is None:
            start, pending = number, ""
        pending += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            found.append((start, pending.strip()))
            pending = None
    return found


def tag_of(command: str) -> tuple[str, str] | None:
    match = TAG.search(command)
    return (match.group(1), match.group(2)) if match else None


ALL = [(page, number, command) for page in PAGES for number, command in commands(page)]


def test_the_pages_have_commands_and_the_readme_is_a_front_page():
    assert len(ALL) > 40
    assert len((ROOT / "README.md").read_text().splitlines()) <= 300


@pytest.mark.parametrize(
    "page, number, command", [x for x in ALL if tag_of(x[2])], ids=lambda x: str(x)[:40] if isinstance(x, str) else ""
)
def test_every_command_not_run_here_says_why_and_how_long(page, number, command):
    tag, text = tag_of(command)
    assert TIME.search(text), f"{page.name}:{number}: a '{tag}' command states its time or 'not run': {command}"


def run_page(page: Path, tmp_path: Path) -> list[str]:
    """Run the page's untagged commands in order in a scratch directory; the failures, described."""
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".venv").symlink_to(sys.prefix)  # `source .venv/bin/activate`: the environment running the tests
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HF_HUB_OFFLINE": "1",
    }
    failures = []
    for number, command in commands(page):
        if tag_of(command):
            continue
        result = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
        )
        if result.returncode != 0:
            failures.append(f"{page.name}:{number}: exit {result.returncode}: {command}\n{result.stderr[-2000:]}")
    return failures


@pytest.mark.parametrize(
    "page", [p for p in PAGES if any(not tag_of(c) for _, c in commands(p))], ids=lambda p: p.name
)
def test_the_quick_commands_run_as_written(page, tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    failures = run_page(page, tmp_path)
    assert not failures, "\n".join(failures)
    assert not [p for p in tmp_path.iterdir() if p.name not in (*LINKED, ".venv", "outputs")], "write only in outputs/"
