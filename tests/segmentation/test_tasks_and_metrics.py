"""Per-day labels and metrics: hand-computed numbers, labels from the window alone."""

from __future__ import annotations

import numpy as np
import pytest

from niftycnn.errors import SegmentationError
from niftycnn.segmentation import (
    iou,
    per_class_f1,
    planted_shapes,
    segmentation_scores,
    trend_regimes,
)


def test_iou_and_f1_of_a_hand_counted_mask():
    true = np.array([[0, 1, 1, 1, 0], [0, 0, 0, 0, 0]])
    pred = np.array([[0, 0, 1, 1, 1], [1, 0, 0, 0, 0]])
    # class 1: TP 2, FP 2, FN 1 -> IoU 2/5, F1 4/7; class 0: TP 5, FP 1, FN 2 -> 5/8, 10/13
    assert iou(true, pred, 1) == pytest.approx(2 / 5)
    assert iou(true, pred, 0) == pytest.approx(5 / 8)
    np.testing.assert_allclose(per_class_f1(true, pred, 3)[:2], [10 / 13, 4 / 7])
    assert np.isnan(per_class_f1(true, pred, 3)[2])  # a class in neither mask
    scores = segmentation_scores(true, pred, 2)
    assert scores["days"].tolist() == [7, 3] and scores.attrs["accuracy"] == pytest.approx(0.7)


def test_masks_of_different_shapes_are_an_error():
    with pytest.raises(SegmentationError, match="differ in shape"):
        iou(np.zeros((2, 5)), np.zeros((2, 4)))


def test_planted_mask_marks_exactly_the_shapes_days():
    data = planted_shapes(500, strength=2.0, seed=3)
    assert data.X.shape == (500, 2, 20) and data.mask.shape == (500, 20)
    has = data.start >= 0
    assert 0.7 < has.mean() < 0.9  # p_shape 0.8
    expected = np.zeros_like(data.mask)
    for i in np.flatnonzero(has):
        expected[i, data.start[i] : data.start[i] + data.width[i]] = 1
    np.testing.assert_array_equal(data.mask, expected)
    assert data.width[has].min() >= 5 and data.width[has].max() <= 8
    # normalised with the window's own data: the last day's level is 0, returns unit std
    np.testing.assert_allclose(data.X[:, 0, -1], 0, atol=1e-6)
    np.testing.assert_allclose(data.X[:, 1, 1:].std(axis=1), 1, rtol=1e-4)


def test_trend_regimes_of_a_rise_then_a_fall():
    rng = np.random.default_rng(0)
    up, down = np.linspace(0, 0.1, 10), np.linspace(0.1, 0.0, 11)[1:]
    close = 100 * np.exp(np.concatenate([up, down]) + 1e-4 * rng.standard_normal(20))
    labels = trend_regimes(close[None], spans=(5, 10))[0]
    # a day's segments start on it: the rise's first days see only the rise, the last
    # days of the window see the fall (their segments are moved back to end on day 19)
    assert (labels[:5] == 2).all() and (labels[10:] == 0).all()
    noise = 100 * np.exp(1e-3 * rng.standard_normal((2000, 20)))
    shares = np.bincount(trend_regimes(noise).ravel(), minlength=3) / noise.size
    assert abs(shares[0] - shares[2]) < 0.02 and shares[1] > 0.5  # no direction in noise
    assert (trend_regimes(noise, threshold=1e9) == 1).all()


def test_trend_regimes_use_no_day_after_the_window():
    rng = np.random.default_rng(1)
    path = 100 * np.exp(np.cumsum(0.01 * rng.standard_normal(60)))
    windows = np.lib.stride_tricks.sliding_window_view(path, 20)  # (41, 20)
    labels = trend_regimes(windows)
    # each window's labels are those of the window alone, whatever follows it
    for i in (0, 17, 40):
        np.testing.assert_array_equal(labels[i], trend_regimes(windows[i : i + 1])[0])
    with pytest.raises(SegmentationError, match="spans"):
        trend_regimes(windows, spans=(2, 5))
