"""Stylised facts of a daily market: what a synthetic market is calibrated to, and what a
report states about any market it studies.

``market_stats(frame)`` measures, on daily log returns of the close: annualised
volatility and drift, excess kurtosis, the autocorrelation of |r| at lags 1-20 (volatility
clustering), the lag-1 autocorrelation of r, calendar-year buy-and-hold returns and the
maximum drawdown.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PERIODS_PER_YEAR = 252
CLUSTER_LAGS = 20

# The ranges the default synthetic market is calibrated to (an equity index's stylised
# facts; NIFTY 50 2007-2024 sits inside them: ~21 % volatility, excess kurtosis ~11).
STYLISED_RANGES: dict[str, tuple[float, float]] = {
    "annual_volatility": (0.12, 0.25),
    "excess_kurtosis": (3.0, 15.0),
    "worst_year": (-0.60, 0.60),
    "best_year": (-0.60, 0.60),
}


def _autocorr(x: np.ndarray, lag: int) -> float:
    a, b = x[lag:] - x.mean(), x[:-lag] - x.mean()
    return float((a * b).sum() / ((x - x.mean()) ** 2).sum())


def market_stats(frame: pd.DataFrame) -> dict[str, Any]:
    """The stylised facts of ``frame`` (a canonical OHLCV frame), as plain floats."""
    close = frame["close"].to_numpy(np.float64)
    r = np.diff(np.log(close))
    dev = r - r.mean()
    kurtosis = float(np.mean(dev**4) / np.mean(dev**2) ** 2 - 3.0)
    absr = np.abs(dev)
    lags = range(1, min(CLUSTER_LAGS, len(r) - 2) + 1)
    abs_acf = [_autocorr(absr, lag) for lag in lags]
    yearly = frame["close"].groupby(frame.index.year).last()
    first = frame["close"].iloc[0]
    years = yearly / yearly.shift(1).fillna(first) - 1.0
    wealth = close / close[0]
    drawdown = 1.0 - wealth / np.maximum.accumulate(wealth)
    return {
        "days": len(frame),
        "annual_volatility": float(r.std(ddof=1) * np.sqrt(PERIODS_PER_YEAR)),
        "annual_drift": float(r.mean() * PERIODS_PER_YEAR),
        "excess_kurtosis": kurtosis,
        "abs_return_autocorr_min": float(min(abs_acf)),
        "abs_return_autocorr_mean": float(np.mean(abs_acf)),
        "return_autocorr_lag1": _autocorr(r, 1),
        "worst_year": float(years.min()),
        "best_year": float(years.max()),
        "max_drawdown": float(drawdown.max()),
    }


def outside_ranges(stats: dict[str, Any]) -> list[str]:
    """The stylised facts of ``stats`` outside :data:`STYLISED_RANGES` (and no volatility
    clustering), as short sentences; empty when the market looks like an index."""
    out = [
        f"{key} = {stats[key]:.3g} outside [{lo}, {hi}]"
        for key, (lo, hi) in STYLISED_RANGES.items()
        if not lo <= stats[key] <= hi
    ]
    if stats["abs_return_autocorr_min"] <= 0:
        out.append("no volatility clustering (an |r| autocorrelation at lags 1-20 is <= 0)")
    return out
