"""Expiry-outcome labels: the return from a window's end to the next expiry, in 5 classes.

For a window ending on day t: the next expiry strictly after t, the horizon h in trading
days (rows of the data) from t to it, and r = log(close at expiry / close at t). The
regression target is r. The five classes (``CLASS_NAMES`` order, 0 = Large Down) come
from one of three threshold rules, all fit/transform objects with one protocol so the
walk-forward can ``fit`` on a fold's training side and ``transform`` everything:

- :class:`FixedThresholds`: cut points on r itself;
- :class:`VolatilityThresholds`: cut points on z = r / (sigma_t * sqrt(h)), sigma_t the
  trailing daily log-return volatility known at t;
- :class:`QuantileThresholds`: cut points at quantiles of the training returns.

Fixed and volatility cuts are symmetric on the scaled value x: |x| <= small is Flat,
small < |x| <= large is Small Down/Up, |x| > large is Large (a boundary value goes to the
class nearer Flat, on both sides). Quantile cuts need not be symmetric; there the class
is the number of cuts strictly below x. NaN returns (no label) give ``UNLABELLED``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from niftycnn.errors import LabelError
from niftycnn.windows.dataset import UNLABELLED


class Labeler(Protocol):
    """Turns returns to expiry into class indices; fitted on training data only."""

    def fit(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> Labeler: ...

    def transform(
        self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray
    ) -> np.ndarray: ...


def _classify(x: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Class index = number of cuts strictly below x; UNLABELLED where x is NaN."""
    x = np.asarray(x, dtype=np.float64)
    out = np.searchsorted(cuts, x, side="left").astype(np.int64)
    out[np.isnan(x)] = UNLABELLED
    return out


def _classify_symmetric(x: np.ndarray, small: float, large: float) -> np.ndarray:
    """Flat for |x| <= small, Small for |x| <= large, Large beyond; UNLABELLED for NaN."""
    x = np.asarray(x, dtype=np.float64)
    missing = np.isnan(x)
    x = np.where(missing, 0.0, x)
    size = np.searchsorted(np.array([small, large]), np.abs(x), side="left")
    out = 2 + np.sign(x).astype(np.int64) * size
    return np.where(missing, UNLABELLED, out).astype(np.int64)


def _check_pair(small: float, large: float, what: str) -> None:
    if not (np.isfinite(small) and np.isfinite(large) and 0 < small < large):
        raise LabelError(f"{what} thresholds need 0 < small < large, got {small}, {large}")


