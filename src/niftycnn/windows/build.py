"""Build the :class:`WindowDataset` the training stage consumes, from an OHLCV frame.

Choices a reviewer should know:

- Sample end dates start at row max(length - 1, vol_window), the first day with both a
  full window and a full trailing-volatility estimate, so every sample has a finite sigma.
- ``sampling="daily"``: one window per trading day. ``sampling="expiry"``: one window per
  expiry cycle, ending *on the expiry day itself* (its close is known at t); its label
  then runs exactly to the next expiry, so consecutive labels touch but never overlap.
- Expiry dates come from :mod:`niftycnn.windows.expiry` with the frame's own dates as the
  trading days within its range and the NSE calendar beyond it. A window whose expiry
  lies beyond the data keeps that calendar-known ``expiry_dates`` (so purging on it stays
  correct); it has no label: horizon 0, y_return NaN, y_class UNLABELLED. expiry_dates is
  NaT only where the expiry is beyond the exchange calendar too, i.e. truly unknown.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd

from niftycnn.errors import LabelError
from niftycnn.windows.dataset import UNLABELLED, WindowDataset
from niftycnn.windows.expiry import EXPIRY_KINDS, expiry_dates, next_expiry
from niftycnn.windows.labels import (
    Labeler,
    VolatilityThresholds,
    expiry_outcomes,
    trailing_volatility,
)
from niftycnn.windows.windows import DEFAULT_FEATURES, make_windows

SAMPLINGS: tuple[str, ...] = ("daily", "expiry")


def build_dataset(
    frame: pd.DataFrame,
    *,
    length: int = 20,
    features: Sequence[str] = DEFAULT_FEATURES,
    expiry: str = "weekly",
    labeler: Labeler | None = None,
    sampling: str = "daily",
    vol_window: int = 20,
) -> WindowDataset:
    """Windows, expiry-outcome labels and trailing volatility for every sample of ``frame``.

    ``labeler`` defaults to ``VolatilityThresholds()`` (0.3 / 1.0 expected moves). A copy
    of it is fitted on all labelled samples here (the caller's object is left unfitted).
    That is harmless for fixed and volatility thresholds, which learn nothing; quantile
    classes filled here are in-sample, so the walk-forward must refit them per fold on
    the training side only (from y_return, sigma and horizon).
    """
    if expiry not in EXPIRY_KINDS:
        raise LabelError(f"unknown expiry kind {expiry!r}; use one of {EXPIRY_KINDS}")
    if sampling not in SAMPLINGS:
        raise LabelError(f"unknown sampling {sampling!r}; use one of {SAMPLINGS}")
    labeler = VolatilityThresholds() if labeler is None else copy.deepcopy(labeler)
    features = (features,) if isinstance(features, str) else tuple(features)
    X_all, _ = make_windows(frame, length=length, features=features)
    dates = pd.DatetimeIndex(frame.index)
    close = frame["close"].to_numpy(np.float64)
    sigma_all = trailing_volatility(close, vol_window)

    first = max(length - 1, vol_window)
    end_pos = np.arange(first, len(frame))
    if sampling == "expiry":
        cycle_ends = expiry_dates(expiry, dates[0], dates[-1], trading_days=dates)
        end_pos = end_pos[dates[end_pos].isin(cycle_ends)]
    if end_pos.size == 0:
        raise LabelError(
            f"no sample fits in {len(frame)} rows with length={length}, vol_window={vol_window}"
            f", sampling={sampling!r}; use more data or shorter windows"
        )

    end_dates = pd.DatetimeIndex(dates[end_pos], name="date")
    exp = next_expiry(end_dates, expiry, trading_days=dates)
    horizon, y_return = expiry_outcomes(dates, close, end_pos, exp)
    sigma = sigma_all[end_pos]
    labelled = ~np.isnan(y_return)
    if labelled.any():
        labeler.fit(y_return[labelled], sigma[labelled], horizon[labelled])
        y_class = labeler.transform(y_return, sigma, horizon)
    else:
        y_class = np.full(len(end_pos), UNLABELLED, dtype=np.int64)
    return WindowDataset(
        X=X_all[end_pos - (length - 1)],
        end_dates=end_dates,
        expiry_dates=pd.DatetimeIndex(exp, name="expiry"),
        horizon=horizon,
        y_return=y_return,
        y_class=np.asarray(y_class, dtype=np.int64),
        sigma=sigma,
        features=features,
    )
