"""Fixtures for the backtest tests: predictions frames built straight from a close series.

The windows stage is written in parallel, so labels here come from a simple rule:
weekly expiries on Thursday (or the previous session when Thursday is a holiday), the
label of day t is the log return from t's close to the first expiry strictly after t,
and classes are the 20/40/60/80% quantiles of those returns (fine for tests only).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from niftycnn.schema import prediction_columns, proba_columns


@pytest.fixture(scope="session")
def real_close(real_nifty_csv: Path) -> pd.Series:
    frame = pd.read_csv(real_nifty_csv, index_col="date", parse_dates=True)
    return frame["close"].astype(float)


def weekly_expiries(sessions: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Thursday of every week, moved to the last session on or before it."""
    thursdays = pd.date_range(sessions[0], sessions[-1] + pd.Timedelta(days=7), freq="W-THU")
    pos = sessions.searchsorted(thursdays, side="right") - 1
    return pd.DatetimeIndex(np.unique(sessions[pos[pos >= 0]]))


def label_frame(close: pd.Series, n_folds: int = 4) -> pd.DataFrame:
    """Per-date labels: label_end (the expiry), horizon, y_return, y_true (-1/NaN past the
    data), fold."""
    sessions = pd.DatetimeIndex(close.index)
    expiries = weekly_expiries(sessions)
    k = expiries.searchsorted(sessions, side="right")
    valid = k < len(expiries)
    expiry = pd.Series(pd.NaT, index=sessions, dtype="datetime64[ns]")
    expiry[valid] = expiries[k[valid]]
    exp_pos = sessions.get_indexer(pd.DatetimeIndex(expiry))
    prices = close.to_numpy(float)
    labelled = exp_pos >= 0
    y_return = np.full(len(sessions), np.nan)
    y_return[labelled] = np.log(prices[exp_pos[labelled]] / prices[labelled])
    edges = np.nanquantile(y_return, [0.2, 0.4, 0.6, 0.8])
    y_true = np.where(labelled, np.searchsorted(edges, np.nan_to_num(y_return)), -1)
    horizon = np.where(labelled, exp_pos - np.arange(len(sessions)), 0)
    fold = np.minimum(np.arange(len(sessions)) * n_folds // len(sessions), n_folds - 1)
    frame = pd.DataFrame(
        {
            "label_end": expiry.to_numpy(),
            "horizon": horizon,
            "y_true": y_true,
            "y_return": y_return,
            "fold": fold,
        },
        index=pd.DatetimeIndex(sessions, name="date"),
    )
    return frame


def with_model(
    labels: pd.DataFrame,
    model: str,
    y_pred: np.ndarray,
    r_pred: np.ndarray,
    proba: np.ndarray | None,
    task: str = "classification",
) -> pd.DataFrame:
    """A predictions frame (the walk-forward contract) for one model on ``labels``' dates."""
    n = len(labels)
    frame = labels.copy()
    frame["model"] = model
    frame["task"] = task
    frame["path"] = 0
    frame["n_seeds"] = 1
    frame["train_start"] = labels.index[0]
    frame["train_end"] = labels.index[0]
    frame["y_pred"] = np.asarray(y_pred, dtype=np.int64)
    frame["r_pred"] = np.asarray(r_pred, dtype=float)
    frame["train_mean"] = np.nan  # no fold training mean: R^2 is NaN
    frame["best_epoch"] = np.nan
    probs = np.full((n, 5), np.nan) if proba is None else np.asarray(proba, dtype=float)
    for k, col in enumerate(proba_columns(5)):
        frame[col] = probs[:, k]
    return frame[prediction_columns(5)]


def leaky_model(labels: pd.DataFrame, name: str = "cnn") -> pd.DataFrame:
    """Peeks at the label: y_pred = y_true, r_pred = y_return, 0.8 on the true class."""
    y = labels["y_true"].to_numpy()
    proba = np.full((len(y), 5), 0.05)
    proba[np.arange(len(y)), np.clip(y, 0, 4)] = 0.8
    return with_model(labels, name, np.clip(y, 0, 4), np.nan_to_num(labels["y_return"]), proba)


def random_model(labels: pd.DataFrame, seed: int, name: str = "cnn") -> pd.DataFrame:
    """No skill: classes, probabilities and returns drawn at random with a fixed seed."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    proba = rng.dirichlet(np.ones(5), size=n)
    y_pred = proba.argmax(axis=1)
    r_pred = rng.normal(0.0, 0.02, size=n)
    return with_model(labels, name, y_pred, r_pred, proba)


@pytest.fixture(scope="session")
def pb() -> SimpleNamespace:
    """The predictions builders above, for test modules (conftest is not importable)."""
    return SimpleNamespace(
        label_frame=label_frame,
        with_model=with_model,
        leaky_model=leaky_model,
        random_model=random_model,
        weekly_expiries=weekly_expiries,
    )
