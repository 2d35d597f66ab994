"""The predictions table and the label vocabulary: the contract between training and
evaluation. The walk-forward writes this table, the backtest and the report read it; no
other module spells its columns or the class names.

Label vocabulary (any class count K from 2 to 20). Classes are ordered by return, 0 the
most negative. Names: 2 Down / Up; 3 Down / Flat / Up; 4 Large Down / Small Down /
Small Up / Large Up; 5 Large Down / Small Down / Flat / Small Up / Large Up; more than
5: C1 (lowest) ... CK (highest). The *down* classes are the lower half, the *up*
classes the upper half; with K odd the middle class is neutral (flat).

Predictions table: one row per (window end date, symbol, model, path). Index ``date``: the
window end t, the day the prediction is made at the close. Columns (:data:`BASE_COLUMNS`, then
``proba_0`` .. ``proba_{K-1}``):

- ``model``: "cnn" or a baseline name; ``task``: "classification" or "regression".
- ``fold``, ``n_seeds``: the fold (walk-forward refit or CPCV split) that produced the
  row; seeds averaged.
- ``path``: the backtest path the row belongs to. A walk-forward has one path (0), so
  each (date, model) has one row. Under CPCV (``niftycnn.walkforward.cpcv``) a sample is
  tested in several splits, once per path: a (date, model) has one row per path, and
  each path is a full out-of-sample history that is backtested on its own.
- ``symbol``: the series the window comes from. A single series has one symbol (its
  name, e.g. ``^NSEI``); a universe (``niftycnn.windows.build_panel``) has one row per
  symbol trading on the date, so (date, model, path) repeats once per symbol.
- ``train_start``, ``train_end``: first and last window end date of the training side.
- ``label_end``: the date the label's return is measured to (the next expiry, the
  horizon's last day, the first barrier touch: ``niftycnn.windows.targets``); purging
  uses it. ``horizon``: trading days from t to it.
- ``y_true``: class (:data:`UNLABELLED` = -1 without a label); ``y_return``: the label's
  log return (NaN without a label).
- ``y_pred``: predicted class; for regression models the class of the predicted return
  under the fold's thresholds, -1 when not defined.
- ``r_pred``: predicted return. Regression: the model output. Classification:
  sum_k proba_k * (mean training return of class k in that fold).
- ``train_mean``: the mean label return of the fold's training side: the benchmark of the
  out-of-sample R^2 (Campbell & Thompson 2008).
- ``best_epoch``: networks: mean over seeds of the epoch restored by early stopping
  (0-based); NaN for the other baselines.
- ``proba_k``: class probabilities (NaN for models without them).

Per-day (segmentation) predictions, ``[model] head = "segmentation"``: one row per (test
window, day of the window, model), columns :data:`SEGMENT_COLUMNS` then ``proba_k``:
``window`` (the window's position among the task's windows, in time order), ``end_date``
(its last day; NaT for generated windows without dates), ``day`` (0 = the window's first
day, L - 1 its last), ``model`` ("cnn" or "per_day_logistic"), ``y_true`` / ``y_pred``
(day classes, :data:`DAY_CLASSES`), ``proba_k`` (the day's class probabilities; the
network's averaged over seeds).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from niftycnn.errors import BacktestError, LabelError

UNLABELLED = -1
MIN_CLASSES, MAX_CLASSES = 2, 20

_NAMES: dict[int, tuple[str, ...]] = {
    2: ("Down", "Up"),
    3: ("Down", "Flat", "Up"),
    4: ("Large Down", "Small Down", "Small Up", "Large Up"),
    5: ("Large Down", "Small Down", "Flat", "Small Up", "Large Up"),
}


@dataclass(frozen=True)
class LabelVocabulary:
    """Names and directions of K return-ordered classes (see the module docstring)."""

    n_classes: int

    def __post_init__(self) -> None:
        k = self.n_classes
        if isinstance(k, bool) or not isinstance(k, int) or not MIN_CLASSES <= k <= MAX_CLASSES:
            raise LabelError(
                f"a label needs {MIN_CLASSES} to {MAX_CLASSES} classes, got {k!r}; "
                "set [labels] classes"
            )

    @cached_property
    def names(self) -> tuple[str, ...]:
        k = self.n_classes
        if k in _NAMES:
            return _NAMES[k]
        return tuple(
            f"C{j + 1}" + (" (lowest)" if j == 0 else " (highest)" if j == k - 1 else "")
            for j in range(k)
        )

    @property
    def down(self) -> tuple[int, ...]:
        """The classes below the middle: a bearish prediction."""
        return tuple(range(self.n_classes // 2))

    @property
    def up(self) -> tuple[int, ...]:
        """The classes above the middle: a bullish prediction."""
        return tuple(range((self.n_classes + 1) // 2, self.n_classes))

    @property
    def proba_columns(self) -> list[str]:
        return proba_columns(self.n_classes)


def proba_columns(n_classes: int) -> list[str]:
    return [f"proba_{k}" for k in range(n_classes)]


BASE_COLUMNS: dict[str, str] = {
    "model": "str",
    "task": "str",
    "fold": "int64",
    "path": "int64",
    "symbol": "str",
    "n_seeds": "int64",
    "train_start": "datetime64[ns]",
    "train_end": "datetime64[ns]",
    "label_end": "datetime64[ns]",
    "horizon": "int64",
    "y_true": "int64",
    "y_return": "float64",
    "y_pred": "int64",
    "r_pred": "float64",
    "train_mean": "float64",
    "best_epoch": "float64",
}


def prediction_columns(n_classes: int) -> list[str]:
    return [*BASE_COLUMNS, *proba_columns(n_classes)]


def n_classes_of(predictions: pd.DataFrame) -> int:
    """The class count K of a predictions table (its ``proba_k`` columns)."""
    k = sum(1 for c in predictions.columns if str(c).startswith("proba_"))
    if k < MIN_CLASSES:
        raise BacktestError(
            f"predictions frame has {k} proba_ columns; build it with "
            "niftycnn.schema.prediction_columns(n_classes)"
        )
    return k


def require_columns(frame: pd.DataFrame, columns: list[str], what: str = "predictions") -> None:
    """Raise :class:`BacktestError` naming the first column ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BacktestError(
            f"{what} frame lacks column {missing[0]!r} (missing: {missing}); "
            "build it with niftycnn.schema.prediction_columns()"
        )


