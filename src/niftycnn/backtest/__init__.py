"""Backtest stage: predictions -> positions -> equity, metrics and significance tests.

Reads the predictions table (``niftycnn.schema``: nothing else of the walk-forward), the
close series and the ``[backtest]`` table (:class:`~niftycnn.config.BacktestConfig`);
gives tidy tables (:class:`EvaluationResult`), which the workflow writes under
``metrics/``. Entry point: :func:`evaluate`. Building blocks: ``signals`` (scores,
positions, non-overlapping label-horizon trades), ``engine`` (costs, equity),
``metrics`` (trading), ``prediction_metrics`` (classification / regression scores),
``significance`` (block bootstrap, circular-shift permutation, PSR/DSR, Diebold-Mariano),
``losses`` (per-sample losses), ``multiple`` (SPA / StepM against all baselines at once,
accuracy against the majority class and chance), ``pbo`` (probability of backtest
overfitting, deflated Sharpe with the real number of trials).
"""

from niftycnn.backtest.engine import BacktestResult, backtest, buy_and_hold
from niftycnn.backtest.evaluate import BENCHMARK, EvaluationResult, comparison_table, evaluate
from niftycnn.backtest.multiple import accuracy_table, multiple_comparisons, spa_tests
from niftycnn.backtest.pbo import PBOResult, overfitting_table, probability_of_overfitting

__all__ = [
    "BENCHMARK",
    "BacktestResult",
    "EvaluationResult",
    "PBOResult",
    "accuracy_table",
    "backtest",
    "buy_and_hold",
    "comparison_table",
    "evaluate",
    "multiple_comparisons",
    "overfitting_table",
    "probability_of_overfitting",
    "spa_tests",
]
