"""Fixtures for the data-stage tests: the real history (if present), a small synthetic frame."""

from __future__ import annotations

import pandas as pd
import pytest

from niftycnn.data import synthetic_ohlcv


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
