"""The ``[search]``: no trial ever sees the held-out final period (checked from every
trial's recorded splits and predictions), and the number of trials is the N of the
held-out deflated Sharpe ratio. Without Optuna, a search says which extra to install."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from niftycnn.backtest.significance import deflated_sharpe_ratio
from niftycnn.cli import main
from niftycnn.config import SearchConfig
from tests.workflow.corpus import tiny

SEARCH = {
    "trials": 3,
    "parallel": 2,
    "filters": [2, 4],
    "kernel": [2, 3],
    "depth": [1, 1],
    "dropout": [0.0, 0.2],
}
DATES = ["train_start", "train_end", "val_start", "val_end", "test_start", "test_end"]
REACH = ["train_label_end", "val_label_end"]  # the latest label date on each side


def _search(tmp_path: Path, *extra: str) -> tuple[int, Path | None, str]:
    experiment = tmp_path / "search.toml"
    experiment.write_text(tiny(search=SEARCH))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["search", str(experiment), "--out", str(tmp_path), "--quiet", *extra])
    lines = [x for x in out.getvalue().splitlines() if x.startswith("search directory: ")]
    return status, Path(lines[0].split(": ", 1)[1]) if lines else None, err.getvalue()


@pytest.mark.slow
def test_no_trial_sees_the_held_out_period_and_every_trial_counts_in_the_dsr(tmp_path):
    status, root, err = _search(tmp_path)
    assert status == 0, err
    assert root is not None
    overfitting = pd.read_csv(root / "metrics" / "overfitting.csv").iloc[0]
    start = pd.Timestamp(overfitting["holdout_start"])
    trials = sorted((root / "trials").iterdir())
    assert len(trials) == 3 and len(pd.read_csv(root / "search.csv")) == 3
    for trial in trials:
        splits = pd.read_csv(trial / "splits.csv", parse_dates=[*DATES, "train_label_end"])
        assert (
            (splits[[*DATES, "train_label_end", "val_label_end"]].apply(pd.to_datetime) < start)
            .all()
            .all()
        )
        for fold in (trial / "folds").iterdir():
            predictions = pd.read_parquet(fold / "predictions.parquet")
            assert (predictions.index < start).all() and (predictions.label_end < start).all()
    held = pd.read_csv(root / "holdout" / "splits.csv", parse_dates=["test_start"])
    assert (held.test_start >= start).all()
    # the deflated Sharpe of the held-out period: N = 3 trials, V from their Sharpe ratios
    returns = {t.name: pd.read_parquet(t / "returns.parquet")["cnn"] for t in trials}
    frame = pd.DataFrame(returns).dropna(how="all").fillna(0.0)
    sharpes = (frame.mean() / frame.std(ddof=1)).to_numpy()
    holdout = pd.read_parquet(root / "holdout" / "returns.parquet")["cnn"].to_numpy()
    assert overfitting["n_trials"] == 3 and overfitting["n_strategies"] == 3
    expected = deflated_sharpe_ratio(holdout, 3, sharpes)
    assert overfitting["holdout_dsr"] == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(deflated_sharpe_ratio(holdout, 1, sharpes))
    significance = pd.read_csv(root / "metrics" / "significance.csv", index_col=0)
    assert np.isfinite(significance.loc["cnn", "dsr"])


def test_the_readmes_search_table_is_a_valid_search_config():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```toml\n(.*?)```", readme, re.DOTALL) if "[search]" in b)
    search = SearchConfig.model_validate(tomllib.loads(block)["search"])
    assert search.trials == 40 and search.holdout_start == "2022-01-01"


def test_a_search_without_optuna_names_the_extra_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna raises ImportError
    status, _, err = _search(tmp_path)
    assert status == 2
    assert "pip install 'niftycnn[search]'" in err and "Traceback" not in err
    assert not (tmp_path / "search").exists()  # the run directory was discarded
