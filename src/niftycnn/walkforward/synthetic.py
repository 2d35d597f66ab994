"""Stand-ins for the windows stage, for tests and the benchmark.

``windows_from_ohlcv`` builds a :class:`WindowDataset` from a daily OHLCV frame with
``sliding_window_view``; ``synthetic_ohlcv`` makes a random walk with planted momentum
(so a network has something to learn); ``QuantileLabeler`` follows the labeler protocol
(``fit(y_return, sigma, horizon)`` / ``transform(...) -> int64``, -1 where unlabelled).

Window normalisation (each window uses only its own data): price channels are
``log(price_{t-L+1+l} / close_t)``, so ``-X[:, close, 0] = log(close_t / close_{t-L+1})``
is the window's L-day log return (what the momentum baseline reads); volume is
``log1p(volume)`` minus its window mean (0 where the index has no volume).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from niftycnn.windows.dataset import WindowDataset

FEATURES: tuple[str, ...] = ("close", "high", "low", "open", "volume")


class QuantileLabeler:
    """Five classes from quantiles of the training returns (fitted on the training side)."""

    def __init__(self, n_classes: int = 5) -> None:
        self.n_classes = n_classes

    def fit(
        self,
        y_return: np.ndarray,
        sigma: np.ndarray | None = None,
        horizon: np.ndarray | None = None,
    ) -> QuantileLabeler:
        r = np.asarray(y_return, dtype=np.float64)
        r = r[~np.isnan(r)]
        qs = np.linspace(0, 1, self.n_classes + 1)[1:-1]
        self.edges_ = np.quantile(r, qs)
        return self

    def transform(
        self,
        y_return: np.ndarray,
        sigma: np.ndarray | None = None,
        horizon: np.ndarray | None = None,
    ) -> np.ndarray:
        r = np.asarray(y_return, dtype=np.float64)
        out = np.searchsorted(self.edges_, r, side="right").astype(np.int64)
        out[np.isnan(r)] = -1
        return out


def synthetic_ohlcv(
    n_days: int = 1200, seed: int = 0, momentum: float = 0.5, start: str = "2010-01-04"
) -> pd.DataFrame:
    """A daily OHLCV random walk whose returns follow their own 5-day mean (momentum)."""
    rng = np.random.default_rng(seed)
    eps = rng.normal(0.0, 0.01, n_days)
    r = np.zeros(n_days)
    for t in range(n_days):
        r[t] = eps[t] + momentum * r[max(0, t - 5) : t].mean() if t else eps[t]
    close = 5000.0 * np.exp(np.cumsum(r))
    spread = np.abs(rng.normal(0.0, 0.006, (n_days, 2)))
    open_ = close * np.exp(-r * rng.uniform(0.2, 0.8, n_days))
    high = np.maximum(close, open_) * np.exp(spread[:, 0])
    low = np.minimum(close, open_) * np.exp(-spread[:, 1])
    volume = rng.lognormal(12.0, 0.3, n_days)
    volume[: n_days // 5] = 0.0  # like Yahoo's index volume before 2013
    dates = pd.bdate_range(start, periods=n_days, name="date")
    return pd.DataFrame(
        {"close": close, "high": high, "low": low, "open": open_, "volume": volume}, index=dates
    )


def weekly_expiry_positions(n_days: int, every: int = 5) -> np.ndarray:
    """Session positions of synthetic 'expiries': every ``every``-th session."""
    return np.arange(every - 1, n_days, every)


def windows_from_ohlcv(
    frame: pd.DataFrame,
    length: int = 20,
    expiry_positions: np.ndarray | None = None,
    labeler: QuantileLabeler | None = None,
) -> WindowDataset:
    """Windows of the last ``length`` sessions, labelled with the return to the next expiry.

    ``y_class`` comes from ``labeler`` fitted on all labelled samples (a placeholder: the
    walk-forward refits it per fold on the training side only).
    """
    n = len(frame)
    close = frame["close"].to_numpy(np.float64)
    logc = np.log(close)
    prices = np.stack(
        [np.log(frame[c].to_numpy(np.float64)) for c in ("close", "high", "low", "open")]
    )
    pw = sliding_window_view(prices, length, axis=1)  # (4, N', L)
    pw = pw - logc[length - 1 :][None, :, None]
    vol = np.log1p(np.maximum(frame["volume"].to_numpy(np.float64), 0.0))
    vw = sliding_window_view(vol, length)
    vw = vw - vw.mean(axis=1, keepdims=True)
    X = np.concatenate([pw.transpose(1, 0, 2), vw[:, None, :]], axis=1).astype(np.float32)
    ends = np.arange(length - 1, n)
    if expiry_positions is None:
        expiry_positions = weekly_expiry_positions(n)
    nxt = np.searchsorted(expiry_positions, ends, side="right")
    has = nxt < len(expiry_positions)
    epos = np.where(has, expiry_positions[np.minimum(nxt, len(expiry_positions) - 1)], 0)
    dates = pd.DatetimeIndex(frame.index)
    expiry_dates = pd.DatetimeIndex(np.where(has, dates.values[epos], np.datetime64("NaT")))
    y_return = np.where(has, logc[epos] - logc[ends], np.nan)
    horizon = np.where(has, epos - ends, 0).astype(np.int64)
    dr = np.diff(logc, prepend=logc[0])
    sigma = sliding_window_view(dr, length).std(axis=1)
    lab = labeler or QuantileLabeler()
    y_class = lab.fit(y_return).transform(y_return)
    return WindowDataset(
        X=X,
        end_dates=pd.DatetimeIndex(dates[ends], name="date"),
        expiry_dates=expiry_dates,
        horizon=horizon,
        y_return=y_return,
        y_class=y_class,
        sigma=sigma,
        features=FEATURES,
    )


def synthetic_dataset(
    n_days: int = 1200, seed: int = 0, length: int = 20, momentum: float = 0.5
) -> WindowDataset:
    """A synthetic dataset with weekly expiries every 5 sessions."""
    return windows_from_ohlcv(synthetic_ohlcv(n_days, seed, momentum), length=length)


def truncate(dataset: WindowDataset, last_date: pd.Timestamp | str) -> WindowDataset:
    """The dataset as it would have been built from data up to ``last_date`` only.

    Windows after it disappear; labels whose expiry lies after it become unlabelled.
    """
    d = pd.Timestamp(last_date)
    keep = np.asarray(dataset.end_dates <= d)
    sub = dataset.subset(keep)
    late = np.asarray(sub.expiry_dates > d) | sub.expiry_dates.isna()
    exp = sub.expiry_dates.where(~late)
    return WindowDataset(
        X=sub.X,
        end_dates=sub.end_dates,
        expiry_dates=pd.DatetimeIndex(exp),
        horizon=np.where(late, 0, sub.horizon),
        y_return=np.where(late, np.nan, sub.y_return),
        y_class=np.where(late, -1, sub.y_class),
        sigma=sub.sigma,
        features=sub.features,
    )
