"""The `jssp-sft` console script and its `verify` command."""

import json
import subprocess
import sys

import pytest
from conftest import EXAMPLE_INPUT, EXAMPLE_OUTPUT

from jssp_sft.cli.main import COMMANDS, main


def test_verify_command_reports_and_sets_the_exit_code(tmp_path, capsys):
    (tmp_path / "instance.txt").write_text(EXAMPLE_INPUT)
    (tmp_path / "good.txt").write_text(EXAMPLE_OUTPUT)
    (tmp_path / "bad.txt").write_text(EXAMPLE_OUTPUT.replace("24+5 -> 29", "20+5 -> 25"))
    assert (
        main(["verify", "--instance", str(tmp_path / "instance.txt"), "--solution", str(tmp_path / "good.txt")]) == 0
    )
    assert capsys.readouterr().out.startswith("feasible: makespan 29")
    code = main(
        ["verify", "--instance", str(tmp_path / "instance.txt"), "--solution", str(tmp_path / "bad.txt"), "--json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["feasible"] is False
    assert {v["kind"] for v in report["violations"]} >= {"precedence"}


def test_console_script_lists_its_commands():
    out = subprocess.run(
        [sys.executable, "-m", "jssp_sft.cli.main", "--help"], capture_output=True, text=True, check=True
    )
    for name in COMMANDS:
        assert name in out.stdout


def test_unknown_command_is_an_error():
    with pytest.raises(SystemExit):
        main(["frobnicate"])
