"""The panel dataset of a universe: every symbol's windows and labels in one
:class:`WindowDataset`, sorted by (window end date, symbol).

Each symbol's samples are built from its own bars alone, exactly as a single series
(:func:`niftycnn.windows.build_dataset`): windows over its own last ``length`` rows, each
normalised with its own data; horizon labels counted in its own sessions, so a symbol
that lists late, pauses or misses sessions is handled without reading any other
symbol's bars, and never a later one. A suspension is not bridged: the window after it
holds the last rows before it and the first ones after it, as the symbol traded them.
The ``market`` feature (``[data] market``) is the one place where other series enter:
the market's level on the symbol's dates (the last known level on a date the market
lacks), still nothing after the window's end.

Memory stays proportional to the data: the windows are float32, written once into one
(N, C, L) array; the walk-forward indexes into it (no per-fold copies).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from niftycnn.config import LabelsConfig, WindowsConfig
from niftycnn.errors import LabelError
from niftycnn.schema import UNLABELLED
from niftycnn.windows.build import build_dataset
from niftycnn.windows.dataset import WindowDataset
from niftycnn.windows.labels import labeler_for
from niftycnn.windows.windows import attach_market


def build_panel(
    frames: Mapping[str, pd.DataFrame],
    windows: WindowsConfig | None = None,
    labels: LabelsConfig | None = None,
    market: pd.Series | None = None,
) -> WindowDataset:
    """Windows and labels of every symbol of ``frames`` (symbol -> canonical frame) as
    one dataset (module docstring). A symbol too short for one window is left out with a
    warning; none left is a :class:`LabelError`.

    Classes come from a labeler fitted on every labelled sample of the panel (harmless
    for fixed and volatility thresholds; the walk-forward refits quantile classes on each
    fold's training side, pooled over the symbols).
    """
    windows = windows or WindowsConfig()
    labels = labels or LabelsConfig()
    if "market" in windows.features and market is None:
        raise LabelError(
            "the 'market' feature needs a market series: set [data] market (a CSV file, a "
            "symbol, or 'equal_weight' for a universe)"
        )
    parts: list[WindowDataset] = []
    too_short: list[str] = []
    for name in sorted(frames):
        frame = frames[name] if market is None else attach_market(frames[name], market)
        if len(frame) < max(windows.length, labels.vol_window + 1):
            too_short.append(name)
            continue
        try:
            parts.append(build_dataset(frame, windows, labels, symbol=name))
        except LabelError as exc:
            if not str(exc).startswith("no sample fits"):
                raise
            too_short.append(name)
    if not parts:
        raise LabelError(
            f"no symbol of the universe has enough rows for one window ([windows] length = "
            f"{windows.length}, [labels] vol_window = {labels.vol_window}); use more data"
        )
    if too_short:
        warnings.warn(
            f"{len(too_short)} symbol(s) too short for one window, left out: "
            f"{', '.join(too_short[:10])}" + (" ..." if len(too_short) > 10 else ""),
            stacklevel=2,
        )
    return _stack(parts, labels)


def _stack(parts: list[WindowDataset], labels: LabelsConfig) -> WindowDataset:
    """The parts (one symbol each, in symbol order) as one dataset sorted by (date, symbol)."""
    sizes = [len(p) for p in parts]
    code = np.repeat(np.arange(len(parts)), sizes)
    end = np.concatenate([p.end_dates.as_unit("ns").asi8 for p in parts])
    order = np.lexsort((code, end))  # by date, then symbol
    dest = np.empty(len(order), dtype=np.int64)
    dest[order] = np.arange(len(order))
    first = parts[0]
    X = np.empty((len(order), *first.X.shape[1:]), dtype=first.X.dtype)  # images: uint8
    offset = 0
    for part, size in zip(parts, sizes, strict=True):
        X[dest[offset : offset + size]] = part.X
        offset += size

    def cat(name: str) -> np.ndarray:
        return np.concatenate([np.asarray(getattr(p, name)) for p in parts])[order]

    label_end = np.concatenate([p.label_end.as_unit("ns").to_numpy() for p in parts])[order]
    y_return, sigma, scale = cat("y_return"), cat("sigma"), cat("scale")
    y_class = np.full(len(order), UNLABELLED, dtype=np.int64)
    known = ~np.isnan(y_return)
    if known.any():
        labeler = labeler_for(labels).fit(y_return[known], sigma[known], scale[known])
        y_class = np.asarray(labeler.transform(y_return, sigma, scale), dtype=np.int64)
    return WindowDataset(
        X=X,
        end_dates=pd.DatetimeIndex(end[order], name="date"),
        label_end=pd.DatetimeIndex(label_end, name="label_end"),
        horizon=cat("horizon"),
        y_return=y_return,
        y_class=y_class,
        sigma=sigma,
        features=first.features,
        n_classes=first.n_classes,
        scale_days=scale,
        symbol=code[order],
        symbols=tuple(p.symbols[0] for p in parts),
    )
