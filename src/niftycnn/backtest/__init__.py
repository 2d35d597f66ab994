"""Backtest stage: predictions -> positions -> equity, metrics and significance tests.

Reads the predictions table (``niftycnn.schema``: nothing else of the walk-forward), the
close series and the ``[backtest]`` table (:class:`~niftycnn.config.BacktestConfig`);
gives tidy tables (:class:`EvaluationResult`), which the workflow writes under
``metrics/``. Entry point: :func:`evaluate`. Building blocks: ``signals`` (scores,
positions, non-overlapping label-horizon trades), ``engine`` (costs, equity),
``metrics`` (trading), ``prediction_metrics`` (classification / regression scores),
``significance`` (block bootstrap, circular-shift permutation, PSR/DSR, Diebold-Mariano).
"""

from niftycnn.backtest.engine import BacktestResult, backtest, buy_and_hold
from niftycnn.backtest.evaluate import EvaluationResult, comparison_table, evaluate

__all__ = [
    "BacktestResult",
    "EvaluationResult",
    "backtest",
    "buy_and_hold",
    "comparison_table",
    "evaluate",
]
