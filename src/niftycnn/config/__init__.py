"""Experiment files and the stage configs: one TOML file describes a whole run.

``tables`` (and ``data``, for the ``[data]`` tables) holds one frozen pydantic table per
``[table]`` (these are the configs the stages take: there is no second copy);
``experiment`` validates them together, loads a file and writes the resolved config back
as TOML.
"""

from niftycnn.config.data import (
    DataChecksConfig,
    DataConfig,
    SyntheticConfig,
    SyntheticUniverseConfig,
)
from niftycnn.config.experiment import Experiment, parse_experiment, read_experiment, to_toml
from niftycnn.config.tables import (
    FEATURES,
    BacktestConfig,
    BaselinesConfig,
    CompareConfig,
    FiltersConfig,
    LabelsConfig,
    ModelConfig,
    SearchConfig,
    SegmentationConfig,
    SweepConfig,
    TrainConfig,
    WalkForwardConfig,
    WindowsConfig,
    symmetric_cuts,
)

__all__ = [
    "FEATURES",
    "BacktestConfig",
    "BaselinesConfig",
    "CompareConfig",
    "DataChecksConfig",
    "DataConfig",
    "Experiment",
    "FiltersConfig",
    "LabelsConfig",
    "ModelConfig",
    "SearchConfig",
    "SegmentationConfig",
    "SweepConfig",
    "SyntheticConfig",
    "SyntheticUniverseConfig",
    "TrainConfig",
    "WalkForwardConfig",
    "WindowsConfig",
    "parse_experiment",
    "read_experiment",
    "symmetric_cuts",
    "to_toml",
]
