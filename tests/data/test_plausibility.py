"""Implausible bars (issue case 9b): each rule on hand-made frames, real moves that must
not be flagged, limits that follow the asset and the config, the listing of ``data
check`` and the warning of ``data import``; and what the check reports on the real
exports (read at test time, never committed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.config import DataChecksConfig
from niftycnn.data import canonical_frame
from niftycnn.data.plausibility import implausible_bars, limits_for
from tests.cli_helpers import cli, warning_lines
from tests.conftest import SHARED_DATA
from tests.data._helpers import sessions

INDEX = limits_for("^NSEI")


def _frame(close: np.ndarray, start: str = "2024-01-01") -> pd.DataFrame:
    """Bars around ``close`` (1 % range, open at the previous close) on NSE sessions."""
    close = np.asarray(close, dtype=float)
    opens = np.concatenate(([close[0]], close[:-1]))
    frame = pd.DataFrame(
        {
            "open": opens,
            "high": np.maximum(opens, close) * 1.01,
            "low": np.minimum(opens, close) * 0.99,
            "close": close,
            "volume": np.full(len(close), 1e6),
        },
        index=sessions(start, len(close)),
    )
    return canonical_frame(frame)


def _walk(n: int = 80, seed: int = 0) -> np.ndarray:
    return 100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n)))


def _flatten(frame: pd.DataFrame, i: int) -> pd.DataFrame:
    frame = frame.copy()
    frame.iloc[i, :4] = frame["close"].iloc[i]
    frame.iloc[i, 4] = 0.0
    return frame


def test_each_rule_flags_its_bar_by_date():
    close = _walk()
    close[20:] *= 1000.0  # a unit change that persists
    close[40] *= 1.5  # a glitch that reverts the next day
    frame = _flatten(_frame(close), 60)  # a filled bar on a session
    captured = pd.Timestamp(f"{frame.index[-1].date()} 11:00", tz="Asia/Kolkata")
    table = implausible_bars(frame, INDEX, captured_at=captured)
    got = [(str(d.date()), r) for d, r in zip(table["date"], table["rule"], strict=True)]
    dates = [str(frame.index[i].date()) for i in (20, 40, 60, 79)]
    assert got == list(zip(dates, ["jump", "spike", "stale", "partial"], strict=True))
    before, after = frame["close"].iloc[19], frame["close"].iloc[20]
    assert (
        table["detail"].iloc[0] == f"close {before:.6g} -> {after:.6g} ({after / before - 1:+.0%})"
    )
    assert table["detail"].iloc[3] == "captured at 11:00 IST, before the 15:30 close"


def test_real_moves_and_non_sessions_are_not_flagged():
    close = _walk(seed=1)
    close[30:] *= 0.80  # a 20 % crash that stays: large, but real for an index
    close[50:] *= 1.09  # a rebound
    frame = _frame(close)
    assert implausible_bars(frame, INDEX).empty
    after_close = pd.Timestamp(f"{frame.index[-1].date()} 16:05", tz="Asia/Kolkata")
    assert implausible_bars(frame, INDEX, captured_at=after_close).empty
    # a flat bar dated on a holiday (Republic Day) is the calendar check's, not stale
    holiday = frame.iloc[:1].copy()
    holiday.index = pd.DatetimeIndex([pd.Timestamp("2024-01-26")], name="date")
    with_holiday = _flatten(pd.concat([frame, holiday]).sort_index(), 18)
    assert with_holiday.index[18] == pd.Timestamp("2024-01-26")
    assert implausible_bars(with_holiday, INDEX).empty


def test_a_level_shift_after_a_spike_is_a_jump_not_a_spike():
    close = _walk(seed=2)
    close[40] *= 1.5
    close[41:] *= 1.5  # the neighbours disagree: the new level stays
    table = implausible_bars(_frame(close), INDEX)
    assert list(table["rule"]) == ["jump"]


def test_limits_follow_the_asset_and_the_config():
    assert (INDEX.max_move, INDEX.max_spike, INDEX.asset) == (0.25, 0.10, "index")
    stock = limits_for("RELIANCE")
    assert (stock.max_move, stock.max_spike, stock.asset) == (0.50, 0.20, "stock")
    close = _walk(seed=3)
    close[30:] *= 1.40  # a 40 % day: implausible for an index, possible for a stock
    frame = _frame(close)
    assert list(implausible_bars(frame, INDEX)["rule"]) == ["jump"]
    assert implausible_bars(frame, stock).empty
    tight = limits_for("RELIANCE", DataChecksConfig(max_move=0.3, max_spike=0.05))
    assert (tight.max_move, tight.max_spike) == (0.3, 0.05)
    assert list(implausible_bars(frame, tight)["rule"]) == ["jump"]


def test_data_check_lists_the_bars_by_date_and_import_warns_in_one_line(tmp_path, capsys):
    close = _walk()
    close[25:] *= 1000.0
    frame = _flatten(_frame(close), 50)
    path = tmp_path / "glitch.csv"
    frame.to_csv(path)
    result = cli(["data", "check", path, "--symbol", "^NSEI"], capsys)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    at = lines.index("implausible bars (index: max move 25%, spike 10%): 2")
    assert lines[at + 1].startswith(f"  {frame.index[25].date()}  jump     close ")
    assert lines[at + 2] == (
        f"  {frame.index[50].date()}  stale    open = high = low = close = "
        f"{frame['close'].iloc[50]:.6g}, volume 0"
    )
    result = cli(["data", "import", path, "--symbol", "^NSEI", "--cache-dir", tmp_path], capsys)
    assert result.code == 0, result.err
    assert warning_lines(result.err) == [
        f"warning: ^NSEI: 2 implausible bar(s) (index: max move 25%, spike 10%): "
        f"{frame.index[25].date()} (jump), {frame.index[50].date()} (stale); "
        "`niftycnn data check` lists them"
    ]


SHARED_FILES = [
    *sorted((SHARED_DATA / "stocks").glob("*.csv")),
    SHARED_DATA / "nifty50_yahoo_daily.csv",
]


@pytest.mark.slow
@pytest.mark.real_data
@pytest.mark.parametrize("path", SHARED_FILES, ids=[p.stem for p in SHARED_FILES])
def test_data_check_reports_the_real_exports_bar_by_bar(path, capsys):
    """Every real export is checked and its flagged bars are listed in date order; the
    index history, whose largest daily move is under the index limit, has no jump or
    spike (a flag there would be a false alarm)."""
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (only on project machines)")
    symbol = "^NSEI" if path.stem.startswith("nifty") else path.stem
    result = cli(["data", "check", path, "--symbol", symbol], capsys)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("implausible bars ("))
    count = int(lines[head].rsplit(": ", 1)[1])
    listed = [x for x in lines[head + 1 :] if x.startswith("  ") and x[2:3].isdigit()]
    assert len(listed) == min(count, 30)
    dates = [x.split()[0] for x in listed]
    assert dates == sorted(dates)
    assert all(x.split()[1] in {"jump", "spike", "stale", "partial"} for x in listed)
    if symbol == "^NSEI":
        assert not any(x.split()[1] in {"jump", "spike"} for x in listed)
