"""Windows stage: expiry calendar, normalised windows or chart images, and labels.

Reads the canonical OHLCV frame (``niftycnn.data``), or a universe's frames
(:func:`build_panel`), and the ``[windows]`` / ``[labels]`` tables; gives a
:class:`WindowDataset` (windows, label returns and classes, label end
dates for purging). Writes nothing: the workflow records the label distribution.
"""

from niftycnn.windows.build import build_dataset, network_input
from niftycnn.windows.dataset import WindowDataset
from niftycnn.windows.expiry import EXPIRY_REGIMES, ExpiryRegime, expiry_dates, next_expiry
from niftycnn.windows.labels import (
    FixedThresholds,
    Labeler,
    QuantileThresholds,
    VolatilityThresholds,
    labeler_for,
)
from niftycnn.windows.panel import build_panel
from niftycnn.windows.windows import FEATURES, attach_market, make_windows

__all__ = [
    "EXPIRY_REGIMES",
    "FEATURES",
    "ExpiryRegime",
    "FixedThresholds",
    "Labeler",
    "QuantileThresholds",
    "VolatilityThresholds",
    "WindowDataset",
    "attach_market",
    "build_dataset",
    "build_panel",
    "expiry_dates",
    "labeler_for",
    "make_windows",
    "network_input",
    "next_expiry",
]
