"""Windows stage: expiry calendar, normalised windows and expiry-outcome labels."""

from niftycnn.windows.build import build_dataset
from niftycnn.windows.dataset import CLASS_NAMES, UNLABELLED, WindowDataset
from niftycnn.windows.expiry import EXPIRY_REGIMES, ExpiryRegime, expiry_dates, next_expiry
from niftycnn.windows.labels import (
    FixedThresholds,
    Labeler,
    QuantileThresholds,
    VolatilityThresholds,
    labeler_from_config,
)
from niftycnn.windows.windows import FEATURES, make_windows

__all__ = [
    "CLASS_NAMES",
    "EXPIRY_REGIMES",
    "FEATURES",
    "UNLABELLED",
    "ExpiryRegime",
    "FixedThresholds",
    "Labeler",
    "QuantileThresholds",
    "VolatilityThresholds",
    "WindowDataset",
    "build_dataset",
    "expiry_dates",
    "labeler_from_config",
    "make_windows",
    "next_expiry",
]
