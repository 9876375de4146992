"""The `jssp-sft` console script and its `verify` command."""

import json
import os
import re
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


def _help(command: str, capsys, flag: str = "--help") -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([command, flag])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_says_each_thing_once(command, capsys):
    """One spelling per option, no "(default: None)", a default not repeated, --no_x described as turning --x off."""
    text = _help(command, capsys)
    assert "(default: None)" not in text and "(default: False)" not in text
    entries = [  # each option's text, without its name and metavar
        " ".join(w for w in entry.split() if not w.startswith("-") and not w.isupper())
        for entry in re.split(r"\n  (?=-)", text)
    ]
    assert not [e for e in entries if "(default:" in e and "default" in e.replace("(default:", "", 1).lower()]
    options = [word for word in text.split() if word.startswith("--") and word.strip(",") == word]
    hyphenated = [o for o in options if "-" in o[2:] and o.replace("-", "_")[2:] in {p[2:] for p in options}]
    assert not hyphenated  # --output_dir is not shown again as --output-dir
    for line in text.splitlines():
        if line.strip().startswith("--no_"):
            name = line.split()[0][len("--no_") :]
            assert f"Turn --{name} off." in " ".join(text[text.index(line) :].split()[:8])


def test_improve_help_lists_the_package_options_first_and_the_rest_on_request(capsys):
    short = _help("improve", capsys)
    assert "--num_rounds" in short and "--job_choice_loss_weight" in short  # the package's own options
    assert "--learning_rate" in short and "--model_name_or_path" in short  # common TRL/Transformers options
    assert "--adam_beta1" not in short and "--help_all lists them" in short
    assert short.index("--num_rounds") < short.index("--learning_rate")
    full = _help("improve", capsys, "--help_all")
    assert "--adam_beta1" in full and len(full.splitlines()) > 2 * len(short.splitlines())
    assert len(short.splitlines()) < 300


def test_the_console_script_lets_idle_openmp_threads_sleep():
    """On shared cores spinning OpenMP threads made 8 guaranteed samples of ft06 take 21.5 s instead of 1.3 s."""
    script = "import os, jssp_sft.cli.main; print(os.environ['OMP_WAIT_POLICY'])"
    for given, expected in [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")]:
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        env.update({} if given is None else {"OMP_WAIT_POLICY": given})
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected
