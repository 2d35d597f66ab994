"""Fixtures for the data-stage tests: the real history (if present), a small synthetic frame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from niftycnn.data import synthetic_ohlcv

_REAL_NAME = Path("shared") / "data" / "nifty50_yahoo_daily.csv"


@pytest.fixture(scope="session")
def real_nifty_csv() -> Path:
    """The real NIFTY history: ``<repo>/../shared/data`` as in tests/conftest.py, or the first
    ``shared/data`` found further up (a git worktree lives one level deeper); else skip."""
    here = Path(__file__).resolve().parents[2]
    for parent in here.parents:
        if (parent / _REAL_NAME).exists():
            return parent / _REAL_NAME
    pytest.skip(f"real NIFTY data not found in any ../{_REAL_NAME} (only on project machines)")


@pytest.fixture(scope="session")
def small_frame() -> pd.DataFrame:
    """Sixty sessions of synthetic canonical data (early 2024)."""
    return synthetic_ohlcv(60, seed=1, start="2024-01-01")


@pytest.fixture(autouse=True)
def no_real_sleep(monkeypatch):
    """Retry backoff must never really sleep in tests: fail loudly if anything tries."""

    def refuse(seconds: float) -> None:
        raise AssertionError(f"a test tried to sleep {seconds} s; inject sleep or backoff=0")

    monkeypatch.setattr("time.sleep", refuse)
