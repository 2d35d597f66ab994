"""Labelers (fixed, volatility, quantile), the factory and trailing volatility."""

from __future__ import annotations

import numpy as np
import pytest

from niftycnn.config import LabelsConfig, symmetric_cuts
from niftycnn.errors import LabelError
from niftycnn.schema import UNLABELLED
from niftycnn.windows.labels import (
    FixedThresholds,
    QuantileThresholds,
    VolatilityThresholds,
    labeler_for,
    trailing_volatility,
)

R = np.array([-0.05, -0.03, -0.02, -0.01, -0.005, 0.0, 0.005, 0.01, 0.02, 0.03, 0.05, np.nan])
ONES = np.ones_like(R)


def test_fixed_thresholds_put_boundaries_in_the_class_nearer_flat():
    y = FixedThresholds(symmetric_cuts(5, 0.01, 0.03)).fit(R, ONES, ONES).transform(R, ONES, ONES)
    assert y.dtype == np.int64
    assert y.tolist() == [0, 1, 1, 2, 2, 2, 2, 2, 3, 3, 4, UNLABELLED]


def test_volatility_thresholds_scale_by_sigma_sqrt_horizon():
    r = np.array([-0.02, -0.005, 0.0, 0.005, 0.02, 0.0, 0.01, np.nan])
    sigma = np.array([0.01] * 5 + [0.0, 0.0, 0.01])
    h = np.array([4, 4, 4, 4, 4, 4, 4, 4])
    # z = r / (0.01 * 2): -1 (Small Down: -1 is not below -large), -0.25, 0, 0.25, 1; 0/0 -> Flat.
    cuts = symmetric_cuts(5, 0.3, 1.0)
    y = VolatilityThresholds(cuts).fit(r, sigma, h).transform(r, sigma, h)
    assert y.tolist() == [1, 2, 2, 2, 3, 2, 4, UNLABELLED]


def test_quantile_thresholds_fit_on_training_only_and_refuse_before_fit():
    q = QuantileThresholds()
    with pytest.raises(LabelError, match="not fitted"):
        q.transform(R, ONES, ONES)
    rng = np.random.default_rng(0)
    train = rng.normal(0, 0.02, 1000)
    y = q.fit(train, train, train).transform(train, train, train)
    np.testing.assert_allclose(np.bincount(y) / y.size, 0.2, atol=0.002)
    shifted = q.transform(train + 1.0, train, train)
    assert (shifted == 4).all()  # cuts come from the fit data, not from the transformed data


def test_the_labels_table_builds_each_mode():
    fixed = labeler_for(LabelsConfig(mode="fixed", small=0.01, large=0.02))
    assert isinstance(fixed, FixedThresholds) and fixed.cuts == (-0.02, -0.01, 0.01, 0.02)
    assert isinstance(labeler_for(LabelsConfig()), VolatilityThresholds)
    q = labeler_for(LabelsConfig(mode="quantile", quantiles=(0.1, 0.3, 0.7, 0.9)))
    assert isinstance(q, QuantileThresholds) and q.quantiles == (0.1, 0.3, 0.7, 0.9)
    three = labeler_for(LabelsConfig(mode="quantile", classes=3))
    assert three.quantiles == pytest.approx((1 / 3, 2 / 3))


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        # 2 classes, cut 0: a zero return is Down (Up means r > 0)
        (2, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, UNLABELLED]),
        # 3 classes, cuts -0.01, 0.01: a value on a cut goes to the class nearer zero
        (3, [0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, UNLABELLED]),
        # 4 classes, cuts -0.03, 0, 0.03
        (4, [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, UNLABELLED]),
    ],
)
def test_fewer_classes_cut_by_hand(classes, expected):
    cuts = symmetric_cuts(classes, 0.01, 0.03)
    assert FixedThresholds(cuts).transform(R, ONES, ONES).tolist() == expected


def test_invalid_thresholds_raise():
    with pytest.raises(LabelError, match="must increase strictly"):
        VolatilityThresholds((1.0, 0.3)).fit(R, ONES, ONES)
    with pytest.raises(LabelError, match="must increase strictly"):
        QuantileThresholds((0.5, 0.4, 0.6, 0.8)).fit(R, ONES, ONES)
    with pytest.raises(LabelError, match=r"inside \(0, 1\)"):
        QuantileThresholds((0.5, 1.5)).fit(R, ONES, ONES)


def test_trailing_volatility_uses_the_last_window_returns_including_today():
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 50)))
    sig = trailing_volatility(close, 20)
    assert np.isnan(sig[:20]).all() and np.isfinite(sig[20:]).all()
    lr = np.diff(np.log(close))
    np.testing.assert_allclose(sig[30], np.std(lr[10:30], ddof=1), rtol=1e-10)
