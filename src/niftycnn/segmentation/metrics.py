"""Per-day metrics of a segmentation: IoU and per-class F1, pooled over every day."""

from __future__ import annotations

import numpy as np
import pandas as pd

from niftycnn.errors import SegmentationError


def _counts(true: np.ndarray, pred: np.ndarray, cls: int) -> tuple[int, int, int]:
    if true.shape != pred.shape:
        raise SegmentationError(
            f"true masks {true.shape} and predicted masks {pred.shape} differ in shape; "
            "give one class per day for the same windows"
        )
    t, p = true == cls, pred == cls
    return int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum())


def iou(true: np.ndarray, pred: np.ndarray, cls: int = 1) -> float:
    """Intersection over union of class ``cls``'s days, pooled over all windows:
    TP / (TP + FP + FN); NaN when the class occurs in neither."""
    tp, fp, fn = _counts(np.asarray(true), np.asarray(pred), cls)
    return tp / (tp + fp + fn) if tp + fp + fn else float("nan")


def per_class_f1(true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """F1 = 2 TP / (2 TP + FP + FN) of each class over every day (NaN for a class that
    occurs in neither)."""
    out = np.full(n_classes, np.nan)
    for k in range(n_classes):
        tp, fp, fn = _counts(np.asarray(true), np.asarray(pred), k)
        if tp + fp + fn:
            out[k] = 2 * tp / (2 * tp + fp + fn)
    return out


def segmentation_scores(true: np.ndarray, pred: np.ndarray, n_classes: int) -> pd.DataFrame:
    """One row per class: days, IoU, F1; plus the per-day accuracy in ``attrs``."""
    true, pred = np.asarray(true), np.asarray(pred)
    frame = pd.DataFrame(
        {
            "days": [int((true == k).sum()) for k in range(n_classes)],
            "iou": [iou(true, pred, k) for k in range(n_classes)],
            "f1": per_class_f1(true, pred, n_classes),
        },
        index=pd.RangeIndex(n_classes, name="class"),
    )
    frame.attrs["accuracy"] = float((true == pred).mean())
    return frame
