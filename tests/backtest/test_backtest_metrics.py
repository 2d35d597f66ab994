"""Trading metrics against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from niftycnn.backtest.engine import BacktestResult
from niftycnn.backtest.metrics import (
    max_drawdown,
    per_year_table,
    sharpe_ratio,
    sortino_ratio,
    trading_metrics,
)

# Mean 0.003; deviations 0.007, -0.023, 0.002, 0.027, -0.013 -> sum of squares 1480e-6.
R = np.array([0.01, -0.02, 0.005, 0.03, -0.01])


def test_sharpe_matches_hand_computation() -> None:
    assert math.isclose(sharpe_ratio(R), 0.003 / math.sqrt(1480e-6 / 4) * math.sqrt(252))


def test_sortino_uses_downside_deviation_over_all_days() -> None:
    # Downside squares 4e-4 and 1e-4 over n=5 days -> DD = sqrt(1e-4) = 0.01.
    assert math.isclose(sortino_ratio(R), 0.003 / 0.01 * math.sqrt(252))


def test_max_drawdown_and_duration_match_hand_computation() -> None:
    # Equity 1.01, 0.9898, 0.994749, 1.02459147, ...: peak 1.01, trough 0.9898 = -2%,
    # underwater on days 1 and 2 -> duration 2.
    mdd, duration = max_drawdown(R)
    assert math.isclose(mdd, 0.02, rel_tol=1e-12)
    assert duration == 2


def test_drawdown_counts_initial_capital_as_a_peak() -> None:
    mdd, duration = max_drawdown(np.array([-0.1, -0.1, 0.0]))
    assert math.isclose(mdd, 0.19)
    assert duration == 3


def test_trading_metrics_of_a_toy_result() -> None:
    dates = pd.bdate_range("2023-12-28", periods=5, name="date")
    held = np.array([1.0, 1.0, 0.0, -1.0, 0.0])
    trades = pd.DataFrame(
        {
            "entry": dates[[0, 3]],
            "exit": dates[[2, 4]],
            "position": [1.0, -1.0],
            "gross_return": [0.02, -0.01],
            "net_return": [0.01, -0.02],
        }
    )
    res = BacktestResult(dates, held, np.abs(np.diff(held, prepend=0)), R, R, np.zeros(5), trades)
    m = trading_metrics(res)
    assert math.isclose(m["total_return"], np.prod(1 + R) - 1)
    assert math.isclose(m["annual_return"], np.prod(1 + R) ** (252 / 5) - 1)
    assert math.isclose(m["annual_volatility"], math.sqrt(1480e-6 / 4) * math.sqrt(252))
    assert math.isclose(m["calmar"], m["annual_return"] / 0.02)
    assert m["hit_rate"] == 0.5 and m["avg_win"] == 0.01 and m["avg_loss"] == -0.02
    assert m["n_trades"] == 2
    assert math.isclose(m["exposure"], 3 / 5)
    assert math.isclose(m["turnover"], 4 / 5 * 252)  # |Δpos| = 1, 0, 1, 1, 1
    table = per_year_table({"toy": res})
    assert list(table["year"]) == [2023, 2024]  # 28-29 Dec 2023, then 1-3 Jan 2024
    np.testing.assert_allclose(table["return"], [1.01 * 0.98 - 1, 1.005 * 1.03 * 0.99 - 1])
