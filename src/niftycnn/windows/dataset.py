"""The bundle the training stage consumes: windows, labels and label end dates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Class index -> name. Index order is the order of returns: 0 is the most negative.
CLASS_NAMES: tuple[str, ...] = ("Large Down", "Small Down", "Flat", "Small Up", "Large Up")
UNLABELLED = -1  # y_class of a window whose expiry lies beyond the data


@dataclass(frozen=True)
class WindowDataset:
    """N windows of C features x L days, with their expiry-outcome labels.

    Attributes:
        X: float32 (N, C, L), channels-first, each window normalised with its own data.
        end_dates: window end date t per sample (the last day the window may use).
        expiry_dates: label end date per sample (the next expiry strictly after t).
            Where the expiry lies beyond the data it is still the exchange-calendar date
            (so purging on it stays correct) but the sample is unlabelled; NaT only where
            the date is truly unknown (beyond the exchange calendar too). The splitter
            purges on it; train only on ``labelled`` samples.
        horizon: trading days from t to the expiry (int64; 0 where unlabelled).
        y_return: log(close at expiry / close at t); NaN where unlabelled.
        y_class: class index in CLASS_NAMES order; UNLABELLED (-1) where unlabelled.
            For quantile thresholds the walk-forward refits classes per fold from
            y_return with a labeler fitted on the training side only.
        sigma: trailing daily volatility known at t (for volatility-scaled labels).
        features: channel names, in X's channel order.
    """

    X: np.ndarray
    end_dates: pd.DatetimeIndex
    expiry_dates: pd.DatetimeIndex
    horizon: np.ndarray
    y_return: np.ndarray
    y_class: np.ndarray
    sigma: np.ndarray
    features: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def labelled(self) -> np.ndarray:
        """Boolean mask of samples that have a label."""
        return self.y_class != UNLABELLED

    def subset(self, idx: np.ndarray) -> WindowDataset:
        """The samples at positions ``idx`` (integer or boolean index)."""
        return WindowDataset(
            X=self.X[idx],
            end_dates=self.end_dates[idx],
            expiry_dates=self.expiry_dates[idx],
            horizon=self.horizon[idx],
            y_return=self.y_return[idx],
            y_class=self.y_class[idx],
            sigma=self.sigma[idx],
            features=self.features,
        )
