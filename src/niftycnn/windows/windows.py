"""Sliding windows over an OHLCV frame, each normalised with its own data only.

A window ending on day t holds rows t-L+1 .. t. Normalisation uses only those rows
(DESIGN.md leakage rule 1), so a window never depends on anything after t:

- prices (open, high, low, close): 100 log(price / close at t), the last close of the
  window (log changes in percent);
- volume: log1p(volume), z-scored over the window's days with volume. Yahoo reports 0 for
  index volume it does not have (all of 2007-2012, scattered later days), so a zero is
  treated as missing: it gets z = 0, and a window with fewer than two days of volume, or
  with constant volume, is all zeros, never NaN or inf;
- returns: daily log return of close in percent (0 on the frame's first day, which has
  no previous close); it reads close at t-L, the day before the window, which is still
  in the past;
- range: 100 log(high / low);
- market: 100 log of the frame's ``market`` column (an index, or a universe's
  equal-weight index, attached by :func:`attach_market`) minus its value on the window's
  last day.

Log changes are in percent (``LOG_PERCENT``), a fixed unit fitted on nothing, so a
window's values are of order one, as networks initialised for unit-scale inputs expect: in
natural log units a 20-day window spans about +-0.05, and q10 trained on such inputs
barely moved off the majority class (planted 5-day curvature, oracle Sharpe 3, 4,500
sessions: 0 % of the oracle's log-loss gain captured in log units, 33 % in percent;
a 5-day momentum 42 % -> 62 %). Linear baselines standardise their inputs and do not care.

New channels are a row in :data:`FEATURES`: a causal 1-D series and a scaling rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from niftycnn.data.frame import OHLCV_COLUMNS
from niftycnn.errors import LabelError

Scaling = Literal["last_close", "last_value", "zscore_nonzero", "none"]


@dataclass(frozen=True)
class Feature:
    """One input channel.

    Attributes:
        columns: frame columns the series reads.
        series: row i of the result uses rows <= i of the frame only (causal).
        scaling: per-window normalisation: "last_close" subtracts the window's last log
            close (series must be a log price), "last_value" the series' own value on the
            window's last day, "zscore_nonzero" z-scores over the
            window's nonzero raw values (volume), "none" leaves the values as they are.
        unit: what the normalised values are multiplied by (``LOG_PERCENT`` for log
            changes).
    """

    columns: tuple[str, ...]
    series: Callable[[pd.DataFrame], np.ndarray]
    scaling: Scaling
    unit: float = 1.0  # the normalised values are multiplied by it (LOG_PERCENT: percent)


def _log_col(name: str) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda f: np.log(f[name].to_numpy(np.float64))


def _log_returns(f: pd.DataFrame) -> np.ndarray:
    lc = np.log(f["close"].to_numpy(np.float64))
    return np.concatenate(([0.0], np.diff(lc)))


LOG_PERCENT = 100.0  # log changes are given in percent (module docstring)

# The one table of feature transforms (keys: the names ``[windows] features`` accepts).
FEATURES: dict[str, Feature] = {
    "open": Feature(("open", "close"), _log_col("open"), "last_close", LOG_PERCENT),
    "high": Feature(("high", "close"), _log_col("high"), "last_close", LOG_PERCENT),
    "low": Feature(("low", "close"), _log_col("low"), "last_close", LOG_PERCENT),
    "close": Feature(("close",), _log_col("close"), "last_close", LOG_PERCENT),
    "volume": Feature(("volume",), lambda f: f["volume"].to_numpy(np.float64), "zscore_nonzero"),
    "returns": Feature(("close",), _log_returns, "none", LOG_PERCENT),
    "range": Feature(
        ("high", "low"), lambda f: np.log(f["high"] / f["low"]).to_numpy(), "none", LOG_PERCENT
    ),
    "market": Feature(("market",), _log_col("market"), "last_value", LOG_PERCENT),
}


def attach_market(frame: pd.DataFrame, market: pd.Series) -> pd.DataFrame:
    """``frame`` with a ``market`` column: the market's level on each of its dates, or
    the last level before it where the market has no bar that day (never a later one).
    Rows dated before the market's first bar are dropped (they have no market value)."""
    level = market.sort_index().reindex(frame.index, method="ffill")
    out = frame.assign(market=level.to_numpy(np.float64))
    return out[np.isfinite(out["market"].to_numpy())]


