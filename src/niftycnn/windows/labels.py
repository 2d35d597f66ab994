"""Label classes: a window's label return in K return-ordered classes.

For a window ending on day t, :mod:`niftycnn.windows.targets` gives the label end (the
next expiry, the horizon, the first barrier touch), the horizon h in trading days (rows
of the data) from t to it, and r = log(close at label end / close at t). The regression
target is r. The K return-ordered classes (``niftycnn.schema.LabelVocabulary``:
0 is the most negative) come from one of three threshold rules, all fit/transform objects
with one protocol so the walk-forward can ``fit`` on a fold's training side and
``transform`` everything:

- :class:`FixedThresholds`: K - 1 cut points on r itself;
- :class:`VolatilityThresholds`: K - 1 cut points on z = r / (sigma_t * sqrt(h)), sigma_t
  the trailing daily log-return volatility known at t;
- :class:`QuantileThresholds`: cut points at K - 1 quantiles of the training returns.

Fixed and volatility cuts are read towards zero: a value on a cut goes to the class
nearer zero, on both sides (so with cuts (-1, -0.3, 0.3, 1) the Flat class is
[-0.3, 0.3]; with the single cut 0 of two classes, a zero return is Down: Up means
r > 0). Quantile cuts need not be symmetric; there the class is the number of cuts
strictly below x. NaN returns (no label) give ``UNLABELLED``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Protocol

import numpy as np
import pandas as pd

from niftycnn.config import LabelsConfig
from niftycnn.errors import LabelError
from niftycnn.schema import UNLABELLED


class Labeler(Protocol):
    """Turns label returns into class indices; fitted on training data only."""

    def fit(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> Labeler: ...

    def transform(
        self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray
    ) -> np.ndarray: ...


def _increasing(values: Sequence[float], what: str) -> np.ndarray:
    cuts = np.asarray(values, dtype=np.float64)
    if cuts.ndim != 1 or cuts.size < 1 or not np.isfinite(cuts).all():
        raise LabelError(f"{what} must be one or more finite numbers, got {list(values)}")
    if not all(a < b for a, b in pairwise(cuts)):
        raise LabelError(f"{what} must increase strictly, got {cuts.tolist()}")
    return cuts


def classify_towards_zero(x: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Class = number of cuts below x, a value on a cut going to the class nearer zero;
    UNLABELLED where x is NaN."""
    x = np.asarray(x, dtype=np.float64)
    missing = np.isnan(x)
    x = np.where(missing, 0.0, x)
    below = np.searchsorted(cuts, x, side="left")  # cuts < x
    not_above = np.searchsorted(cuts, x, side="right")  # cuts <= x
    out = np.where(x >= 0, below, not_above).astype(np.int64)
    return np.where(missing, UNLABELLED, out)


class FixedThresholds:
    """Classes from cut points on the log return r itself."""

    def __init__(self, cuts: Sequence[float]) -> None:
        self.cuts = tuple(float(c) for c in cuts)

    def fit(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> FixedThresholds:
        """Nothing to learn; validates the cut points."""
        _increasing(self.cuts, "fixed cuts")
        return self

    def transform(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> np.ndarray:
        return classify_towards_zero(y_return, _increasing(self.cuts, "fixed cuts"))

    def __repr__(self) -> str:
        return f"FixedThresholds(cuts={self.cuts})"


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

    def __init__(self, cuts: Sequence[float]) -> None:
        self.cuts = tuple(float(c) for c in cuts)

    def fit(
        self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray
    ) -> VolatilityThresholds:
        """Nothing to learn; validates the cut points."""
        _increasing(self.cuts, "volatility cuts")
        return self

    def transform(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> np.ndarray:
        cuts = _increasing(self.cuts, "volatility cuts")
        return classify_towards_zero(vol_scaled(y_return, sigma, horizon), cuts)

    def __repr__(self) -> str:
        return f"VolatilityThresholds(cuts={self.cuts})"


class QuantileThresholds:
    """Classes from quantiles of the *training* returns (fit on a fold's training side);
    the default is five even classes."""

    def __init__(self, quantiles: Sequence[float] = (0.2, 0.4, 0.6, 0.8)) -> None:
        self.quantiles = tuple(float(q) for q in quantiles)
        self.cuts_: np.ndarray | None = None

    def fit(
        self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray
    ) -> QuantileThresholds:
        """Learn the cut points from the labelled (non-NaN) returns given."""
        q = _increasing(self.quantiles, "quantiles")
        if not ((q > 0) & (q < 1)).all():
            raise LabelError(f"quantiles must lie inside (0, 1), got {q.tolist()}")
        r = np.asarray(y_return, dtype=np.float64)
        r = r[~np.isnan(r)]
        if r.size < q.size + 1:
            raise LabelError(
                f"quantile thresholds need >= {q.size + 1} labelled returns to fit, got {r.size}"
            )
        self.cuts_ = np.quantile(r, q)
        return self

    def transform(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> np.ndarray:
        if self.cuts_ is None:
            raise LabelError("QuantileThresholds is not fitted; call fit on training returns first")
        x = np.asarray(y_return, dtype=np.float64)
        out = np.searchsorted(self.cuts_, x, side="left").astype(np.int64)
        out[np.isnan(x)] = UNLABELLED
        return out

    def __repr__(self) -> str:
        return f"QuantileThresholds(quantiles={self.quantiles})"


def labeler_for(labels: LabelsConfig) -> Labeler:
    """The (unfitted) labeler of a ``[labels]`` table."""
    if labels.mode == "quantile":
        return QuantileThresholds(labels.quantile_points)
    if labels.mode == "fixed":
        return FixedThresholds(labels.cut_points)
    return VolatilityThresholds(labels.cut_points)


def trailing_volatility(close: np.ndarray, window: int = 20) -> np.ndarray:
    """Std (ddof=1) of the last ``window`` daily log returns up to and including each day.

    NaN for the first ``window`` days (fewer than ``window`` returns exist).
    """
    if window < 2:
        raise LabelError(f"volatility window must be >= 2 days, got {window}")
    lr = np.diff(np.log(np.asarray(close, dtype=np.float64)), prepend=np.nan)
    return pd.Series(lr).rolling(window, min_periods=window).std(ddof=1).to_numpy()
