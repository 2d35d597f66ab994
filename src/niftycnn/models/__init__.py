"""Model stage: layer specs, presets, the builder, validation and the architecture summary."""

from niftycnn.models.build import build_model, first_conv
from niftycnn.models.presets import PRESETS, preset
from niftycnn.models.spec import (
    Architecture,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    LayerSpec,
    Pool,
    Residual,
    architecture_from_dict,
    parse_layers,
)
from niftycnn.models.summary import (
    Summary,
    describe,
    format_summary,
    summarize,
    summarize_module,
)
from niftycnn.models.validate import validate_architecture

__all__ = [
    "PRESETS",
    "Architecture",
    "Conv",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool",
    "LayerSpec",
    "Pool",
    "Residual",
    "Summary",
    "architecture_from_dict",
    "build_model",
    "describe",
    "first_conv",
    "format_summary",
    "parse_layers",
    "preset",
    "summarize",
    "summarize_module",
    "validate_architecture",
]
