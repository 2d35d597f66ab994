"""Helpers shared by the data-stage tests (builders of yfinance-shaped frames and CSV rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from niftycnn.data import nse_sessions


def yf_frame(frame: pd.DataFrame, ticker: str = "^NSEI") -> pd.DataFrame:
    """A frame shaped exactly like ``yfinance.download`` 1.x output for one ticker:
    (Price, Ticker) MultiIndex columns Close/High/Low/Open/Volume, index named Date."""
    prices = ["Close", "High", "Low", "Open", "Volume"]
    columns = pd.MultiIndex.from_tuples([(p, ticker) for p in prices], names=["Price", "Ticker"])
    values = frame[[p.lower() for p in prices]].to_numpy()
    out = pd.DataFrame(values, index=pd.DatetimeIndex(frame.index, name="Date"), columns=columns)
    out[("Volume", ticker)] = out[("Volume", ticker)].astype("int64")
    return out


def sessions(start: str, n: int) -> pd.DatetimeIndex:
    """The first ``n`` NSE sessions from ``start``."""
    return nse_sessions(start, pd.Timestamp(start) + pd.Timedelta(days=3 * n + 10))[:n]


def flat_rows(n: int = 40, start: str = "2024-01-01") -> pd.DataFrame:
    """A simple valid frame (date column + OHLCV) for CSV tests."""
    idx = sessions(start, n)
    close = 100 + np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "date": idx.strftime("%Y-%m-%d"),
            "open": close - 0.5,
            "high": close + 1,
            "low": close - 1,
            "close": close,
            "volume": np.full(n, 1000.0),
        }
    )
