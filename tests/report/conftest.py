"""A hand-made run directory, so the report can be tested without training anything."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from niftycnn.config import parse_experiment, to_toml
from niftycnn.environment import environment
from niftycnn.rundir import write_csv, write_json, write_text

EVIL = '<script>alert("x")</script> & co'


@pytest.fixture
def fake_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    config = parse_experiment({"name": "fake", "description": EVIL}).resolved_dict()
    write_text(run / "config.toml", to_toml(config))
    write_json(
        run / "data.json",
        {
            "provenance": {
                "source": "synthetic",
                "symbol": EVIL,
                "rows": 500,
                "first_date": "2020-01-01",
                "last_date": "2021-12-31",
                "sha256": "ab" * 32,
            },
            "check": "rows 500\nzero volume: 0%",
        },
    )
    write_json(run / "environment.json", environment(seed=3, device="cpu"))
    names = ["Large Down", "Small Down", "Flat", "Small Up", "Large Up"]
    labels = pd.DataFrame({"class": range(5), "name": names, "count": [10, 20, 40, 20, 10]})
    labels["share"] = labels["count"] / labels["count"].sum()
    write_csv(run / "labels.csv", labels, index=False)
    dates = pd.bdate_range("2020-01-01", periods=300)
    splits = pd.DataFrame(
        {
            "fold": [0, 1],
            "train_start": [dates[0], dates[0]],
            "train_end": [dates[150], dates[200]],
            "val_start": [dates[151], dates[201]],
            "val_end": [dates[180], dates[230]],
            "test_start": [dates[190], dates[240]],
            "test_end": [dates[239], dates[299]],
            "n_train": [150, 200],
            "n_val": [30, 30],
            "n_test": [50, 60],
        }
    )
    write_csv(run / "splits.csv", splits, index=False)
    (run / "metrics").mkdir()
    summary = pd.DataFrame(
        {"accuracy": [0.4, 0.3], "sharpe_net": [0.8, 0.1]},
        index=pd.Index(["cnn", EVIL], name="model"),
    )
    write_csv(run / "metrics" / "summary.csv", summary)
    comparison = pd.DataFrame(
        {
            "baseline": ["majority"],
            "metric": ["accuracy"],
            "cnn": [0.4],
            "baseline_value": [0.3],
            "difference": [0.1],
            "ci_low": [0.05],
            "ci_high": [0.15],
            "p_value": [0.001],
            "test": ["Diebold-Mariano"],
        }
    )
    write_csv(run / "metrics" / "comparison.csv", comparison, index=False)
    rng = np.random.default_rng(0)
    equity = pd.DataFrame(
        np.exp(np.cumsum(rng.normal(0, 0.01, (110, 2)), axis=0)),
        index=pd.Index(dates[190:300], name="date"),
        columns=["cnn", "buy_and_hold"],
    )
    write_csv(run / "metrics" / "equity.csv", equity)
    confusion = pd.DataFrame(rng.integers(0, 20, (5, 5)), index=names, columns=names)
    write_csv(run / "metrics" / "confusion.csv", confusion)
    (run / "filters").mkdir()
    write_json(run / "filters" / "summary.json", {"verdict": "close channel: momentum-like"})
    return run
