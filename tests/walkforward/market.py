"""Datasets for the walk-forward tests, built by the real data and windows layers.

A planted-momentum synthetic market (so a network has something to learn) with NIFTY
weekly expiries, quantile labels (refitted per fold by the walk-forward). ``target``
picks the label target: the next expiry (the default), 5 trading days, or a 5-day
triple barrier.
"""

from __future__ import annotations

import pandas as pd

from niftycnn.config import LabelsConfig, SyntheticConfig
from niftycnn.data import synthetic_ohlcv
from niftycnn.data.synthetic_universe import synthetic_universe
from niftycnn.windows import WindowDataset, build_dataset, build_panel


def market(n_days: int, seed: int) -> pd.DataFrame:
    return synthetic_ohlcv(n_days, seed, start="2019-03-01", pattern="momentum")


TARGETS = ("expiry", "horizon", "triple_barrier")


def dataset(frame: pd.DataFrame, target: str = "expiry") -> WindowDataset:
    labels = LabelsConfig(expiry="weekly", mode="quantile", target=target, horizon=5)
    return build_dataset(frame, labels=labels)


def truncated(
    frame: pd.DataFrame, last_date: pd.Timestamp, target: str = "expiry"
) -> WindowDataset:
    """The dataset as it would have been built from data up to ``last_date`` only."""
    return dataset(frame.loc[:last_date], target)


def universe_frames(n_symbols: int, n_days: int, seed: int) -> dict[str, pd.DataFrame]:
    """A small synthetic universe (planted cross-sectional momentum) whose stocks list
    late, stop, pause and miss sessions."""
    cfg = SyntheticConfig(
        n_symbols=n_symbols,
        n_days=n_days,
        start="2019-03-01",
        pattern="momentum",
        lookback=20,
        universe={"late_listings": 0.4, "delistings": 0.2, "suspensions": 0.4, "missing": 0.01},
    )
    return synthetic_universe(cfg, seed).frames


PANEL_LABELS = LabelsConfig(target="horizon", horizon=5, classes=3, mode="quantile")


def panel(frames: dict[str, pd.DataFrame], last_date: pd.Timestamp | None = None) -> WindowDataset:
    """The panel of ``frames``, as built from data up to ``last_date`` only (if given)."""
    if last_date is not None:
        frames = {s: f.loc[:last_date] for s, f in frames.items() if f.index[0] <= last_date}
    return build_panel(frames, labels=PANEL_LABELS)
