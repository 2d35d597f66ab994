"""The synthetic market: shape, determinism, stylised facts of an index, and the planted
pattern's oracle calibration on every channel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from niftycnn.config import SyntheticConfig
from niftycnn.data import nse_sessions, pattern_kernel, synthetic_ohlcv, validate
from niftycnn.data.stats import STYLISED_RANGES, market_stats
from niftycnn.data.synthetic import simulate_market, synthetic_config
from niftycnn.errors import DataValidationError

STYLISED_SEEDS = range(10)


@pytest.fixture(scope="module")
def null_stats() -> list[dict[str, float]]:
    """Stylised facts of ten pattern-free markets of 2,500 sessions (~10 years)."""
    return [market_stats(synthetic_ohlcv(2500, s, pattern="none")) for s in STYLISED_SEEDS]


def test_default_market_is_canonical_valid_and_on_nse_sessions():
    frame = synthetic_ohlcv(seed=0)
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


def test_pattern_free_market_looks_like_an_index(null_stats):
    """Measured on seeds 0-9: volatility 0.13-0.19, excess kurtosis 2.6-16 (median ~6),
    min |r| autocorrelation over lags 1-20 > 0 on all; seed 3 has a +110 % year."""
    for s in null_stats:
        lo, hi = STYLISED_RANGES["annual_volatility"]
        assert lo <= s["annual_volatility"] <= hi
        assert s["abs_return_autocorr_min"] > 0  # volatility clustering at every lag 1-20
        assert abs(s["return_autocorr_lag1"]) < 0.06  # returns themselves barely
    kurtosis = [s["excess_kurtosis"] for s in null_stats]
    assert 3.0 <= np.median(kurtosis) <= 15.0
    assert sum(3.0 <= k <= 15.0 for k in kurtosis) >= 7
    years_inside = [-0.6 <= s["worst_year"] and s["best_year"] <= 0.6 for s in null_stats]
    assert sum(years_inside) >= 8
    assert 0.02 <= np.mean([s["annual_drift"] for s in null_stats]) <= 0.10  # a few % a year


@pytest.mark.parametrize(
    ("pattern", "lookback", "channel"),
    [
        ("momentum", 5, "close"),
        ("curvature", 5, "close"),
        ("momentum", 20, "close"),
        ("momentum", 5, "volume"),
        ("curvature", 4, "range"),
    ],
)
def test_planted_drift_follows_the_channel_kernel_and_hits_the_oracle_sharpe(
    pattern, lookback, channel
):
    market = simulate_market(
        synthetic_config(
            2000, pattern=pattern, lookback=lookback, channel=channel, oracle_sharpe=1.5
        ),
        seed=4,
    )
    frame, d = market.frame, market.planted_drift
    series = {
        "close": np.log(frame["close"]),
        "volume": np.log(frame["volume"]),
        "range": np.log(frame["high"] / frame["low"]),
    }[channel].to_numpy()
    # the kernel output on the frame's own data, over the lookback days before each day
    out = sliding_window_view(series[:-1], lookback) @ pattern_kernel(pattern, lookback)
    live = d[lookback:] != 0
    assert live.mean() > 0.95
    agree = np.sign(out[live]) == np.sign(d[lookback:][live])
    assert agree.mean() > 0.999
    # the realised oracle Sharpe, recomputed from the frame's close-to-close returns
    r = np.diff(np.log(frame["close"].to_numpy()))
    pnl = np.sign(d[1:]) * r
    pnl = pnl[d[1:] != 0]
    sharpe = pnl.mean() / pnl.std(ddof=1) * np.sqrt(252)
    assert sharpe == pytest.approx(1.5, abs=0.01)
    assert market.oracle_sharpe == pytest.approx(1.5, abs=0.01)
    truth = market.ground_truth()
    assert (truth["pattern"], truth["channel"], truth["lookback"]) == (pattern, channel, lookback)
    assert 0 < truth["scale"] < 1  # a fraction of a daily sigma: no absurd edge


def test_planted_momentum_is_detectable_but_the_market_stays_realistic():
    """A 5-day planted momentum worth an oracle Sharpe of 2: the next day's return
    follows the last 5 days' slope (corr of signs ~0.1), the market still looks like an
    index (measured at seed 0: volatility 0.15, excess kurtosis ~4, best year +50 %)."""
    frame = synthetic_ohlcv(2500, 0, pattern="momentum", lookback=5, oracle_sharpe=2.0)
    lc = np.log(frame["close"].to_numpy())
    slope = sliding_window_view(lc[:-1], 5) @ pattern_kernel("momentum", 5)
    nxt = np.diff(lc)[4:]
    assert 0.05 < np.corrcoef(np.sign(slope), nxt)[0, 1] < 0.2
    stats = market_stats(frame)
    assert 0.12 <= stats["annual_volatility"] <= 0.25
    assert stats["best_year"] < 1.0 and stats["worst_year"] > -0.6


def test_pattern_kernels_are_fit_coefficients():
    x = np.arange(7.0)
    assert pattern_kernel("momentum", 7) @ (3 + 2 * x) == pytest.approx(2)
    assert pattern_kernel("curvature", 7) @ (1 + x + 0.5 * x**2) == pytest.approx(0.5)
    assert not pattern_kernel("none", 7).any()


def test_nothing_planted_without_a_pattern_and_bad_arguments():
    market = simulate_market(synthetic_config(400, pattern="none", oracle_sharpe=3.0), 1)
    assert market.scale == 0 and not market.planted_drift.any()
    assert market.ground_truth()["pattern"] == "none"
    frame = synthetic_ohlcv(500, seed=2, zero_volume_until="2010-12-31")
    assert (frame.loc[:"2010-12-31", "volume"] == 0).all()
    assert (frame.loc["2011-01-01":, "volume"] > 0).all()
    with pytest.raises(DataValidationError, match="pattern = 'meanrev'"):
        synthetic_ohlcv(100, pattern="meanrev")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="not stationary"):
        synthetic_ohlcv(100, garch=(0.5, 0.6))
    with pytest.raises(DataValidationError, match="channel = 'open'"):
        synthetic_ohlcv(100, channel="open")
