"""The panel dataset: every symbol's own windows and labels, sorted by (date, symbol), in
one float32 array; the market feature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.config import LabelsConfig, SyntheticConfig, WindowsConfig
from niftycnn.data import equal_weight_index
from niftycnn.data.synthetic_universe import synthetic_universe
from niftycnn.errors import LabelError
from niftycnn.windows import attach_market, build_dataset, build_panel

LABELS = LabelsConfig(target="horizon", horizon=5, classes=3, mode="volatility")


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    cfg = SyntheticConfig(
        n_symbols=6,
        n_days=400,
        universe={"late_listings": 0.5, "suspensions": 0.5, "delistings": 0.3, "missing": 0.01},
    )
    return synthetic_universe(cfg, seed=2).frames


def test_panel_is_each_symbols_own_dataset_sorted_by_date_then_symbol(frames):
    panel = build_panel(frames, labels=LABELS)
    assert panel.symbols == tuple(sorted(frames)) and panel.is_panel
    end = panel.end_dates.asi8
    assert np.all((np.diff(end) > 0) | ((np.diff(end) == 0) & (np.diff(panel.symbol_codes) > 0)))
    for code, name in enumerate(panel.symbols):
        own = build_dataset(frames[name], labels=LABELS, symbol=name)
        rows = panel.symbol_codes == code
        # bit for bit the single series: no other symbol's bar enters a window or label
        np.testing.assert_array_equal(panel.X[rows], own.X)
        assert panel.end_dates[rows].equals(own.end_dates)
        assert panel.label_end[rows].equals(own.label_end)
        np.testing.assert_array_equal(panel.y_return[rows], own.y_return)
        np.testing.assert_array_equal(panel.y_class[rows], own.y_class)
        assert set(panel.symbol_names[rows]) == {name}


def test_a_window_after_a_gap_holds_the_symbols_own_last_rows(frames):
    name, frame = max(frames.items(), key=lambda kv: kv[1].index.to_series().diff().max())
    assert frame.index.to_series().diff().max().days > 20  # a suspension
    panel = build_panel({name: frame}, labels=LABELS)
    after = int(frame.index.to_series().diff().dt.days.to_numpy().argmax())  # first bar after
    end = frame.index[max(after + 3, 25)]
    i = int(np.flatnonzero(panel.end_dates == end)[0])
    rows = frame.loc[:end].iloc[-20:]
    expected = 100 * np.log(rows["close"].to_numpy() / rows["close"].iloc[-1])  # percent
    np.testing.assert_allclose(panel.X[i, 3], expected, rtol=0, atol=1e-4)


def test_panel_memory_is_one_float32_array_of_the_samples(frames):
    panel = build_panel(frames, labels=LABELS)
    n = sum(len(build_dataset(f, labels=LABELS)) for f in frames.values())
    assert panel.X.dtype == np.float32 and panel.X.flags.c_contiguous
    assert panel.X.nbytes == n * 5 * 20 * 4
    sub = panel.subset(np.arange(10))
    assert sub.symbols == panel.symbols and np.array_equal(
        sub.symbol_codes, panel.symbol_codes[:10]
    )


def test_market_feature_is_the_market_level_relative_to_the_windows_last_day(frames):
    market = equal_weight_index(frames)
    windows = WindowsConfig(features=("close", "market"))
    panel = build_panel(frames, windows, LABELS, market=market)
    np.testing.assert_array_equal(panel.X[:, 1, -1], 0.0)
    name = panel.symbols[0]
    i = int(np.flatnonzero(panel.symbol_codes == 0)[30])
    end = panel.end_dates[i]
    dates = frames[name].loc[:end].index[-20:]
    level = market.reindex(dates, method="ffill").to_numpy()
    np.testing.assert_allclose(panel.X[i, 1], 100 * np.log(level / level[-1]), atol=1e-4)


def test_market_level_on_a_date_the_market_lacks_is_the_last_one_before():
    frame = pd.DataFrame(
        {c: [1.0, 1.0, 1.0] for c in ("open", "high", "low", "close", "volume")},
        index=pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-05"]),
    )
    market = pd.Series(
        [10.0, 11.0, 12.0], index=pd.DatetimeIndex(["2024-01-03", "2024-01-04", "2024-01-06"])
    )
    out = attach_market(frame, market)
    assert list(out.index) == list(frame.index[1:])  # no market before 2024-01-03
    assert list(out["market"]) == [10.0, 11.0]  # 2024-01-05: the 01-04 level, not 01-06's


def test_market_feature_without_a_market_is_one_clear_error(frames):
    with pytest.raises(
        LabelError, match=r"'market' feature needs a market series: set \[data\] market"
    ):
        build_panel(frames, WindowsConfig(features=("close", "market")), LABELS)


def test_a_symbol_too_short_for_a_window_is_left_out_with_a_warning(frames):
    short = {**frames, "TINY": next(iter(frames.values())).iloc[:15]}
    with pytest.warns(
        UserWarning, match="1 symbol\\(s\\) too short for one window, left out: TINY"
    ):
        panel = build_panel(short, labels=LABELS)
    assert "TINY" not in panel.symbols
