"""Resuming holds a run to what it started with, and trusts only fold files that read back.

Issue cases 1 (an edited config.toml or changed data is refused, naming the keys), 2 (a
corrupted fold is trained again), 3 (stale temporary files are removed), 5 (files holding
Python objects are refused, never loaded) and 15 (every slow stage shows progress).
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from niftycnn.api import open_run
from niftycnn.data import synthetic_ohlcv
from niftycnn.errors import UnsafeFileError
from tests.cli_helpers import assert_one_error, cli, tree_digest, warning_lines
from tests.workflow.conftest import QUICK_LAYERS, FinishedRun, run_dir_from
from tests.workflow.corpus import tiny


def test_a_run_prints_its_directory_first_and_every_slow_stage_shows_progress(finished_run):
    assert finished_run.out.splitlines()[0] == f"run directory: {finished_run.root}"
    err = finished_run.err
    for stage in ("walk-forward:", "significance:", "filter analysis:", "report: rendering"):
        assert stage in err, stage
    assert "filter analysis: done in" in err


EDITS = [
    ("small = 0.3\n", "small = 0.5\n", "[labels] small: 0.3 -> 0.5"),
    (
        '    "volume",\n]',
        "]",
        "[windows] features: ['open', 'high', 'low', 'close', 'volume'] -> ['open'",
    ),
    ("seeds = 1\n", "seeds = 2\n", "[train] seeds: 1 -> 2"),
]


@pytest.mark.parametrize(("old", "new", "fragment"), EDITS, ids=[e[2][:16] for e in EDITS])
def test_resume_refuses_an_edited_config_naming_the_keys(
    finished_run: FinishedRun, tmp_path, capsys, old, new, fragment
):
    run = finished_run.copy(tmp_path)
    config = run / "config.toml"
    assert old in config.read_text()
    config.write_text(config.read_text().replace(old, new, 1))
    before = tree_digest(run)
    result = cli(["run", "--resume", run, "--quiet"], capsys)
    assert_one_error(result, fragment)
    assert "differs from the config this run started with" in result.err
    assert tree_digest(run) == before


def test_resume_refuses_a_run_whose_windows_were_in_natural_logs(
    finished_run: FinishedRun, tmp_path, capsys
):
    run = finished_run.copy(tmp_path)
    record = json.loads((run / "run.json").read_text())
    assert record["log_unit"] == 100.0
    del record["log_unit"]  # what a run started before windows moved to percent holds
    (run / "run.json").write_text(json.dumps(record))
    before = tree_digest(run)
    result = cli(["run", "--resume", run, "--quiet"], capsys)
    assert_one_error(result, f"{run} was started with windows of log changes x 1;")
    assert "start a new run" in result.err
    assert tree_digest(run) == before


def test_resume_refuses_changed_data_and_warns_about_a_missing_volume_column(tmp_path, capsys):
    csv = tmp_path / "index.csv"
    synthetic_ohlcv(640, seed=3, start="2019-03-01").drop(columns="volume").to_csv(csv)
    experiment = tmp_path / "csv.toml"
    data = {"source": "csv", "path": str(csv), "synthetic": None}
    experiment.write_text(tiny(data=data, model={"layers": QUICK_LAYERS}))
    result = cli(["run", experiment, "--out", tmp_path / "reports", "--quiet"], capsys)
    assert result.code == 0, result.err
    warnings = warning_lines(result.err)
    assert any("has no volume column" in w for w in warnings), warnings
    assert any("features include 'volume' but the data have no volume" in w for w in warnings)
    run = run_dir_from(result.out)

    frame = pd.read_csv(csv, index_col=0)
    frame.iloc[100, frame.columns.get_loc("close")] *= 1.001
    frame.to_csv(csv)
    before = tree_digest(run)
    result = cli(["run", "--resume", run, "--quiet"], capsys)
    assert_one_error(result, f"the data changed since {run} started", after_warnings=True)
    assert tree_digest(run) == before


def test_an_older_run_without_a_record_resumes_with_a_warning(
    quick_run: FinishedRun, tmp_path, capsys
):
    run = quick_run.copy(tmp_path)
    (run / "run.json").unlink()
    result = cli(["run", "--resume", run, "--quiet"], capsys)
    assert result.code == 0, result.err
    assert warning_lines(result.err) == [
        f"warning: {run} has no run.json (an older run): its config.toml cannot be checked "
        "against the config its folds were trained with"
    ]
    assert (run / "run.json").is_file()  # from now on it is held to this config


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


CORRUPTIONS = {
    "truncated predictions": lambda f: _truncate(f / "predictions.parquet"),
    "empty weights": lambda f: (f / "state.pt").write_bytes(b""),
    "truncated first layer": lambda f: _truncate(f / "first_layer.npy"),
    "lost curves": lambda f: (f / "curves.csv").unlink(),
    "predictions of another fold": lambda f: (f / "predictions.parquet").write_bytes(
        (f.parent / "fold_0000" / "predictions.parquet").read_bytes()
    ),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=list(CORRUPTIONS))
def test_a_fold_whose_files_do_not_read_back_is_trained_again(
    quick_run: FinishedRun, tmp_path, capsys, corrupt
):
    run = quick_run.copy(tmp_path)
    CORRUPTIONS[corrupt](run / "folds" / "fold_0001")
    others = tree_digest(run / "folds" / "fold_0000", run / "folds" / "fold_0002")
    result = cli(["run", "--resume", run, "--quiet"], capsys)
    assert result.code == 0, result.err
    warned = [w for w in warning_lines(result.err) if "fold_0001 is incomplete" in w]
    assert warned and warned[0].endswith("training fold 1 again"), result.err
    resumed = pd.read_parquet(run / "predictions.parquet")
    pd.testing.assert_frame_equal(resumed, quick_run.predictions, check_exact=True)
    assert tree_digest(run / "folds" / "fold_0000", run / "folds" / "fold_0002") == others


def test_stale_temp_files_are_removed_on_resume(quick_run: FinishedRun, tmp_path, capsys):
    run = quick_run.copy(tmp_path)
    stale = run / "folds" / "fold_0002" / ".predictions.parquet.k3j9x.tmp"
    stale.write_bytes(b"")
    result = cli(["run", "--resume", run, "--quiet"], capsys)
    assert result.code == 0, result.err
    assert not stale.exists()
    assert "warning: removed 1 temporary file(s) an interrupted write left: folds/fold_0002/" in (
        result.err
    )


class _Payload:
    """Unpickling this runs a shell command that leaves a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def test_an_object_array_as_first_layer_is_refused_by_filters_and_resume(
    quick_run: FinishedRun, tmp_path, capsys
):
    run = quick_run.copy(tmp_path)
    marker = tmp_path / "pwned"
    hostile = run / "folds" / "fold_0001" / "first_layer.npy"
    np.save(hostile, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    before = tree_digest(run)
    for argv in (["filters", run], ["run", "--resume", run, "--quiet"]):
        result = cli(argv, capsys)
        assert_one_error(result, f"refusing to load {hostile}: it holds Python objects")
        assert "allow_pickle" not in result.err and "weights_only" not in result.err
        assert tree_digest(run) == before
    assert not marker.exists()


def test_a_pickled_object_as_weights_is_refused_by_models_and_resume(
    quick_run: FinishedRun, tmp_path, capsys
):
    run = quick_run.copy(tmp_path)
    marker = tmp_path / "pwned"
    hostile = run / "folds" / "fold_0001" / "state.pt"
    torch.save({"cnn": [_Payload(marker)]}, hostile)
    with pytest.raises(UnsafeFileError) as info:
        open_run(run).models(1)
    message = str(info.value)
    assert str(hostile) in message and "\n" not in message
    assert "weights_only" not in message and "trust" not in message
    before = tree_digest(run)
    result = cli(["run", "--resume", run, "--quiet"], capsys)
    assert_one_error(result, f"refusing to load {hostile}")
    assert tree_digest(run) == before
    assert not marker.exists()
    assert pickle.dumps(_Payload(marker))  # the payload is a real pickle
