"""Fixtures for the windows stage: the real NIFTY frame and small synthetic frames."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

OHLCV = ["open", "high", "low", "close", "volume"]
_REPO_ROOT = Path(__file__).resolve().parents[2]
_CSV = Path("data") / "nifty50_yahoo_daily.csv"


def load_ohlcv(path: Path) -> pd.DataFrame:
    """The canonical OHLCV frame from a CSV (a stand-in for the data layer's reader)."""
    frame = pd.read_csv(path, index_col="date", parse_dates=True)[OHLCV].astype(float)
    frame.index.name = "date"
    return frame


@pytest.fixture(scope="session")
def real_nifty_csv() -> Path:
    """The real history: ../shared (a clone) or ../../shared (a git worktree); else skip.

    Overrides tests/conftest.py's fixture, whose ../shared does not exist inside a
    worktree at /work/wt/<stage>.
    """
    candidates = [
        Path(os.environ.get("NIFTYCNN_SHARED_DATA", "/nonexistent")) / _CSV.name,
        _REPO_ROOT.parent / "shared" / _CSV,
        _REPO_ROOT.parents[1] / "shared" / _CSV,
    ]
    for path in candidates:
        if path.exists():
            return path
    pytest.skip(f"real NIFTY data not found at {candidates[1]} (only on project machines)")


@pytest.fixture(scope="session")
def real_frame(real_nifty_csv: Path) -> pd.DataFrame:
    return load_ohlcv(real_nifty_csv)


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
