"""Label targets: where each window's label ends, and the log return to that end.

For a window ending on day t (row ``p`` of the data), the ``[labels] target`` says which
later close the label return r = log(close at label end / close at t) is measured to:

- ``"expiry"``: the next options expiry strictly after t (:mod:`niftycnn.windows.expiry`).
- ``"horizon"``: the close ``h`` trading days after t, i.e. row p + h of the data (the
  data's own sessions: a holiday, or a session missing from the data, is not a day).
  ``h = 1`` is next-day direction, as in the chart-CNN literature; the sign of the h-day
  return is the label of Jiang, Kelly & Xiu (2023).
- ``"triple_barrier"`` (López de Prado 2018, ch. 3): with w = sigma_t sqrt(H), sigma_t
  the trailing daily volatility known at t and H = ``horizon``, the label ends at the
  first close within H trading days whose log return from t is above ``profit_take`` x w
  (upper barrier) or below -``stop_loss`` x w (lower barrier), else at the H-th day
  (vertical barrier). A close exactly on a barrier does not touch it (the same "towards
  zero" rule as the class cuts). Barriers are on closes, the prices a trade exits at, so
  both barriers can never be touched on the same day; the touch is the first day either
  is crossed.

Every target gives the label end date ``label_end`` (what purging uses), the trading
days to it (``horizon``) and r. Where the label end lies beyond the data the sample is
unlabelled (horizon 0, r NaN) but keeps the calendar's date (the NSE sessions after the
data, :func:`niftycnn.data.calendar.nse_sessions`), so purging on it stays correct; for
triple barrier that is the vertical barrier's date, the latest the label can end (a
touch within the data labels the sample at once). ``label_end`` is NaT only where the
date is beyond the exchange calendar too. Truncating the data at a date d therefore
changes no label that ends on or before d.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from niftycnn.config import LabelsConfig
from niftycnn.data.calendar import calendar_bounds, nse_sessions
from niftycnn.windows.expiry import next_expiry

_NAT = np.datetime64("NaT", "ns")


@dataclass(frozen=True)
class Outcomes:
    """Per sample: label end date, trading days to it (0 if unlabelled), log return (NaN
    if unlabelled) and the h of the volatility scale sigma_t sqrt(h) (see
    :class:`niftycnn.windows.WindowDataset`)."""

    label_end: pd.DatetimeIndex
    horizon: np.ndarray
    y_return: np.ndarray
    scale_days: np.ndarray


def sessions_after(last: pd.Timestamp, count: int) -> pd.DatetimeIndex:
    """The first ``count`` NSE sessions after ``last`` (fewer where the exchange calendar
    ends first; none where ``last`` is before the calendar's coverage)."""
    first_known, last_known = calendar_bounds()
    start = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
    # 5 sessions a week, plus room for a month of holidays
    stop = min(start + pd.Timedelta(days=int(np.ceil(count * 7 / 5)) + 31), last_known)
    if count < 1 or start < first_known or start > stop:
        return pd.DatetimeIndex([], name="date")
    return nse_sessions(start, stop)[:count]


def _dates_ahead(dates: pd.DatetimeIndex, target_pos: np.ndarray) -> np.ndarray:
    """Date of row ``target_pos`` (datetime64[ns]): the data's own where it exists, the
    calendar's sessions after the data's last date beyond it, NaT beyond the calendar."""
    n = len(dates)
    out = np.full(len(target_pos), _NAT)
    inside = target_pos < n
    out[inside] = dates.values[target_pos[inside]]
    if (~inside).any():
        ahead = target_pos[~inside] - (n - 1)  # 1 = the first session after the data
        future = sessions_after(dates[-1], int(ahead.max())).values
        known = ahead <= len(future)
        beyond = np.full(len(ahead), _NAT)
        beyond[known] = future[ahead[known] - 1]
        out[~inside] = beyond
    return out


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


def horizon_outcomes(
    dates: pd.DatetimeIndex, close: np.ndarray, end_pos: np.ndarray, h: int
) -> Outcomes:
    """The return over the next ``h`` trading days (see the module docstring)."""
    target = end_pos + h
    inside = target < len(dates)
    y = np.full(len(end_pos), np.nan)
    y[inside] = np.log(close[target[inside]] / close[end_pos[inside]])
    return Outcomes(
        label_end=pd.DatetimeIndex(_dates_ahead(dates, target), name="label_end"),
        horizon=np.where(inside, h, 0).astype(np.int64),
        y_return=y,
        scale_days=np.full(len(end_pos), h, dtype=np.int64),
    )


def triple_barrier_outcomes(
    dates: pd.DatetimeIndex,
    close: np.ndarray,
    end_pos: np.ndarray,
    sigma: np.ndarray,
    h: int,
    profit_take: float,
    stop_loss: float,
) -> Outcomes:
    """First touch of the profit-take / stop-loss barriers within ``h`` days, else the
    vertical barrier (see the module docstring). Vectorised over an (N, h) path matrix."""
    log_close = np.log(np.asarray(close, dtype=np.float64))
    padded = np.concatenate([log_close, np.full(h, np.nan)])  # NaN: no data, never touches
    paths = sliding_window_view(padded, h + 1)[end_pos]
    moves = paths[:, 1:] - paths[:, :1]  # (N, h): log return from t to t + 1 .. t + h
    width = (np.asarray(sigma, dtype=np.float64) * np.sqrt(h))[:, None]
    with np.errstate(invalid="ignore"):
        touched = (moves > profit_take * width) | (moves < -stop_loss * width)
    hit = touched.any(axis=1)
    days = np.where(hit, touched.argmax(axis=1) + 1, h)
    days_known = len(dates) - 1 - end_pos  # closes after t in the data
    labelled = hit | (days_known >= h)
    y = np.full(len(end_pos), np.nan)
    rows = np.flatnonzero(labelled)
    y[rows] = moves[rows, days[rows] - 1]
    return Outcomes(
        label_end=pd.DatetimeIndex(_dates_ahead(dates, end_pos + days), name="label_end"),
        horizon=np.where(labelled, days, 0).astype(np.int64),
        y_return=y,
        scale_days=np.full(len(end_pos), h, dtype=np.int64),
    )


def label_outcomes(
    dates: pd.DatetimeIndex,
    close: np.ndarray,
    end_pos: np.ndarray,
    sigma: np.ndarray,
    labels: LabelsConfig,
) -> Outcomes:
    """The outcomes of ``[labels] target`` for the windows ending at rows ``end_pos``."""
    if labels.target == "horizon":
        return horizon_outcomes(dates, close, end_pos, labels.horizon)
    if labels.target == "triple_barrier":
        return triple_barrier_outcomes(
            dates, close, end_pos, sigma, labels.horizon, labels.profit_take, labels.stop_loss
        )
    end_dates = pd.DatetimeIndex(dates[end_pos], name="date")
    label_end = next_expiry(end_dates, labels.expiry, trading_days=dates)
    horizon, y_return = expiry_outcomes(dates, close, end_pos, label_end)
    return Outcomes(pd.DatetimeIndex(label_end, name="label_end"), horizon, y_return, horizon)
