"""run_walkforward on a panel: the truncation (anti-leakage) invariant across symbols, and
the rows' symbols."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.config import TrainConfig
from niftycnn.models import preset
from niftycnn.walkforward.run import run_walkforward
from niftycnn.walkforward.splits import WalkForwardSplit
from niftycnn.windows import QuantileThresholds
from tests.walkforward.market import panel, universe_frames

BASELINES = ("majority", "logistic", "ridge", "xs_momentum", "xs_reversal")
LABEL_COLUMNS = ["y_true", "y_return", "label_end", "horizon"]


@pytest.fixture(scope="module")
def frames():
    return universe_frames(6, 360, seed=8)


def _run(ds):
    cfg = TrainConfig(epochs=2, seeds=2, patience=1, chunk_folds=2)
    sp = WalkForwardSplit(min_train_size=150, refit=40, validation=0.2, embargo=3)
    return run_walkforward(
        ds,
        preset("q10", n_classes=3),
        sp,
        cfg,
        labeler=QuantileThresholds((1 / 3, 2 / 3)),
        baselines=BASELINES,
        progress=False,
    )


def test_truncating_a_panel_at_a_date_leaves_every_earlier_prediction_unchanged(frames):
    full_ds = panel(frames)
    days = full_ds.end_dates.unique()
    cut = days[250]  # inside the third test block
    full = _run(full_ds)
    part = _run(panel(frames, cut))
    before = full[full.index <= cut]
    assert len(part) == len(before) and part["symbol"].nunique() == 6
    cols = [c for c in before.columns if c not in LABEL_COLUMNS]
    pd.testing.assert_frame_equal(part[cols], before[cols], check_exact=True)
    cut_known = part.y_true.to_numpy() >= 0
    pd.testing.assert_frame_equal(
        part.loc[cut_known, LABEL_COLUMNS], before.loc[cut_known, LABEL_COLUMNS], check_exact=True
    )
    # a label the cut makes unknown ends after the cut (a delisted symbol's last windows
    # have none either way)
    lost = (before.y_true.to_numpy() >= 0) & ~cut_known
    assert lost.sum() > 0 and (part.label_end[lost] > cut).all()


def test_panel_rows_carry_their_symbol_and_training_pools_the_symbols(frames):
    ds = panel(frames)
    preds = _run(ds)
    cnn = preds[preds["model"] == "cnn"]
    expected = pd.MultiIndex.from_arrays([ds.end_dates, ds.symbol_names])
    first_test = np.searchsorted(ds.end_dates, cnn.index[0])
    got = pd.MultiIndex.from_arrays([cnn.index, cnn["symbol"].to_numpy()])
    assert got.equals(expected[first_test:])
    assert set(preds["model"]) == {"cnn", *BASELINES}
    fold = WalkForwardSplit(min_train_size=150, refit=40, validation=0.2, embargo=3).folds(ds)[0]
    assert len(set(ds.symbol_names[fold.train_idx])) > 1
