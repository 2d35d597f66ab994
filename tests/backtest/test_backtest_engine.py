"""Engine: positions, costs and equity on toy series with hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydantic
import pytest

from niftycnn.backtest import backtest
from niftycnn.backtest.engine import backtest_model
from niftycnn.config import BacktestConfig
from niftycnn.errors import BacktestError

DATES = pd.bdate_range("2024-01-01", periods=5, name="date")
CLOSE = pd.Series([100.0, 110.0, 99.0, 99.0, 108.9], index=DATES)


def toy_predictions(r_pred: list[float], expiry_pos: list[int] | None = None) -> pd.DataFrame:
    n = len(r_pred)
    frame = pd.DataFrame({"model": "cnn", "r_pred": r_pred}, index=DATES[:n])
    if expiry_pos is not None:
        frame["label_end"] = DATES[expiry_pos]
    return frame


def test_daily_toy_equity_matches_hand_computation() -> None:
    # Positions decided at closes 0..3: +1, -1, 0, +1; close returns 0, +10%, -10%, 0, +10%.
    preds = toy_predictions([0.02, -0.01, 0.0, 0.03])
    cfg = BacktestConfig(holding="daily", cost_bps=10, slippage_bps=5)
    res = backtest_model(preds, CLOSE, cfg)
    np.testing.assert_array_equal(res.held, [1, -1, 0, 1, 0])
    np.testing.assert_array_equal(res.turnover, [1, 2, 1, 1, 1])
    np.testing.assert_allclose(res.gross, [0.0, 0.1, 0.1, 0.0, 0.1], atol=1e-15)
    # Cost 15 bps per unit of turnover, charged at the close where the position changes.
    np.testing.assert_allclose(res.net, [-0.0015, 0.097, 0.0985, -0.0015, 0.0985], atol=1e-15)
    expected_net = [
        0.9985,
        0.9985 * 1.097,
        0.9985 * 1.097 * 1.0985,
        0.9985 * 1.097 * 1.0985 * 0.9985,
        0.9985 * 1.097 * 1.0985 * 0.9985 * 1.0985,
    ]
    np.testing.assert_allclose(res.equity().to_numpy(), expected_net, rtol=1e-12)
    np.testing.assert_allclose(res.equity(net=False).to_numpy(), [1, 1.1, 1.21, 1.21, 1.331])
    assert list(res.trades["position"]) == [1.0, -1.0, 1.0]
    np.testing.assert_allclose(res.trades["gross_return"], [0.1, 0.1, 0.1])
    np.testing.assert_allclose(res.trades["net_return"], [0.097, 0.097, 0.097])


def test_expiry_toy_static_trades_and_ignored_signal() -> None:
    # Day 0: short to expiry day 2; day 1 (long) is ignored, the short is still open;
    # day 2: long to day 4, entered at the close where the short exits (a reversal).
    preds = toy_predictions([-0.01, 0.02, 0.03], expiry_pos=[2, 2, 4])
    cfg = BacktestConfig(holding="expiry", cost_bps=10, slippage_bps=5)
    res = backtest_model(preds, CLOSE, cfg)
    np.testing.assert_array_equal(res.held, [-1, -1, 1, 1, 0])
    np.testing.assert_array_equal(res.turnover, [1, 0, 2, 0, 1])
    # Static short from 100: marked at 110 (-10%), then 99: equity 0.9 -> 1.01.
    np.testing.assert_allclose(res.gross, [0.0, -0.1, 11 / 90, 0.0, 0.1], atol=1e-15)
    np.testing.assert_allclose(res.net, [-0.0015, -0.1, 11 / 90 - 0.003, -0.0, 0.0985], atol=1e-15)
    np.testing.assert_allclose(res.trades["gross_return"], [0.01, 0.1], atol=1e-14)
    assert list(res.trades["entry"]) == [DATES[0], DATES[2]]
    assert list(res.trades["exit"]) == [DATES[2], DATES[4]]


def test_long_only_and_band_give_flat_positions() -> None:
    preds = toy_predictions([0.02, -0.01, 0.001, 0.03])
    res = backtest_model(
        preds,
        CLOSE,
        BacktestConfig(holding="daily", cost_bps=0, slippage_bps=0, long_short=False, band=0.005),
    )
    np.testing.assert_array_equal(res.held, [1, 0, 0, 1, 0])


def test_zero_costs_make_net_equal_gross() -> None:
    preds = toy_predictions([0.02, -0.01, 0.0, 0.03])
    res = backtest_model(preds, CLOSE, BacktestConfig(holding="daily", cost_bps=0, slippage_bps=0))
    np.testing.assert_array_equal(res.net, res.gross)


def test_scaled_sizing_clips_to_unit_position() -> None:
    preds = toy_predictions([0.01, -0.05, 0.0, 0.02])
    res = backtest_model(
        preds,
        CLOSE,
        BacktestConfig(holding="daily", cost_bps=0, slippage_bps=0, sizing="scaled", scale=0.02),
    )
    np.testing.assert_allclose(res.held, [0.5, -1, 0, 1, 0])


def test_missing_column_is_named_in_the_error() -> None:
    preds = toy_predictions([0.01, 0.02]).drop(columns="r_pred")
    with pytest.raises(BacktestError, match="'r_pred'"):
        backtest(preds, CLOSE, BacktestConfig(holding="daily", cost_bps=0, slippage_bps=0))
    with pytest.raises(BacktestError, match="'label_end'"):
        backtest(
            toy_predictions([0.01]),
            CLOSE,
            BacktestConfig(holding="expiry", cost_bps=0, slippage_bps=0),
        )


def test_prediction_on_a_non_session_is_rejected() -> None:
    preds = toy_predictions([0.01]).set_axis(pd.DatetimeIndex(["2024-01-06"], name="date"))
    with pytest.raises(BacktestError, match="2024-01-06"):
        backtest(preds, CLOSE, BacktestConfig(holding="daily", cost_bps=0, slippage_bps=0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holding": "weekly"}, "holding"),
        ({"signal": "vibes"}, "signal"),
        ({"cost_bps": -1}, "cost_bps"),
        ({"band": -0.1}, "band"),
    ],
)
def test_bad_config_names_the_key(kwargs: dict, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        BacktestConfig(**kwargs)
