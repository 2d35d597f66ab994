import os
import subprocess
import sys
from pathlib import Path

import pytest

import niftycnn
from niftycnn.cli import main


def test_data_check_synthetic_exits_zero(capsys):
    assert main(["data", "check", "--source", "synthetic"]) == 0


def test_describe_an_experiment_file_uses_its_windows(tmp_path, capsys):
    path = tmp_path / "wide.toml"
    path.write_text(
        '[windows]\nlength = 60\nfeatures = ["close", "volume"]\n\n'
        '[model]\nhead = "regression"\nlayers = [\n'
        '  {type = "conv", filters = 16, kernel = 3, padding = "same"},\n'
        '  {type = "pool", kind = "max", size = 2},\n'
        '  {type = "dropout", rate = 0.1},\n'
        '  {type = "gap"},\n]\n'
    )
    assert main(["describe", str(path)]) == 0
    text = capsys.readouterr().out
    # 2 channels x 60 days: conv 16 @ k3 on 2 channels has 16 * (3 * 2 + 1) = 112 parameters
    assert text.startswith("custom (regression, 1 output): input 2 x 60")
    assert "16 x 60" in text and "112" in text and "16 x 30" in text
    assert "rate 0.1" in text and "16 -> 1" in text


def test_describe_a_missing_experiment_file_is_one_line(tmp_path, capsys):
    assert main(["describe", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: experiment file") and "not found" in err
    assert err.count("\n") == 1


@pytest.mark.slow  # a subprocess
def test_a_closed_pipe_ends_the_command_quietly():
    """``niftycnn data check X | head -2``: the reader leaves; no BrokenPipeError."""
    src = str(Path(niftycnn.__file__).resolve().parents[1])
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first byte is written
    child = subprocess.run(
        [sys.executable, "-m", "niftycnn.cli", "data", "check", "--source", "synthetic"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": src},
        timeout=120,
        check=False,
    )
    os.close(write)
    assert child.stderr == "" and child.returncode == 141
