"""Model stage: layer specs, presets, the builder, validation and the architecture summary.

Reads an experiment's ``[model]`` table (or Python specs) and an input shape (channels x
window length); gives ``torch.nn`` modules and the per-layer summary that the run
directory's ``architecture.csv`` and ``niftycnn describe`` show. Writes nothing.
"""

from niftycnn.models.build import build_model, first_conv
from niftycnn.models.presets import PRESETS, architecture_for, architecture_from_dict, preset
from niftycnn.models.spec import (
    Architecture,
    BatchNorm,
    Block,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GramConv,
    LastStep,
    LayerSpec,
    Parallel,
    Pool,
    Residual,
    Upsample,
    parse_layers,
)
from niftycnn.models.summary import (
    Summary,
    describe,
    format_summary,
    summarize,
    summarize_module,
    summary_table,
)
from niftycnn.models.sweep import GridPoint, grid_layers, sweep_grid
from niftycnn.models.validate import validate_architecture

__all__ = [
    "PRESETS",
    "Architecture",
    "BatchNorm",
    "Block",
    "Conv",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAvgPool",
    "GramConv",
    "GridPoint",
    "LastStep",
    "LayerSpec",
    "Parallel",
    "Pool",
    "Residual",
    "Summary",
    "Upsample",
    "architecture_for",
    "architecture_from_dict",
    "build_model",
    "describe",
    "first_conv",
    "format_summary",
    "grid_layers",
    "parse_layers",
    "preset",
    "summarize",
    "summarize_module",
    "summary_table",
    "sweep_grid",
    "validate_architecture",
]
