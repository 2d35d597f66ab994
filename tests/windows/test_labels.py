"""Labelers (fixed, volatility, quantile), the factory and trailing volatility."""

from __future__ import annotations

import numpy as np
import pytest

from niftycnn.errors import LabelError
from niftycnn.windows import UNLABELLED
from niftycnn.windows.labels import (
    FixedThresholds,
    QuantileThresholds,
    VolatilityThresholds,
    labeler_from_config,
    trailing_volatility,
)

R = np.array([-0.05, -0.03, -0.02, -0.01, -0.005, 0.0, 0.005, 0.01, 0.02, 0.03, 0.05, np.nan])
ONES = np.ones_like(R)


def test_fixed_thresholds_put_boundaries_in_the_class_nearer_flat():
    y = FixedThresholds(0.01, 0.03).fit(R, ONES, ONES).transform(R, ONES, ONES)
    assert y.dtype == np.int64
    assert y.tolist() == [0, 1, 1, 2, 2, 2, 2, 2, 3, 3, 4, UNLABELLED]


def test_volatility_thresholds_scale_by_sigma_sqrt_horizon():
    r = np.array([-0.02, -0.005, 0.0, 0.005, 0.02, 0.0, 0.01, np.nan])
    sigma = np.array([0.01] * 5 + [0.0, 0.0, 0.01])
    h = np.array([4, 4, 4, 4, 4, 4, 4, 4])
    # z = r / (0.01 * 2): -1 (Small Down: -1 is not below -large), -0.25, 0, 0.25, 1; 0/0 -> Flat.
    y = VolatilityThresholds(0.3, 1.0).fit(r, sigma, h).transform(r, sigma, h)
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


def test_factory_builds_each_mode_and_names_bad_ones():
    assert isinstance(labeler_from_config("fixed", small=0.01, large=0.02), FixedThresholds)
    assert isinstance(labeler_from_config("volatility"), VolatilityThresholds)
    q = labeler_from_config("quantile", quantiles=(0.1, 0.3, 0.7, 0.9))
    assert isinstance(q, QuantileThresholds) and q.quantiles == (0.1, 0.3, 0.7, 0.9)
    with pytest.raises(LabelError, match="unknown label mode"):
        labeler_from_config("median")
    with pytest.raises(LabelError, match="bad parameters"):
        labeler_from_config("fixed", tiny=0.1)


def test_invalid_thresholds_raise():
    with pytest.raises(LabelError, match="0 < small < large"):
        VolatilityThresholds(1.0, 0.3).fit(R, ONES, ONES)
    with pytest.raises(LabelError, match="quantiles must be"):
        QuantileThresholds((0.5, 0.4, 0.6, 0.8)).fit(R, ONES, ONES)


def test_trailing_volatility_uses_the_last_window_returns_including_today():
    rng = np.random.default_rng(1)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 50)))
    sig = trailing_volatility(close, 20)
    assert np.isnan(sig[:20]).all() and np.isfinite(sig[20:]).all()
    lr = np.diff(np.log(close))
    np.testing.assert_allclose(sig[30], np.std(lr[10:30], ddof=1), rtol=1e-10)
