"""Walk-forward stage: purged splits (walk-forward refits or CPCV), per-fold preparation,
training (sequential and batched engines), baselines.

Reads a :class:`~niftycnn.windows.WindowDataset`, an architecture and the ``[train]`` /
``[walkforward]`` / ``[baselines]`` tables; gives the out-of-sample predictions table
(``niftycnn.schema``). With a :class:`~niftycnn.rundir.RunLayout` it writes
``manifest.json`` and ``folds/fold_XXXX/`` (predictions, first-layer weights, curves,
weights) as each chunk of folds finishes, and a rerun loads finished folds.
"""

from niftycnn.walkforward.baselines import BASELINES
from niftycnn.walkforward.cpcv import CombinatorialPurgedSplit, splitter_for
from niftycnn.walkforward.run import run_walkforward
from niftycnn.walkforward.splits import Fold, Splitter, WalkForwardSplit, splits_table

__all__ = [
    "BASELINES",
    "CombinatorialPurgedSplit",
    "Fold",
    "Splitter",
    "WalkForwardSplit",
    "run_walkforward",
    "splits_table",
    "splitter_for",
]
