"""Walk-forward stage: purged splits, per-fold preparation, training (sequential and
batched engines), baselines.

Reads a :class:`~niftycnn.windows.WindowDataset`, an architecture and the ``[train]`` /
``[walkforward]`` / ``[baselines]`` tables; gives the out-of-sample predictions table
(``niftycnn.schema``). With a :class:`~niftycnn.rundir.RunLayout` it writes
``manifest.json`` and ``folds/fold_XXXX/`` (predictions, first-layer weights, curves,
weights) as each chunk of folds finishes, and a rerun loads finished folds.
"""

from niftycnn.walkforward.baselines import BASELINES
from niftycnn.walkforward.run import run_walkforward
from niftycnn.walkforward.splits import Fold, WalkForwardSplit, splits_table

__all__ = ["BASELINES", "Fold", "WalkForwardSplit", "run_walkforward", "splits_table"]