def _check_frame(frame: pd.DataFrame, features: Sequence[str], length: int) -> None:
    """Fail early, with one clear line, on frames windows cannot be built from."""
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise LabelError(f"unknown features {unknown}; use names from {sorted(FEATURES)}")
    if not features:
        raise LabelError(f"no features asked for; pass at least one of {sorted(FEATURES)}")
    if length < 1:
        raise LabelError(f"window length must be >= 1, got {length}")
    needed = sorted({c for f in features for c in FEATURES[f].columns} | {"close"})
    missing = [c for c in needed if c not in frame.columns]
    if missing == ["market"]:
        raise LabelError(
            "the 'market' feature needs a market series: set [data] market (a CSV file, a "
            "symbol, or 'equal_weight' for a universe)"
        )
    if missing:
        raise LabelError(f"frame lacks columns {missing}; pass the canonical OHLCV frame")
    if not isinstance(frame.index, pd.DatetimeIndex) or not frame.index.is_monotonic_increasing:
        raise LabelError("frame index must be a sorted DatetimeIndex; sort it first")
    if not frame.index.is_unique:
        raise LabelError("frame index has duplicate dates; drop duplicates first")
    if len(frame) < length:
        raise LabelError(f"frame has {len(frame)} rows, fewer than the window length {length}")
    prices = frame[[c for c in needed if c != "volume"]].to_numpy(np.float64)
    if not (np.isfinite(prices).all() and (prices > 0).all()):
        raise LabelError("prices must be finite and positive; clean the frame first")
    if "volume" in needed:
        vol = frame["volume"].to_numpy(np.float64)
        if not (np.isfinite(vol).all() and (vol >= 0).all()):
            raise LabelError("volume must be finite and >= 0; fill missing volume with 0")


def _zscore_nonzero(raw: np.ndarray) -> np.ndarray:
    """Window-wise z-score of log1p(raw) over raw > 0; zeros where undefined."""
    present = raw > 0
    x = np.log1p(raw)
    n = present.sum(axis=1, keepdims=True)
    safe_n = np.maximum(n, 1)
    mean = (x * present).sum(axis=1, keepdims=True) / safe_n
    dev = (x - mean) * present
    std = np.sqrt((dev**2).sum(axis=1, keepdims=True) / safe_n)
    # A relative tolerance: constant volume leaves float rounding noise in std.
    ok = (n >= 2) & (std > 1e-9 * np.maximum(np.abs(mean), 1.0))
    return np.where(ok & present, dev / np.where(ok, std, 1.0), 0.0)


def raw_windows(
    frame: pd.DataFrame, length: int = 20, features: Sequence[str] = OHLCV_COLUMNS
) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]:
    """Every window's raw causal series, before normalisation.

    Returns R (N, C, L) float64 (each channel's ``Feature.series``: log prices, raw
    volume, returns, range), the window's last log close (N,) (what price channels are
    measured from) and the end dates. :func:`normalize_windows` turns R into the
    network's input; the effective-kernel analysis differentiates through it.
    """
    features = (features,) if isinstance(features, str) else tuple(features)
    _check_frame(frame, features, length)
    last_log_close = np.log(frame["close"].to_numpy(np.float64)[length - 1 :])
    R = np.stack([sliding_window_view(FEATURES[f].series(frame), length) for f in features], 1)
    end_dates = pd.DatetimeIndex(frame.index[length - 1 :], name="date")
    return R, last_log_close, end_dates


def normalize_windows(
    R: np.ndarray, last_log_close: np.ndarray, features: Sequence[str]
) -> np.ndarray:
    """The per-window normalisation (module docstring) of raw windows R (N, C, L) whose
    last log close is ``last_log_close`` (N,); float64, same shape."""
    channels = []
    for c, name in enumerate(features):
        w, scaling = R[:, c], FEATURES[name].scaling
        if scaling == "last_close":
            w = w - last_log_close[:, None]
        elif scaling == "last_value":
            w = w - w[:, -1:]
        elif scaling == "zscore_nonzero":
            w = _zscore_nonzero(w)
        channels.append(w * FEATURES[name].unit if FEATURES[name].unit != 1.0 else w)
    return np.stack(channels, axis=1)


def make_windows(
    frame: pd.DataFrame,
    length: int = 20,
    features: Sequence[str] = OHLCV_COLUMNS,
    normalize: bool = True,
) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """All windows of ``length`` days, one per end date from the ``length``-th row on.

    Returns:
        X: float32 (N, C, L) with N = len(frame) - length + 1, channels in ``features``
            order, each window normalised with its own rows (see the module docstring).
            With ``normalize=False`` each channel is its raw causal series (log prices,
            raw volume, returns, range), for inspection.
        end_dates: the window end date t of each sample.
    """
    features = (features,) if isinstance(features, str) else tuple(features)
    R, last_log_close, end_dates = raw_windows(frame, length, features)
    X = normalize_windows(R, last_log_close, features) if normalize else R
    return X.astype(np.float32), end_dates
