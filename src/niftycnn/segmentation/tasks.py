"""Per-day labels: planted chart shapes (synthetic) and trend regimes (real data).

Both give a mask (N, L) of class indices, one per day of each window, computed from the
window alone: nothing after a window's last day enters its labels (leakage rule 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from niftycnn.errors import SegmentationError
from niftycnn.schema import DAY_CLASSES

SHAPES: tuple[str, ...] = ("peak", "dip", "double_dip")
REGIMES: tuple[str, ...] = DAY_CLASSES["trend_regimes"]  # class indices 0, 1, 2
SEGMENT_CHANNELS = 2  # normalise_windows: level and daily return


@dataclass(frozen=True)
class PlantedShapes:
    """Windows (N, 2, L): channel 0 the log close against the last close, channel 1 the
    daily log return, both divided by the window's own return std; ``mask`` (N, L) is 1 on
    the days of the planted shape, 0 elsewhere; ``start`` / ``width`` / ``kind`` say where
    and what (start -1: no shape in that window)."""

    X: np.ndarray
    mask: np.ndarray
    start: np.ndarray
    width: np.ndarray
    kind: np.ndarray


def _profile(kind: str, width: int) -> np.ndarray:
    """A unit-height shape over ``width`` days, nonzero on every one of them."""
    s = np.sin(np.pi * np.arange(1, width + 1) / (width + 1))
    if kind == "peak":
        return s
    if kind == "dip":
        return -s
    return -np.abs(np.sin(2 * np.pi * np.arange(1, width + 1) / (width + 1))) - 0.3 * s


def planted_shapes(
    n: int,
    length: int = 20,
    *,
    strength: float = 1.5,
    widths: tuple[int, int] = (5, 8),
    p_shape: float = 0.8,
    vol: float = 0.01,
    seed: int = 0,
) -> PlantedShapes:
    """``n`` windows of a random walk with fat tails (Student t, 4 degrees of freedom,
    daily vol ``vol``), into which a shape (peak, dip or double dip; ``SHAPES``) of
    ``widths[0]``..``widths[1]`` days is added to the log price at a random position,
    with probability ``p_shape``. Its height is ``strength`` x the random walk's typical
    move over the same days (vol x sqrt(width)): at strength 1 the shape is as large as
    the noise around it."""
    lo, hi = widths
    if not 2 <= lo <= hi <= length:
        raise SegmentationError(
            f"widths {widths} must satisfy 2 <= min <= max <= window length {length}"
        )
    rng = np.random.default_rng(seed)
    t = rng.standard_t(4, size=(n, length)) / np.sqrt(2.0)  # unit variance
    log_price = np.cumsum(vol * t, axis=1)
    mask = np.zeros((n, length), dtype=np.int64)
    width = rng.integers(lo, hi + 1, size=n)
    start = rng.integers(0, length - width + 1)
    kind = rng.integers(0, len(SHAPES), size=n)
    planted = rng.random(n) < p_shape
    for w in range(lo, hi + 1):  # one vectorised pass per (width, shape)
        for k, name in enumerate(SHAPES):
            rows = np.flatnonzero(planted & (width == w) & (kind == k))
            cols = start[rows, None] + np.arange(w)
            height = strength * vol * np.sqrt(w)
            log_price[rows[:, None], cols] += height * _profile(name, w)
            mask[rows[:, None], cols] = 1
    start = np.where(planted, start, -1)
    return PlantedShapes(normalise_windows(log_price), mask, start, width, kind)


def normalise_windows(log_price: np.ndarray) -> np.ndarray:
    """(N, L) log prices -> (N, 2, L): the log price against the window's last one and the
    daily log return, both over the window's own return std (its own data only)."""
    returns = np.diff(log_price, axis=1, prepend=log_price[:, :1])
    scale = returns[:, 1:].std(axis=1, keepdims=True) + 1e-12
    level = (log_price - log_price[:, -1:]) / scale
    return np.stack([level, returns / scale], axis=1).astype(np.float32)


def _slope_t(y: np.ndarray, span: int) -> np.ndarray:
    """t-statistics of the OLS slope of y on time over every ``span``-day segment:
    (N, L) -> (N, L - span + 1), segment a covering days a .. a + span - 1."""
    seg = sliding_window_view(y, span, axis=1)
    x = np.arange(span) - (span - 1) / 2
    sxx = float((x * x).sum())
    slope = (seg * x).sum(-1) / sxx
    resid = seg - seg.mean(-1, keepdims=True) - slope[..., None] * x
    s2 = (resid * resid).sum(-1) / (span - 2)
    floor = 1e-12 * (1 + np.abs(seg).mean(-1))  # a perfect line: a very large |t|
    return slope / np.sqrt(np.maximum(s2, floor**2) / sxx)


def trend_regimes(
    close: np.ndarray, *, spans: tuple[int, int] = (5, 10), threshold: float = 2.0
) -> np.ndarray:
    """Per-day trend regime of each window of closes (N, L) -> (N, L) in ``REGIMES``
    (0 down, 1 flat, 2 up), by trend scanning (López de Prado 2020) inside the window:
    day t's label is the sign of the slope t-statistic with the largest |t| over the
    segments starting at t of ``spans[0]``..``spans[1]`` days, or flat when that |t| is
    below ``threshold``. A segment that would run past the window's last day is shifted
    back to end on it, so no label uses data after its window's last day."""
    close = np.asarray(close, dtype=np.float64)
    lo, hi = spans
    length = close.shape[1]
    if not 3 <= lo <= hi or lo > length:
        raise SegmentationError(
            f"spans {spans} must satisfy 3 <= min <= max and min <= window length {length}"
        )
    if (close <= 0).any():
        raise SegmentationError("closes must be positive (trend scanning reads log prices)")
    y = np.log(close)
    days = np.arange(length)
    best = np.zeros(close.shape)
    for span in range(lo, min(hi, length) + 1):
        tv = _slope_t(y, span)[:, np.minimum(days, length - span)]
        best = np.where(np.abs(tv) > np.abs(best), tv, best)
    return np.where(best > threshold, 2, np.where(best < -threshold, 0, 1)).astype(np.int64)