DAY_CLASSES: dict[str, tuple[str, ...]] = {
    "planted_shapes": ("outside", "shape"),  # is the day part of the planted shape
    "trend_regimes": ("down", "flat", "up"),  # the day's trend-scanning regime
}
"""The day classes of each per-day task (``[segmentation] task``), by class index."""

SEGMENT_COLUMNS: dict[str, str] = {
    "window": "int64",
    "end_date": "datetime64[ns]",
    "day": "int64",
    "model": "str",
    "y_true": "int64",
    "y_pred": "int64",
}


def segment_columns(n_classes: int) -> list[str]:
    return [*SEGMENT_COLUMNS, *proba_columns(n_classes)]


def conform_segments(frame: pd.DataFrame, n_classes: int) -> pd.DataFrame:
    """The per-day predictions table with exactly its schema's columns and dtypes."""
    require_columns(frame, segment_columns(n_classes), "per-day predictions")
    out = frame[segment_columns(n_classes)].reset_index(drop=True)
    for column, dtype in SEGMENT_COLUMNS.items():
        out[column] = out[column].astype(dtype)
    probas = proba_columns(n_classes)
    out[probas] = out[probas].astype("float64")
    return out


DEFAULTS: dict[str, object] = {"path": 0, "symbol": ""}
"""The value of a column a table written before it existed (or built by hand for one
path of one series) lacks."""


def with_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` itself, or with the :data:`DEFAULTS` of the columns it lacks."""
    missing = {k: v for k, v in DEFAULTS.items() if k not in frame.columns}
    return frame.assign(**missing) if missing else frame


def n_symbols(frame: pd.DataFrame) -> int:
    """How many symbols a predictions table holds (1 for a single series)."""
    return int(frame["symbol"].nunique()) if "symbol" in frame.columns else 1


def conform(frame: pd.DataFrame, n_classes: int) -> pd.DataFrame:
    """The table with exactly the schema's columns, in order, one dtype each, so a table
    built fresh and one read back from Parquet compare equal (see :func:`with_defaults`)."""
    frame = with_defaults(frame)
    require_columns(frame, prediction_columns(n_classes))
    out = frame[prediction_columns(n_classes)].copy()
    for column, dtype in BASE_COLUMNS.items():
        out[column] = (
            pd.to_datetime(out[column]).astype(dtype)
            if dtype.startswith("datetime")
            else out[column].astype(dtype)
        )
    probas = proba_columns(n_classes)
    out[probas] = out[probas].astype("float64")
    # through numpy so no ``freq`` survives: a fresh table and a reloaded one compare equal
    out.index = pd.DatetimeIndex(np.asarray(out.index, dtype="datetime64[ns]"), name="date")
    return out


def empty_predictions(n_classes: int) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in prediction_columns(n_classes)})
    frame.index = pd.DatetimeIndex([], name="date")
    return conform(frame, n_classes)


def labelled(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows that have a label (a class and a finite return)."""
    keep = (rows["y_true"].to_numpy() != UNLABELLED) & np.isfinite(rows["y_return"].to_numpy(float))
    return rows[keep]
