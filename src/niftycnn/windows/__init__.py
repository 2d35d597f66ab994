"""Windows stage: expiry calendar, normalised windows and expiry-outcome labels."""

from niftycnn.windows.dataset import CLASS_NAMES, UNLABELLED, WindowDataset

__all__ = ["CLASS_NAMES", "UNLABELLED", "WindowDataset"]
