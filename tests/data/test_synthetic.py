"""The synthetic market: shape, determinism, stylised facts and the planted pattern."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.config import SyntheticConfig
from niftycnn.data import nse_sessions, pattern_kernel, synthetic_ohlcv, validate
from niftycnn.errors import DataValidationError


def _hit_rate(frame: pd.DataFrame, h: int = 5) -> float:
    """Share of days where sign(last h-day log return) == sign(next h-day log return)."""
    lc = np.log(frame["close"].to_numpy())
    past, future = lc[h:-h] - lc[: -2 * h], lc[2 * h :] - lc[h:-h]
    return float(np.mean(np.sign(past) == np.sign(future)))


@pytest.fixture(scope="module")
def markets() -> dict[str, pd.DataFrame]:
    return {p: synthetic_ohlcv(seed=0, pattern=p) for p in ("none", "momentum", "curvature")}


def test_default_market_is_canonical_valid_and_on_nse_sessions(markets):
    frame = markets["none"]
    # the [data.synthetic] defaults (one home): 3,000 sessions from 2010-01-01
    defaults = SyntheticConfig()
    assert len(frame) == defaults.n_days
    assert frame.index.equals(nse_sessions(defaults.start, frame.index[-1]))
    report = validate(frame)
    assert report.missing_sessions == () and report.fixes == ()
    assert (frame[["open", "close"]].min(axis=1) >= frame["low"]).all()
    assert (frame[["open", "close"]].max(axis=1) <= frame["high"]).all()


def test_same_seed_same_frame_other_seed_other_frame():
    a, b = synthetic_ohlcv(300, seed=7), synthetic_ohlcv(300, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert not synthetic_ohlcv(300, seed=8).equals(a)


def test_returns_have_fat_tails_and_volatility_clustering(markets):
    r = np.diff(np.log(markets["none"]["close"].to_numpy()))
    kurtosis = np.mean((r - r.mean()) ** 4) / np.var(r) ** 2
    assert kurtosis > 4.5
    a = np.abs(r - r.mean())
    assert np.corrcoef(a[1:], a[:-1])[0, 1] > 0.1  # |r| autocorrelated
    assert abs(np.corrcoef(r[1:], r[:-1])[0, 1]) < 0.06  # r itself barely


def test_planted_momentum_is_detectable_but_not_absurd(markets):
    """Measured at seeds 0-4: none 0.495-0.521, momentum 0.592-0.614 (strength 0.5, lookback 5)."""
    base, momentum = _hit_rate(markets["none"]), _hit_rate(markets["momentum"])
    assert 0.46 < base < 0.54
    assert 0.56 < momentum < 0.67


def test_planted_curvature_drives_next_day_return(markets):
    """Measured at seeds 0-4: corr(sign(curvature), next return) 0.08-0.10 vs 0.01-0.03."""
    kernel = pattern_kernel("curvature", 5)
    for pattern, lo, hi in (("none", -0.05, 0.05), ("curvature", 0.05, 0.5)):
        lc = np.log(markets[pattern]["close"].to_numpy())
        curv = np.lib.stride_tricks.sliding_window_view(lc[:-1], 5) @ kernel
        nxt = np.diff(lc)[4:]
        assert lo < np.corrcoef(np.sign(curv), nxt)[0, 1] < hi, pattern


def test_pattern_kernels_are_fit_coefficients():
    x = np.arange(7.0)
    assert pattern_kernel("momentum", 7) @ (3 + 2 * x) == pytest.approx(2)
    assert pattern_kernel("curvature", 7) @ (1 + x + 0.5 * x**2) == pytest.approx(0.5)
    assert not pattern_kernel("none", 7).any()


def test_zero_volume_era_and_bad_arguments():
    frame = synthetic_ohlcv(500, seed=2, zero_volume_until="2008-12-31")
    assert (frame.loc[:"2008-12-31", "volume"] == 0).all()
    assert (frame.loc["2009-01-01":, "volume"] > 0).all()
    with pytest.raises(DataValidationError, match="pattern = 'meanrev'"):
        synthetic_ohlcv(100, pattern="meanrev")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="not stationary"):
        synthetic_ohlcv(100, garch=(0.5, 0.6))
