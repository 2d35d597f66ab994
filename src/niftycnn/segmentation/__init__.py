"""Segmentation stage: a label for every day of a window, and networks that predict it.

Reads windows (N, C, L) and per-day masks (N, L) of class indices; gives trained
per-step networks (a ``segmentation`` head, e.g. the ``unet1d`` preset), their per-day
predictions, per-day metrics (IoU, per-class F1) and a figure of a few windows with
their true and predicted masks. Writes only the figure it is asked for.

Tasks: ``planted_shapes`` (synthetic: which days belong to a planted chart shape) and
``trend_regimes`` (real data: up / down / flat per day from trend scanning computed
inside the window only).
"""

from niftycnn.segmentation.metrics import iou, per_class_f1, segmentation_scores
from niftycnn.segmentation.tasks import (
    PlantedShapes,
    normalise_windows,
    planted_shapes,
    trend_regimes,
)
from niftycnn.segmentation.train import (
    day_features,
    fit_per_day_logistic,
    mask_figure,
    per_day_logistic_proba,
    predict_segments,
    segment_probabilities,
    train_segmenter,
)

__all__ = [
    "PlantedShapes",
    "day_features",
    "fit_per_day_logistic",
    "iou",
    "mask_figure",
    "normalise_windows",
    "per_class_f1",
    "per_day_logistic_proba",
    "planted_shapes",
    "predict_segments",
    "segment_probabilities",
    "segmentation_scores",
    "train_segmenter",
    "trend_regimes",
]
