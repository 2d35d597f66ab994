"""The out-of-sample predictions table: the contract between training and evaluation.

One row per (window end date, model). Index: ``date`` (the window end t, the day the
prediction is made at the close). Columns:

- ``model``: "cnn" or a baseline name ("majority", "logistic", "ridge", "momentum",
  "fixed_kernels", "mean"); ``task``: "classification" or "regression".
- ``fold`` (int), ``n_seeds`` (int): the fold that produced the row, seeds averaged.
- ``train_start``, ``train_end``: first and last window end date of the training side.
- ``expiry`` (datetime; label end date), ``horizon`` (int trading days).
- ``y_true`` (int class, -1 if unlabelled), ``y_return`` (float, NaN if unlabelled).
- ``y_pred`` (int class; for regression models the class of the predicted return under
  the fold's thresholds, or -1 when not defined).
- ``proba_0`` .. ``proba_{K-1}`` (float; NaN for regression models).
- ``r_pred`` (float): predicted return to expiry. Regression: the model output.
  Classification: sum_k proba_k * (mean training return of class k in that fold).

Extra column written by ``run_walkforward`` (consumers may ignore it):

- ``best_epoch`` (float): CNN models: the mean over seeds of the epoch whose weights were
  restored by early stopping (0-based); NaN for baselines.
"""

from __future__ import annotations

import pandas as pd

BASE_COLUMNS: tuple[str, ...] = (
    "model",
    "task",
    "fold",
    "n_seeds",
    "train_start",
    "train_end",
    "expiry",
    "horizon",
    "y_true",
    "y_return",
    "y_pred",
    "r_pred",
)


def proba_columns(n_classes: int = 5) -> list[str]:
    return [f"proba_{k}" for k in range(n_classes)]


def prediction_columns(n_classes: int = 5) -> list[str]:
    return [*BASE_COLUMNS, *proba_columns(n_classes)]


def empty_predictions(n_classes: int = 5) -> pd.DataFrame:
    frame = pd.DataFrame(columns=prediction_columns(n_classes))
    frame.index = pd.DatetimeIndex([], name="date")
    return frame
