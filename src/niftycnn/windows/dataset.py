"""The bundle the training stage consumes: windows, labels and label end dates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from niftycnn.schema import UNLABELLED, LabelVocabulary


@dataclass(frozen=True)
class WindowDataset:
    """N windows of C features x L days, with their labels.

    Attributes:
        X: float32 (N, C, L), channels-first, each window normalised with its own data;
            chart images (``[windows] inputs = "image"``): (N, 1, H, W) uint8 of 0 / 1.
        end_dates: window end date t per sample (the last day the window may use).
        label_end: the date each label's return is measured to (the next expiry strictly
            after t, the horizon's last day, or the first barrier touch; see
            :mod:`niftycnn.windows.targets`). Where it lies beyond the data it is still the
            exchange-calendar date (so purging on it stays correct) but the sample is
            unlabelled; NaT only where the date is truly unknown (beyond the exchange
            calendar too). The splitter purges on it; train only on ``labelled`` samples.
        horizon: trading days from t to the label end (int64; 0 where unlabelled).
        y_return: log(close at label end / close at t); NaN where unlabelled.
        y_class: class index (``vocabulary`` order); UNLABELLED (-1) where unlabelled.
            For quantile thresholds the walk-forward refits classes per fold from
            y_return with a labeler fitted on the training side only.
        sigma: trailing daily volatility known at t (for volatility-scaled labels).
        features: channel names, in X's channel order.
        n_classes: the label's class count K.
        scale_days: the h of the volatility scale sigma_t sqrt(h) that volatility
            thresholds divide the return by (int64): the horizon, except for triple
            barrier labels, whose barriers are in units of sigma_t sqrt(H), H the vertical
            barrier. None (the default) means ``horizon``.
        symbol: each sample's symbol, as a position in ``symbols`` (int64); None (the
            default) means all 0: a single series.
        symbols: the symbol names (one for a single series). A panel
            (:func:`niftycnn.windows.build_panel`) sorts its samples by (end date, symbol).
    """

    X: np.ndarray
    end_dates: pd.DatetimeIndex
    label_end: pd.DatetimeIndex
    horizon: np.ndarray
    y_return: np.ndarray
    y_class: np.ndarray
    sigma: np.ndarray
    features: tuple[str, ...]
    n_classes: int = 5
    scale_days: np.ndarray | None = None
    symbol: np.ndarray | None = None
    symbols: tuple[str, ...] = ("",)

    def __post_init__(self) -> None:
        if self.scale_days is None:
            object.__setattr__(self, "scale_days", np.asarray(self.horizon, dtype=np.int64))
        if self.symbol is None:
            object.__setattr__(self, "symbol", np.zeros(len(self.end_dates), dtype=np.int64))

    @property
    def symbol_codes(self) -> np.ndarray:
        """``symbol`` as an array (never None once built)."""
        return np.asarray(self.symbol, dtype=np.int64)

    @property
    def symbol_names(self) -> np.ndarray:
        """Each sample's symbol name."""
        return np.asarray(self.symbols, dtype=object)[self.symbol_codes]

    @property
    def is_panel(self) -> bool:
        """More than one symbol (a universe)."""
        return len(self.symbols) > 1

    @property
    def scale(self) -> np.ndarray:
        """``scale_days`` as an array (never None once built)."""
        return np.asarray(self.scale_days, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def labelled(self) -> np.ndarray:
        """Boolean mask of samples that have a label."""
        return self.y_class != UNLABELLED

    @property
    def vocabulary(self) -> LabelVocabulary:
        return LabelVocabulary(self.n_classes)

    def subset(self, idx: np.ndarray) -> WindowDataset:
        """The samples at positions ``idx`` (integer or boolean index)."""
        return WindowDataset(
            X=self.X[idx],
            end_dates=self.end_dates[idx],
            label_end=self.label_end[idx],
            horizon=self.horizon[idx],
            y_return=self.y_return[idx],
            y_class=self.y_class[idx],
            sigma=self.sigma[idx],
            features=self.features,
            n_classes=self.n_classes,
            scale_days=self.scale[idx],
            symbol=self.symbol_codes[idx],
            symbols=self.symbols,
        )
