"""Per-fold preparation and the fold's rows of the predictions table.

Everything fitted here comes from the fold's training side only (training samples plus
the validation tail): the labeler (quantile thresholds), the class mean returns (for a
classifier's ``r_pred``), the training mean of the label return (``train_mean``, the
OOS R^2 benchmark), the balanced class weights (training samples) and, for regression,
the target's mean and standard deviation.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from niftycnn.schema import conform
from niftycnn.walkforward.splits import Fold
from niftycnn.walkforward.train import FoldTask, balanced_weights
from niftycnn.windows import Labeler, WindowDataset


@dataclass(frozen=True)
class FoldData:
    """One fold's labels and training-side statistics (see the module docstring)."""

    fold: Fold
    side: np.ndarray  # training + validation positions
    labels: np.ndarray  # class of every sample under this fold's fitted labeler
    labeler: Labeler | None
    class_means: np.ndarray  # (K,) mean training return per class
    train_mean: float  # mean label return of the training side
    target_mean: float  # regression target standardisation (training samples)
    target_std: float

    def classes_of(self, r: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> np.ndarray:
        """The class of a predicted return under this fold's thresholds (-1 if unknown),
        for samples with trailing volatility ``sigma`` and ``horizon`` days in the
        volatility scale (``WindowDataset.scale_days``; volatility-scaled thresholds need
        both; an unlabelled expiry sample counts 1 day)."""
        if self.labeler is None:
            return np.full(len(r), -1, dtype=np.int64)
        return np.asarray(self.labeler.transform(r, sigma, np.maximum(horizon, 1)), dtype=np.int64)

    def task(self, ds: WindowDataset, regression: bool, class_weights: str) -> FoldTask:
        """What the fold's networks train on."""
        f = self.fold
        if regression:
            z = (np.nan_to_num(ds.y_return) - self.target_mean) / self.target_std
            return FoldTask(f.index, f.train_idx, f.val_idx, z.astype(np.float32))
        weights = (
            balanced_weights(self.labels[f.train_idx], ds.n_classes)
            if class_weights == "balanced"
            else None
        )
        return FoldTask(f.index, f.train_idx, f.val_idx, np.maximum(self.labels, 0), weights)


def prepare_fold(ds: WindowDataset, fold: Fold, labeler: Labeler | None) -> FoldData:
    """Fit the fold's labeler and statistics on its training side."""
    side = np.concatenate([fold.train_idx, fold.val_idx])
    if labeler is not None:
        labeler = copy.deepcopy(labeler)  # one fitted labeler per fold
        labeler.fit(ds.y_return[side], ds.sigma[side], ds.scale[side])
        labels = np.asarray(labeler.transform(ds.y_return, ds.sigma, ds.scale), dtype=np.int64)
    else:
        labels = np.asarray(ds.y_class, dtype=np.int64)
    r, y = ds.y_return[side], labels[side]
    means = np.array(
        [r[y == k].mean() if (y == k).any() else r.mean() for k in range(ds.n_classes)]
    )
    train = ds.y_return[fold.train_idx]
    return FoldData(
        fold=fold,
        side=side,
        labels=labels,
        labeler=labeler,
        class_means=means,
        train_mean=float(r.mean()),
        target_mean=float(train.mean()),
        target_std=float(train.std()) or 1.0,
    )


def fold_rows(
    ds: WindowDataset,
    d: FoldData,
    model: str,
    task: str,
    proba: np.ndarray | None,
    r_pred: np.ndarray,
    n_seeds: int,
    best_epoch: float,
) -> pd.DataFrame:
    """One model's rows of the predictions table for the fold's test block."""
    f, test, k = d.fold, d.fold.test_idx, ds.n_classes
    if proba is not None:
        # float32 softmax averaged over seeds: renormalise so each row sums to 1 exactly
        proba = np.asarray(proba, dtype=np.float64)
        proba = proba / proba.sum(1, keepdims=True)
        y_pred = proba.argmax(1)
        if np.isnan(r_pred).all():
            r_pred = (proba * d.class_means).sum(1)  # row-wise: no shape-dependent BLAS
    else:
        y_pred = d.classes_of(r_pred, ds.sigma[test], ds.scale[test])
    columns = {
        "model": model,
        "task": task,
        "fold": f.index,
        "path": f.paths,
        "n_seeds": n_seeds,
        "train_start": f.train_start,
        "train_end": f.train_end,
        "label_end": ds.label_end[test],
        "horizon": ds.horizon[test],
        "y_true": d.labels[test],
        "y_return": ds.y_return[test],
        "y_pred": y_pred,
        "r_pred": r_pred,
        "train_mean": d.train_mean,
        "best_epoch": best_epoch,
    }
    p = np.full((len(test), k), np.nan) if proba is None else proba
    columns |= {f"proba_{j}": p[:, j] for j in range(k)}
    frame = pd.DataFrame(columns, index=pd.DatetimeIndex(ds.end_dates[test], name="date"))
    return conform(frame, k)
