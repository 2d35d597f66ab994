"""Fixtures for the windows stage: the real NIFTY frame and small synthetic frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from niftycnn.data import clean_ohlcv, read_csv

OHLCV = ["open", "high", "low", "close", "volume"]


@pytest.fixture(scope="session")
def real_frame(real_nifty_csv: Path) -> pd.DataFrame:
    return clean_ohlcv(read_csv(real_nifty_csv))


def synthetic_frame(n: int = 120, start: str = "2016-01-04", seed: int = 0) -> pd.DataFrame:
    """A random-walk OHLCV frame on business days (volume 0 on some days, like Yahoo)."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range(start, periods=n, name="date")
    close = 8000.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = close * np.exp(rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.004, n)))
    volume = rng.integers(1e5, 1e6, n).astype(float)
    volume[rng.random(n) < 0.1] = 0.0
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx
    )


@pytest.fixture(scope="session")
def make_frame():  # type: ignore[no-untyped-def]
    """The synthetic_frame factory, for tests that need frames of their own."""
    return synthetic_frame
