"""The predictions table and the label vocabulary: one home, any class count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.errors import BacktestError, LabelError
from niftycnn.schema import (
    BASE_COLUMNS,
    LabelVocabulary,
    conform,
    empty_predictions,
    n_classes_of,
    prediction_columns,
)


@pytest.mark.parametrize(
    ("k", "names", "down", "up"),
    [
        (2, ("Down", "Up"), (0,), (1,)),
        (3, ("Down", "Flat", "Up"), (0,), (2,)),
        (4, ("Large Down", "Small Down", "Small Up", "Large Up"), (0, 1), (2, 3)),
        (5, ("Large Down", "Small Down", "Flat", "Small Up", "Large Up"), (0, 1), (3, 4)),
        (7, ("C1 (lowest)", "C2", "C3", "C4", "C5", "C6", "C7 (highest)"), (0, 1, 2), (4, 5, 6)),
    ],
)
def test_vocabulary_names_and_directions_follow_the_class_count(k, names, down, up):
    vocab = LabelVocabulary(k)
    assert vocab.names == names and vocab.down == down and vocab.up == up
    assert vocab.proba_columns == [f"proba_{j}" for j in range(k)]


@pytest.mark.parametrize("k", [1, 21, True])
def test_class_counts_outside_2_to_20_are_refused(k):
    with pytest.raises(LabelError, match="2 to 20 classes"):
        LabelVocabulary(k)


def test_a_table_conformed_and_read_back_from_parquet_is_identical(tmp_path):
    k = 3
    dates = pd.bdate_range("2024-01-01", periods=4, name="date")
    raw = pd.DataFrame(
        {
            "model": "cnn",
            "task": "classification",
            "fold": [0, 0, 1, 1],
            "n_seeds": 2,
            "train_start": "2023-01-02",
            "train_end": "2023-12-29",
            "label_end": dates + pd.Timedelta(days=3),
            "horizon": 3,
            "y_true": [0, 2, 1, -1],
            "y_return": [-0.01, 0.02, 0.0, np.nan],
            "y_pred": [0, 2, 2, 1],
            "r_pred": [-0.005, 0.01, 0.002, 0.0],
            "train_mean": [0.001, 0.001, 0.002, 0.002],
            "best_epoch": 1.5,
            **{f"proba_{j}": 1 / 3 for j in range(k)},
        },
        index=dates,
    )
    table = conform(raw, k)
    assert list(table.columns) == prediction_columns(k) and table.index.name == "date"
    for column, dtype in BASE_COLUMNS.items():
        if dtype != "str":
            assert str(table[column].dtype) == dtype, column
    table.to_parquet(tmp_path / "p.parquet")
    pd.testing.assert_frame_equal(conform(pd.read_parquet(tmp_path / "p.parquet"), k), table)
    assert n_classes_of(table) == 3
    assert list(empty_predictions(5).columns) == prediction_columns(5)


def test_a_table_missing_a_column_is_named():
    with pytest.raises(BacktestError, match="'train_mean'"):
        conform(empty_predictions(2).drop(columns="train_mean"), 2)
