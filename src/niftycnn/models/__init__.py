"""Model stage: layer specs, presets, the builder and the architecture summary."""

from niftycnn.models.build import build_model, first_conv
from niftycnn.models.presets import preset
from niftycnn.models.spec import Architecture, Conv, Dense, Dropout, Flatten, GlobalAvgPool, Pool

__all__ = [
    "Architecture",
    "Conv",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool",
    "Pool",
    "build_model",
    "first_conv",
    "preset",
]