class FixedThresholds:
    """Classes from fixed cut points on the log return r: (-large, -small, small, large)."""

    def __init__(self, small: float = 0.01, large: float = 0.03) -> None:
        self.small = small
        self.large = large

    def fit(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> FixedThresholds:
        """Nothing to learn; validates the thresholds."""
        _check_pair(self.small, self.large, "fixed")
        return self

    def transform(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> np.ndarray:
        _check_pair(self.small, self.large, "fixed")
        return _classify_symmetric(y_return, self.small, self.large)

    def __repr__(self) -> str:
        return f"FixedThresholds(small={self.small}, large={self.large})"


def vol_scaled(y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> np.ndarray:
    """z = r / (sigma * sqrt(h)); +-inf for a nonzero r over zero scale, 0 for r = 0."""
    r = np.asarray(y_return, dtype=np.float64)
    scale = np.asarray(sigma, dtype=np.float64) * np.sqrt(np.asarray(horizon, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = r / scale
    z = np.where((scale == 0) & (r == 0), 0.0, z)
    return np.where(np.isnan(scale), np.nan, z)


class VolatilityThresholds:
    """Classes from cut points on z = r / (sigma_t * sqrt(h)), in units of expected move.

    UNLABELLED also where sigma is NaN (too little history for a volatility estimate).
    """

    def __init__(self, small: float = 0.3, large: float = 1.0) -> None:
        self.small = small
        self.large = large

    def fit(
        self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray
    ) -> VolatilityThresholds:
        """Nothing to learn; validates the thresholds."""
        _check_pair(self.small, self.large, "volatility")
        return self

    def transform(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> np.ndarray:
        _check_pair(self.small, self.large, "volatility")
        return _classify_symmetric(vol_scaled(y_return, sigma, horizon), self.small, self.large)

    def __repr__(self) -> str:
        return f"VolatilityThresholds(small={self.small}, large={self.large})"


class QuantileThresholds:
    """Classes from quantiles of the *training* returns (fit on a fold's training side)."""

    def __init__(self, quantiles: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)) -> None:
        self.quantiles = tuple(quantiles)
        self.cuts_: np.ndarray | None = None

    def fit(
        self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray
    ) -> QuantileThresholds:
        """Learn the cut points from the labelled (non-NaN) returns given."""
        q = np.asarray(self.quantiles, dtype=np.float64)
        if q.shape != (4,) or not ((q > 0) & (q < 1)).all() or not (np.diff(q) > 0).all():
            raise LabelError(f"quantiles must be 4 increasing values in (0, 1), got {q.tolist()}")
        r = np.asarray(y_return, dtype=np.float64)
        r = r[~np.isnan(r)]
        if r.size < 5:
            raise LabelError(f"quantile thresholds need >= 5 labelled returns to fit, got {r.size}")
        self.cuts_ = np.quantile(r, q)
        return self

    def transform(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> np.ndarray:
        if self.cuts_ is None:
            raise LabelError("QuantileThresholds is not fitted; call fit on training returns first")
        return _classify(y_return, self.cuts_)

    def __repr__(self) -> str:
        return f"QuantileThresholds(quantiles={self.quantiles})"


# The one table of threshold modes (config name -> class).
LABELERS: dict[str, type] = {
    "fixed": FixedThresholds,
    "volatility": VolatilityThresholds,
    "quantile": QuantileThresholds,
}


def labeler_from_config(mode: str, **params: object) -> Labeler:
    """A labeler from its config name ("fixed", "volatility", "quantile") and parameters."""
    if mode not in LABELERS:
        raise LabelError(f"unknown label mode {mode!r}; use one of {sorted(LABELERS)}")
    try:
        labeler: Labeler = LABELERS[mode](**params)
    except TypeError as exc:
        raise LabelError(
            f"bad parameters {sorted(params)} for label mode {mode!r}: {exc}"
        ) from None
    return labeler


def trailing_volatility(close: np.ndarray, window: int = 20) -> np.ndarray:
    """Std (ddof=1) of the last ``window`` daily log returns up to and including each day.

    NaN for the first ``window`` days (fewer than ``window`` returns exist).
    """
    if window < 2:
        raise LabelError(f"volatility window must be >= 2 days, got {window}")
    lr = np.diff(np.log(np.asarray(close, dtype=np.float64)), prepend=np.nan)
    return pd.Series(lr).rolling(window, min_periods=window).std(ddof=1).to_numpy()


def expiry_outcomes(
    dates: pd.DatetimeIndex,
    close: np.ndarray,
    end_pos: np.ndarray,
    expiries: pd.DatetimeIndex,
) -> tuple[np.ndarray, np.ndarray]:
    """Horizon (trading days) and log return from each end row to its expiry.

    ``expiries`` are the next expiries after ``dates[end_pos]`` (from ``next_expiry`` with
    the data's dates as trading days, so an expiry within the data is one of its dates).
    Where the expiry is NaT or after the last date: horizon 0 and return NaN.
    """
    exp_pos = dates.searchsorted(expiries)
    inside = ~expiries.isna() & (exp_pos < len(dates))
    inside[inside] = dates[exp_pos[inside]] == expiries[inside]
    horizon = np.where(inside, exp_pos - end_pos, 0).astype(np.int64)
    y = np.full(len(end_pos), np.nan)
    y[inside] = np.log(close[exp_pos[inside]] / close[end_pos[inside]])
    return horizon, y
