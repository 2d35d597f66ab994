"""backtest stage: predictions -> positions -> equity, metrics and significance tests.

Entry point: :func:`evaluate`. Building blocks: ``signals`` (scores, positions,
non-overlapping expiry trades), ``engine`` (costs, equity), ``metrics`` (trading),
``prediction_metrics`` (classification/regression scores), ``significance`` (block
bootstrap, circular-shift permutation, PSR/DSR, Diebold-Mariano).
"""

from niftycnn.backtest.engine import BacktestConfig, BacktestResult, backtest, buy_and_hold
from niftycnn.backtest.evaluate import EvaluationResult, SignificanceConfig, evaluate

__all__ = [
    "BacktestConfig",
    "BacktestResult",
    "EvaluationResult",
    "SignificanceConfig",
    "backtest",
    "buy_and_hold",
    "evaluate",
]
