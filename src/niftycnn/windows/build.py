"""Build the :class:`WindowDataset` the training stage consumes, from an OHLCV frame.

Choices a reviewer should know:

- Sample end dates start at row max(length - 1, vol_window), the first day with both a
  full window and a full trailing-volatility estimate, so every sample has a finite sigma
  (chart images with their moving average need 2 * length - 1 days: row 2 * length - 2).
- ``inputs = "image"``: X holds chart images (N, 1, H, W) of 0 / 1 as uint8
  (:mod:`niftycnn.windows.images`; rendered bit-packed, 4x smaller than float32; the
  trainers cast a batch at a time); the one channel is named "image".
- ``sampling="daily"``: one window per trading day. ``sampling="expiry"``: one window per
  expiry cycle, ending *on the expiry day itself* (its close is known at t); its label
  then runs exactly to the next expiry, so consecutive labels touch but never overlap.
- Label end dates come from :mod:`niftycnn.windows.targets` (``[labels] target``) with the
  frame's own dates as the trading days within its range and the NSE calendar beyond
  it. A window whose label end lies beyond the data keeps that calendar-known
  ``label_end`` (so purging on it stays correct); it has no label: horizon 0, y_return
  NaN, y_class UNLABELLED. ``label_end`` is NaT only where the date is beyond the
  exchange calendar too, i.e. truly unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from niftycnn.config import LabelsConfig, WindowsConfig
from niftycnn.errors import LabelError
from niftycnn.schema import UNLABELLED
from niftycnn.windows.dataset import WindowDataset
from niftycnn.windows.expiry import expiry_dates
from niftycnn.windows.images import render_images, style_for, unpack_images
from niftycnn.windows.labels import labeler_for, trailing_volatility
from niftycnn.windows.targets import label_outcomes
from niftycnn.windows.windows import _check_frame, make_windows

Size = int | tuple[int, int]


def network_input(windows: WindowsConfig) -> tuple[int, Size]:
    """(channels, size) of the network's input: (features, length) for windows, (1,
    (height, width)) for chart images."""
    if windows.inputs == "image":
        style = style_for(
            windows.length, windows.image_ma, windows.image_volume, windows.image_height
        )
        return 1, (style.height, style.width)
    return len(windows.features), windows.length


def build_dataset(
    frame: pd.DataFrame,
    windows: WindowsConfig | None = None,
    labels: LabelsConfig | None = None,
    symbol: str = "",
) -> WindowDataset:
    """Windows, labels and trailing volatility for every sample of ``frame``, as the
    ``[windows]`` and ``[labels]`` tables say (their defaults when not given); ``symbol``
    names the series (the predictions table's ``symbol`` column).

    The label's classes are filled with a labeler fitted on *all* labelled samples. That
    is harmless for fixed and volatility thresholds, which learn nothing; quantile
    classes filled here are in-sample, so the walk-forward refits them per fold on the
    training side only (from y_return, sigma and horizon).
    """
    windows = windows or WindowsConfig()
    labels = labels or LabelsConfig()
    length = windows.length
    dates = pd.DatetimeIndex(frame.index)
    close = frame["close"].to_numpy(np.float64)
    sigma_all = trailing_volatility(close, labels.vol_window)

    image = windows.inputs == "image"
    style = style_for(length, windows.image_ma, windows.image_volume, windows.image_height)
    first = max((style.history if image else length) - 1, labels.vol_window)
    end_pos = np.arange(first, len(frame))
    if windows.sampling == "expiry":
        cycle_ends = expiry_dates(labels.expiry, dates[0], dates[-1], trading_days=dates)
        end_pos = end_pos[dates[end_pos].isin(cycle_ends)]
    if end_pos.size == 0:
        raise LabelError(
            f"no sample fits in {len(frame)} rows with [windows] length = {length}, "
            f"[labels] vol_window = {labels.vol_window}, sampling = {windows.sampling!r}; "
            "use more data or shorter windows"
        )

    sigma = sigma_all[end_pos]
    out = label_outcomes(dates, close, end_pos, sigma, labels)
    y_return, scale = out.y_return, out.scale_days
    labelled = ~np.isnan(y_return)
    y_class = np.full(len(end_pos), UNLABELLED, dtype=np.int64)
    if labelled.any():
        labeler = labeler_for(labels).fit(y_return[labelled], sigma[labelled], scale[labelled])
        y_class = np.asarray(labeler.transform(y_return, sigma, scale), dtype=np.int64)
    if image:
        _check_frame(frame, ("open", "high", "low", "close", "volume"), style.history)
        X = unpack_images(render_images(frame, style, end_pos), style.width, np.uint8)
    else:
        X_all, _ = make_windows(frame, length=length, features=windows.features)
        X = X_all[end_pos - (length - 1)]
    return WindowDataset(
        X=X,
        end_dates=pd.DatetimeIndex(dates[end_pos], name="date"),
        label_end=out.label_end,
        horizon=out.horizon,
        y_return=y_return,
        y_class=y_class,
        sigma=sigma,
        features=tuple(windows.channels),
        n_classes=labels.classes,
        scale_days=scale,
        symbols=(symbol,),
    )
