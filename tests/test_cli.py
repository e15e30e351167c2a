"""Tests for the `labkit` command line."""

import subprocess
import sys

from labkit import cli


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "--help"], capture_output=True, text=True, check=True)
    for command in ("data", "train"):
        assert command in out.stdout, f"--help mentions `{command}`"


def test_data_fetch_help():
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "data", "--help"], capture_output=True, text=True,
                         check=True)
    assert "fetch" in out.stdout and "mnist" in out.stdout


def test_bad_arguments_exit_with_a_message(capsys):
    code = cli.main(["train", "--epochs", "0", "--source", "bundled", "--train-limit", "10", "--test-limit", "10"])
    assert code == 2, "a user error exits with status 2"
    assert "epochs must be" in capsys.readouterr().err, "the message says what was wrong"
