"""Per-sample losses of the predictions table, for the tests that compare models.

The Diebold-Mariano tests (``evaluate``) and the multiple-comparison tests
(``multiple``) compare models on one per-sample loss: ``log_loss`` (the probability of
the true class), ``zero_one`` (a wrong class) or ``squared_error`` (of the predicted
return), the first that every model compared has. Under CPCV a date is predicted once
per path; a model's loss on that date is then the mean over the paths, so each date
counts once (every path predicts every date, so no path weighs more).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from niftycnn.schema import labelled, n_classes_of, proba_columns

EPS = float(np.finfo(np.float64).eps)
LOSSES: tuple[str, ...] = ("log_loss", "zero_one", "squared_error")


def per_sample_loss(rows: pd.DataFrame, kind: str) -> pd.Series:
    """Each row's loss of ``kind``, indexed like ``rows``."""
    y = rows["y_true"].to_numpy(dtype=np.int64)
    if kind == "log_loss":
        p = rows[proba_columns(n_classes_of(rows))].to_numpy(dtype=float)
        loss = -np.log(np.clip(p[np.arange(len(y)), y], EPS, 1.0))
    elif kind == "zero_one":
        loss = (rows["y_pred"].to_numpy(dtype=np.int64) != y).astype(float)
    else:
        loss = (rows["y_return"].to_numpy(float) - rows["r_pred"].to_numpy(float)) ** 2
    return pd.Series(loss, index=rows.index)


def available_losses(rows: pd.DataFrame) -> tuple[str, ...]:
    """The losses a model's rows define: log loss needs probabilities, zero-one classes."""
    cols = proba_columns(n_classes_of(rows))
    out = ["log_loss"] if np.all(np.isfinite(rows[cols].to_numpy(float))) else []
    if np.all(rows["y_pred"].to_numpy() >= 0):
        out.append("zero_one")
    return (*out, "squared_error")


def loss_kind(frames: Sequence[pd.DataFrame], preferred: str) -> str:
    """The loss to compare ``frames`` on: ``preferred`` if all have it, else zero-one if
    all have classes, else squared error."""
    common = set.intersection(*(set(available_losses(f)) for f in frames))
    if preferred in common:
        return preferred
    return "zero_one" if "zero_one" in common else "squared_error"


def loss_table(groups: Mapping[str, pd.DataFrame], kind: str) -> pd.DataFrame:
    """date x model losses on the labelled (date, path) rows every model has, averaged
    over paths (see the module docstring)."""
    series = {}
    for name, rows in groups.items():
        lab = labelled(rows)
        loss = per_sample_loss(lab, kind)
        loss.index = pd.MultiIndex.from_arrays([lab.index, lab["path"].to_numpy()])
        series[name] = loss
    table = pd.DataFrame(series).dropna()
    return table.groupby(level=0, sort=True).mean()
