"""Walk-forward stage: purged splits, training (sequential and batched), baselines."""

from niftycnn.walkforward.baselines import CNNBaseline
from niftycnn.walkforward.run import DEFAULT_BASELINES, run_walkforward
from niftycnn.walkforward.splits import Fold, WalkForwardSplit
from niftycnn.walkforward.train import TrainConfig

__all__ = [
    "DEFAULT_BASELINES",
    "CNNBaseline",
    "Fold",
    "TrainConfig",
    "WalkForwardSplit",
    "run_walkforward",
]
