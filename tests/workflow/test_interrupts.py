"""Interrupting a run at any stage: the message names the directory to resume, a run
stopped before its first fold leaves nothing behind, and resuming gives the predictions of
an uninterrupted run, bit for bit, without retraining finished folds.

Issue cases 4 (the run directory is printed at the start and named in the interrupt
message) and 7 (no half-made directory), and the fault tests: an interrupt in each stage
(in-process: SIGINT is a KeyboardInterrupt in Python), a real SIGINT and a SIGKILL
during a fold write (subprocesses).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import niftycnn
import niftycnn.walkforward.run as walkforward_run
from niftycnn.errors import TrainingError
from tests.cli_helpers import assert_one_error, cli, tree_digest, warning_lines
from tests.workflow.conftest import FinishedRun, run_dir_from


def _stop(*_: object, **__: object) -> None:
    raise KeyboardInterrupt


def _stop_after_first_fold(fold: int) -> None:
    if fold == 0:
        raise KeyboardInterrupt


# stage -> (what to interrupt, whether a finished fold is on disk by then)
STAGES = {
    "plan": ("niftycnn.workflow.plan.build_dataset", False),
    "record": ("niftycnn.workflow.stages.record_stage", False),
    "data": ("niftycnn.workflow.stages.data_stage", False),
    "labels": ("niftycnn.workflow.stages.windows_stage", False),
    "first fold": ("niftycnn.walkforward.run.train_batched", False),
    "after a fold": ("niftycnn.walkforward.run._on_fold_written", True),
    "backtest": ("niftycnn.workflow.stages.evaluate", True),
    "filters": ("niftycnn.workflow.stages.filters_stage", True),
    "report": ("niftycnn.report.render_report", True),
}


@pytest.mark.parametrize("stage", STAGES, ids=list(STAGES))
def test_an_interrupt_in_any_stage_names_the_run_or_leaves_nothing(
    quick_run: FinishedRun, tmp_path, capsys, monkeypatch, stage
):
    target, kept = STAGES[stage]
    monkeypatch.setattr(walkforward_run, "MEMBERS_PER_CHUNK", 1)  # one fold per chunk
    monkeypatch.setattr(target, _stop_after_first_fold if stage == "after a fold" else _stop)
    out = tmp_path / "reports"
    result = cli(["run", quick_run.experiment, "--out", out, "--quiet"], capsys)
    assert result.code == 130 and result.err.count("\n") == 1, result.err
    if not kept:
        assert result.err == (
            "error: interrupted before any fold finished; nothing was kept (run it again)\n"
        )
        assert not out.exists() or not any(out.iterdir())
        return
    run = run_dir_from(result.out)
    assert result.err == (
        f"error: interrupted; finished folds are kept in {run}: continue with "
        f"`niftycnn run --resume {run}`\n"
    )
    monkeypatch.undo()
    finished = tree_digest(*(f for f in (run / "folds").iterdir() if (f / "state.pt").exists()))
    result = cli(["run", "--resume", run, "--quiet"], capsys)
    assert result.code == 0, result.err
    assert run_dir_from(result.out) == run
    resumed = pd.read_parquet(run / "predictions.parquet")
    pd.testing.assert_frame_equal(resumed, quick_run.predictions, check_exact=True)
    if stage != "after a fold":  # every fold had finished: none is trained again
        assert {k: v for k, v in tree_digest(run / "folds").items() if k in finished} == finished


def test_a_run_that_fails_before_its_first_fold_leaves_no_directory(
    quick_run: FinishedRun, tmp_path, capsys, monkeypatch
):
    def fail(*_: object, **__: object) -> None:
        raise TrainingError("the engine failed (planted)")

    monkeypatch.setattr(walkforward_run, "train_batched", fail)
    out = tmp_path / "reports"
    (out / "earlier").mkdir(parents=True)
    (out / "earlier" / "keep.txt").write_text("an earlier run")
    before = tree_digest(out)
    result = cli(["run", quick_run.experiment, "--out", out, "--quiet"], capsys)
    assert_one_error(result, "the engine failed (planted)")
    assert sorted(p.name for p in out.iterdir()) == ["earlier"]
    assert tree_digest(out) == before


# The child runs the CLI with one fold per chunk, and blocks while fold 1's predictions
# (the file that marks a fold done) are being written, after printing WRITING.
CHILD = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal: `cmd &` ignores it
import niftycnn.walkforward.run as wf
from niftycnn.cli import main
from niftycnn.files import atomic_write

wf.MEMBERS_PER_CHUNK = 1
real = wf.write_parquet

def write_parquet(path, frame):
    if path.parent.name == "fold_0001" and path.name == "predictions.parquet":
        def block(tmp):
            print("WRITING", tmp, flush=True)
            time.sleep(600)
        atomic_write(path, block)
    real(path, frame)

wf.write_parquet = write_parquet
sys.exit(main(sys.argv[1:]))
"""


def _run_until_fold_write(experiment: Path, out: Path, sig: int) -> tuple[Path, Path, str, int]:
    """Start the child, send ``sig`` while it writes fold 1; (run dir, temp, stderr, code)."""
    src = str(Path(niftycnn.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, "run", str(experiment), "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None and child.stderr is not None
    try:
        run = run_dir_from(child.stdout.readline())
        line = child.stdout.readline()
        assert line.startswith("WRITING "), line + child.stderr.read()
        child.send_signal(sig)
        code = child.wait(timeout=60)
    finally:
        child.kill()
    return run, Path(line.split(" ", 1)[1].strip()), child.stderr.read(), code


@pytest.mark.slow  # a subprocess: imports torch again (~5 s)
def test_sigkill_during_a_fold_write_leaves_a_temp_file_that_resume_removes(
    quick_run: FinishedRun, tmp_path, capsys
):
    run, temp, _, code = _run_until_fold_write(quick_run.experiment, tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert temp.is_file() and temp.stat().st_size == 0  # what a killed write leaves
    assert not (run / "folds" / "fold_0001" / "predictions.parquet").exists()
    assert (run / "folds" / "fold_0000" / "predictions.parquet").is_file()
    result = cli(["run", "--resume", run, "--quiet"], capsys)
    assert result.code == 0, result.err
    assert not temp.exists()
    assert any("removed 1 temporary file(s)" in w for w in warning_lines(result.err))
    resumed = pd.read_parquet(run / "predictions.parquet")
    pd.testing.assert_frame_equal(resumed, quick_run.predictions, check_exact=True)


@pytest.mark.slow  # a subprocess: imports torch again (~5 s)
def test_sigint_during_a_fold_write_names_the_directory_to_resume(quick_run: FinishedRun, tmp_path):
    run, temp, err, code = _run_until_fold_write(quick_run.experiment, tmp_path, signal.SIGINT)
    assert code == 130
    assert err == (
        f"error: interrupted; finished folds are kept in {run}: continue with "
        f"`niftycnn run --resume {run}`\n"
    )
    assert not temp.exists()  # an interrupted write cleans up after itself
    assert (run / "folds" / "fold_0000" / "predictions.parquet").is_file()
