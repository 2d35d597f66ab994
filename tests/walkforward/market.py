"""Datasets for the walk-forward tests, built by the real data and windows layers.

A planted-momentum synthetic market (so a network has something to learn) with NIFTY
weekly expiries, quantile labels (refitted per fold by the walk-forward). ``target``
picks the label target: the next expiry (the default), 5 trading days, or a 5-day
triple barrier.
"""

from __future__ import annotations

import pandas as pd

from niftycnn.config import LabelsConfig
from niftycnn.data import synthetic_ohlcv
from niftycnn.windows import WindowDataset, build_dataset


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
