"""Signals and hold-to-expiry trade selection, including property tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from niftycnn.backtest.engine import backtest_model
from niftycnn.backtest.signals import positions_from_scores, select_non_overlapping, signal_scores
from niftycnn.config import BacktestConfig


def greedy_reference(entry: np.ndarray, exit_: np.ndarray) -> np.ndarray:
    """The obvious loop: take a trade when no trade is open."""
    taken = np.zeros(len(entry), dtype=bool)
    open_until = -1
    for i, (a, b) in enumerate(zip(entry, exit_, strict=True)):
        if a >= open_until:
            taken[i] = True
            open_until = b
    return taken


@st.composite
def trade_layouts(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(0, 60))
    gaps = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    lengths = draw(st.lists(st.integers(1, 12), min_size=n, max_size=n))
    entry = np.cumsum(gaps).astype(np.int64)
    return entry, entry + np.asarray(lengths, dtype=np.int64)


@settings(deadline=None)
@given(trade_layouts())
def test_pointer_doubling_matches_the_greedy_loop(layout: tuple[np.ndarray, np.ndarray]) -> None:
    entry, exit_ = layout
    np.testing.assert_array_equal(
        select_non_overlapping(entry, exit_), greedy_reference(entry, exit_)
    )


@settings(max_examples=60, deadline=None)
@given(
    signs=st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=5, max_size=80),
    spacing=st.lists(st.integers(1, 7), min_size=1, max_size=20),
    long_short=st.booleans(),
)
def test_hold_to_expiry_never_opens_a_trade_before_the_previous_one_closed(
    signs: list[float], spacing: list[int], long_short: bool
) -> None:
    n = len(signs) + 10
    dates = pd.bdate_range("2020-01-01", periods=n, name="date")
    close = pd.Series(100.0 * np.exp(np.cumsum(np.sin(np.arange(n)) * 0.01)), index=dates)
    # Random expiry layout: expiry sessions at cumulative random gaps.
    exp_pos = np.unique(np.minimum(np.cumsum(np.resize(spacing, n)), n - 1))
    pred_pos = np.arange(len(signs))
    k = np.searchsorted(exp_pos, pred_pos, side="right")
    expiry = pd.DatetimeIndex([dates[exp_pos[j]] if j < len(exp_pos) else pd.NaT for j in k])
    preds = pd.DataFrame(
        {"model": "m", "r_pred": signs, "label_end": expiry}, index=dates[: len(signs)]
    )
    res = backtest_model(
        preds,
        close,
        BacktestConfig(holding="expiry", long_short=long_short, cost_bps=0, slippage_bps=0),
    )
    trades = res.trades
    assert (trades["exit"] > trades["entry"]).all()
    assert (trades["entry"].to_numpy()[1:] >= trades["exit"].to_numpy()[:-1]).all()
    # Every non-zero signal with a reachable expiry is either taken or falls inside a trade.
    pos = positions_from_scores(np.array(signs), long_short=long_short)
    held_from = dict(zip(trades["entry"], trades["position"], strict=True))
    for d, s, e in zip(preds.index, pos, preds["label_end"], strict=True):
        if d in held_from:
            assert held_from[d] == s
        elif s != 0 and pd.notna(e) and e > d:
            assert ((trades["entry"] <= d) & (d < trades["exit"])).any(), d
    # The daily position path is exactly the trades laid end to end.
    i_entry = res.dates.get_indexer(trades["entry"])
    i_exit = res.dates.get_indexer(trades["exit"])
    expected = np.zeros(len(res.dates))
    for a, b, p in zip(i_entry, i_exit, trades["position"], strict=True):
        expected[a:b] = p
    np.testing.assert_array_equal(res.held, expected)
    # Each trade's compounded daily return equals the static trade's return.
    p_entry = close.loc[trades["entry"]].to_numpy()
    p_exit = close.loc[trades["exit"]].to_numpy()
    np.testing.assert_allclose(
        trades["gross_return"], trades["position"] * (p_exit / p_entry - 1), atol=1e-12
    )


def test_prob_diff_signal_and_regression_fallback() -> None:
    frame = pd.DataFrame(
        {
            "r_pred": [0.01, -0.02],
            "y_pred": [4, 1],
            **{f"proba_{k}": [[0.1, 0.2, 0.3, 0.2, 0.2][k], np.nan] for k in range(5)},
        }
    )
    np.testing.assert_allclose(signal_scores(frame, "prob_diff"), [0.2 + 0.2 - 0.1 - 0.2, -0.02])
    np.testing.assert_array_equal(signal_scores(frame, "class"), [1.0, -1.0])
