"""Chart images through the walk-forward: truncation leaves past images and predictions
unchanged, bit for bit; a rerun resumes from the fold files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.config import LabelsConfig, TrainConfig, WindowsConfig
from niftycnn.models import Architecture, Dropout, Flatten
from niftycnn.models.spec import Conv2d, Pool2d
from niftycnn.rundir import RunLayout
from niftycnn.walkforward.run import run_walkforward
from niftycnn.walkforward.splits import WalkForwardSplit
from niftycnn.windows import build_dataset
from tests.walkforward.market import market

WINDOWS = WindowsConfig(length=5, inputs="image")  # 32 x 15 images, MA and volume
LABELS = LabelsConfig(target="horizon", horizon=5, classes=2, mode="fixed")
TINY = Architecture(
    (
        Conv2d(4, (5, 3), padding=(2, 1), activation="leaky_relu", batch_norm=True),
        Pool2d("max", (2, 1)),
        Flatten(),
        Dropout(0.5),
    ),
    n_classes=2,
    name="tiny2d",
)


def _run(ds, out_dir=None):  # type: ignore[no-untyped-def]
    cfg = TrainConfig(epochs=2, seeds=2, patience=1, batch_size=64)
    split = WalkForwardSplit(min_train_size=250, refit=60, validation=0.2, embargo=2)
    out = None if out_dir is None else RunLayout(out_dir)
    return run_walkforward(
        ds, TINY, split, cfg, baselines=("majority",), out=out, progress=False, seed=3
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return market(420, seed=5)


@pytest.mark.slow
def test_truncating_future_data_leaves_past_images_and_predictions_unchanged(frame):
    full = build_dataset(frame, WINDOWS, LABELS)
    assert full.X.shape[1:] == (1, 32, 15) and full.X.dtype == np.uint8
    assert full.features == ("image",)
    cut = full.end_dates[360]
    part = build_dataset(frame.loc[:cut], WINDOWS, LABELS)
    np.testing.assert_array_equal(part.X, full.X[: len(part)])
    before = _run(full)
    after = _run(part)
    before = before[before.index <= cut]
    labels = ["y_true", "y_return", "label_end", "horizon"]
    cols = [c for c in before.columns if c not in labels]
    pd.testing.assert_frame_equal(after[cols], before[cols], check_exact=True)
    assert set(before["model"]) == {"cnn", "majority"}


@pytest.mark.slow
def test_image_run_resumes_from_its_fold_files(frame, tmp_path):
    ds = build_dataset(frame, WINDOWS, LABELS)
    first = _run(ds, tmp_path / "run")
    again = _run(ds, tmp_path / "run")  # every fold is on disk: loaded, not retrained
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    weights = np.load(RunLayout(tmp_path / "run").folds()[0].first_layer())
    assert weights.shape == (2, 4, 1, 5, 3)  # seeds x the first Conv2d's (F, C, kh, kw)
