"""Windows: hand-computed values on a 6-day frame, zero volume, feature registry, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.errors import LabelError
from niftycnn.windows.windows import FEATURES, make_windows


@pytest.fixture
def tiny() -> pd.DataFrame:
    idx = pd.bdate_range("2020-01-06", periods=6, name="date")
    return pd.DataFrame(
        {
            "open": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "high": [2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            "low": [0.5, 1.0, 2.0, 3.0, 4.0, 5.0],
            "close": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
            "volume": [0.0, 0.0, 0.0, 10.0, 20.0, 30.0],
        },
        index=idx,
    )


def test_six_days_length_three_gives_four_channels_first_windows(tiny):
    X, end = make_windows(tiny, length=3)
    assert X.shape == (4, 5, 3) and X.dtype == np.float32
    assert list(end) == list(tiny.index[2:])

    # Window ending on day 3 (index 2): rows 0..2, last close 3.5; log changes in percent.
    def pct(ratios: list[float]) -> np.ndarray:
        return 100 * np.log(ratios)

    np.testing.assert_allclose(X[0, 0], pct([1.0 / 3.5, 2.0 / 3.5, 3.0 / 3.5]), rtol=1e-6)
    np.testing.assert_allclose(X[0, 1], pct([2.0 / 3.5, 3.0 / 3.5, 4.0 / 3.5]), rtol=1e-6)
    np.testing.assert_allclose(X[0, 2], pct([0.5 / 3.5, 1.0 / 3.5, 2.0 / 3.5]), rtol=1e-6)
    np.testing.assert_allclose(X[3, 3], pct([4.5 / 6.5, 5.5 / 6.5, 1.0]), rtol=1e-6, atol=1e-6)
    assert (X[:, 3, -1] == 0).all()  # the last close is the reference


def test_volume_zscore_is_hand_computed_and_zero_volume_gives_zeros(tiny):
    X, _ = make_windows(tiny, length=3)
    vol = X[:, 4]
    assert np.isfinite(X).all()
    np.testing.assert_array_equal(vol[0], [0.0, 0.0, 0.0])  # all zero volume
    np.testing.assert_array_equal(vol[1], [0.0, 0.0, 0.0])  # one day of volume
    np.testing.assert_allclose(vol[2], [0.0, -1.0, 1.0], atol=1e-6)  # zero day is missing
    v = np.log1p([10.0, 20.0, 30.0])
    np.testing.assert_allclose(vol[3], (v - v.mean()) / v.std(), rtol=1e-5)


def test_constant_volume_window_is_zeros_not_nan(tiny):
    frame = tiny.assign(volume=1.234e9)
    X, _ = make_windows(frame, length=3)
    assert (X[:, 4] == 0).all()


def test_returns_and_range_features_are_a_name_away(tiny):
    X, _ = make_windows(tiny, length=3, features=("returns", "range"))
    c, h, lo = tiny["close"].to_numpy(), tiny["high"].to_numpy(), tiny["low"].to_numpy()
    returns = [0.0, np.log(c[1] / c[0]), np.log(c[2] / c[1])]
    np.testing.assert_allclose(X[0, 0], 100 * np.array(returns), rtol=1e-6)  # percent
    np.testing.assert_allclose(X[3, 1], 100 * np.log(h[3:] / lo[3:]), rtol=1e-6)
    assert {"open", "high", "low", "close", "volume", "returns", "range"} <= set(FEATURES)


def test_unnormalised_windows_are_the_raw_series(tiny):
    X, _ = make_windows(tiny, length=3, features=("close", "volume"), normalize=False)
    np.testing.assert_allclose(X[1, 0], np.log([2.5, 3.5, 4.5]), rtol=1e-6)
    np.testing.assert_array_equal(X[3, 1], [10.0, 20.0, 30.0])


def test_window_equals_normalising_its_own_rows_only(make_frame):
    frame = make_frame(60, seed=3)
    X, _ = make_windows(frame, length=20)
    for i in (0, 17, 40):
        rows = frame.iloc[i : i + 20]
        last = rows["close"].iloc[-1]
        expected = 100 * np.log(rows["close"] / last)
        np.testing.assert_allclose(X[i, 3], expected, rtol=1e-5, atol=1e-4)


def test_real_history_windows_are_finite(real_frame):
    X, end = make_windows(real_frame)
    assert X.shape == (len(real_frame) - 19, 5, 20)
    assert np.isfinite(X).all()
    assert (X[end.year <= 2012, 4] == 0).all()  # no volume on Yahoo before 2013


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"features": ("close", "vwap")}, "unknown features"),
        ({"length": 7}, "fewer than the window length"),
        ({"length": 0}, "window length must be"),
    ],
)
def test_bad_arguments_raise_label_errors(tiny, kwargs, match):
    with pytest.raises(LabelError, match=match):
        make_windows(tiny, **kwargs)


def test_bad_frames_raise_label_errors(tiny):
    with pytest.raises(LabelError, match="lacks columns"):
        make_windows(tiny.drop(columns="volume"), length=3)
    with pytest.raises(LabelError, match="finite and positive"):
        make_windows(tiny.assign(low=0.0), length=3)
    with pytest.raises(LabelError, match="sorted"):
        make_windows(tiny.iloc[::-1], length=3)
