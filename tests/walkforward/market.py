"""Datasets for the walk-forward tests, built by the real data and windows layers.

A planted-momentum synthetic market (so a network has something to learn) with NIFTY
weekly expiries, quantile labels (refitted per fold by the walk-forward).
"""

from __future__ import annotations

import pandas as pd

from niftycnn.config import LabelsConfig
from niftycnn.data import synthetic_ohlcv
from niftycnn.windows import WindowDataset, build_dataset


def market(n_days: int, seed: int) -> pd.DataFrame:
    return synthetic_ohlcv(n_days, seed, start="2019-03-01", pattern="momentum")


def dataset(frame: pd.DataFrame) -> WindowDataset:
    return build_dataset(frame, labels=LabelsConfig(expiry="weekly", mode="quantile"))


def truncated(frame: pd.DataFrame, last_date: pd.Timestamp) -> WindowDataset:
    """The dataset as it would have been built from data up to ``last_date`` only."""
    return dataset(frame.loc[:last_date])
