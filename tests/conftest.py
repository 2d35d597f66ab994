"""Shared fixtures: the real NIFTY history from ../shared/data (skipped where absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout (project machines and CI); NIFTYCNN_SHARED_DATA
# points elsewhere (e.g. from a git worktree).
SHARED_DATA = Path(os.environ.get("NIFTYCNN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
REAL_NIFTY_CSV = SHARED_DATA / "nifty50_yahoo_daily.csv"


@pytest.fixture(scope="session")
def real_nifty_csv() -> Path:
    """Path of the real NIFTY 50 daily history; the test skips where it is absent."""
    if not REAL_NIFTY_CSV.exists():
        pytest.skip(f"real NIFTY data not found at {REAL_NIFTY_CSV} (only on project machines)")
    return REAL_NIFTY_CSV
