"""Implausible bars: prices a clean frame can hold that are probably not real trades.

A frame can pass every fatal check (``niftycnn.data.validate``) and still hold bars no
market printed: a glitched close a thousand times too large, a price that leaves and
returns the next day, a stale copy of yesterday's bar, an intraday snapshot stored as
the day's bar. :func:`implausible_bars` lists them by date, one rule each:

- ``jump``: a close-to-close move beyond ``max_move`` (a persistent level shift, e.g. a
  unit change or an unadjusted split);
- ``spike``: a close more than ``max_spike`` away from both neighbours, on the same side,
  while the neighbours agree with each other (within ``max_spike / 2``): it reverts the
  next day;
- ``stale``: open = high = low = close with zero volume on a day the exchange was open
  (or outside the calendar's coverage): a filled bar, not a trade. Flat bars on days that
  were not sessions are reported by the calendar check instead;
- ``partial``: the last bar was captured on its own date before the session closed.

The thresholds (``[data.checks]``, :class:`niftycnn.config.DataChecksConfig`) default by
asset: an index moves less than a single stock, so it gets tighter limits. They are
round numbers, not fitted to any one history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import numpy as np
import pandas as pd

from niftycnn.config import DataChecksConfig
from niftycnn.data.calendar import calendar_bounds, nse_sessions
from niftycnn.errors import DataValidationError

ASSET_LIMITS: dict[str, tuple[float, float]] = {
    # (max_move, max_spike): NIFTY's largest daily move since 2007 is about 18 %, a large
    # stock's about 45 % (a bank on one day of March 2020); a glitch is usually 2-1000x.
    "index": (0.25, 0.10),
    "stock": (0.50, 0.20),
}
MARKET_CLOSE = time(15, 30)  # NSE's closing time, Asia/Kolkata
_TZ = "Asia/Kolkata"
_FLAT_RTOL = 1e-9
_SHOW = 30


@dataclass(frozen=True)
class Limits:
    """The thresholds one check runs with (fractions: 0.25 = 25 %)."""

    max_move: float
    max_spike: float
    asset: str

    def describe(self) -> str:
        return f"{self.asset}: max move {self.max_move:.0%}, spike {self.max_spike:.0%}"


def asset_kind(symbol: str) -> str:
    """``index`` for a Yahoo index symbol (``^NSEI``) or a synthetic market, else ``stock``."""
    return "index" if symbol.startswith("^") or symbol.upper().startswith("SYNTHETIC") else "stock"


def limits_for(symbol: str, checks: DataChecksConfig | None = None) -> Limits:
    """The thresholds for ``symbol``: the configured ones, else the asset's defaults."""
    checks = checks or DataChecksConfig()
    asset = asset_kind(symbol)
    move, spike = ASSET_LIMITS[asset]
    return Limits(checks.max_move or move, checks.max_spike or spike, asset)


def implausible_bars(
    frame: pd.DataFrame, limits: Limits, captured_at: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The implausible bars of a clean canonical frame: one row per (date, rule), sorted
    by date, with columns ``date``, ``rule`` and ``detail`` (module docstring)."""
    close = frame["close"].to_numpy(np.float64)
    dates = pd.DatetimeIndex(frame.index)
    rows: list[tuple[pd.Timestamp, str, str]] = []
    move = np.full(len(close), np.nan)
    move[1:] = close[1:] / close[:-1] - 1.0
    spike = np.zeros(len(close), dtype=bool)
    if len(close) >= 3:
        before, after = close[1:-1] / close[:-2] - 1.0, close[1:-1] / close[2:] - 1.0
        agree = np.abs(close[2:] / close[:-2] - 1.0) <= limits.max_spike / 2
        far = (np.abs(before) > limits.max_spike) & (np.abs(after) > limits.max_spike)
        spike[1:-1] = far & (np.sign(before) == np.sign(after)) & agree
    for i in np.flatnonzero(spike):
        rows.append(
            (dates[i], "spike", f"close {close[i - 1]:.6g} -> {close[i]:.6g} -> {close[i + 1]:.6g}")
        )
    # a spike's own moves (into it and out of it) are not listed again as jumps
    part_of_spike = spike | np.roll(spike, 1)
    jump = (np.abs(np.nan_to_num(move)) > limits.max_move) & ~part_of_spike
    for i in np.flatnonzero(jump):
        rows.append(
            (dates[i], "jump", f"close {close[i - 1]:.6g} -> {close[i]:.6g} ({move[i]:+.0%})")
        )
    for i in np.flatnonzero(_stale(frame)):
        rows.append((dates[i], "stale", f"open = high = low = close = {close[i]:.6g}, volume 0"))
    if captured_at is not None and len(dates) and _mid_session(dates[-1], captured_at):
        when = pd.Timestamp(captured_at).tz_convert(_TZ).strftime("%H:%M")
        rows.append((dates[-1], "partial", f"captured at {when} IST, before the 15:30 close"))
    table = pd.DataFrame(rows, columns=["date", "rule", "detail"])
    return table.sort_values(["date", "rule"], kind="stable").reset_index(drop=True)


def _stale(frame: pd.DataFrame) -> np.ndarray:
    """Flat zero-volume bars on exchange sessions (or where the calendar cannot tell)."""
    o, h, lo, c = (frame[k].to_numpy(np.float64) for k in ("open", "high", "low", "close"))
    flat = np.isclose(o, c, rtol=_FLAT_RTOL, atol=0.0) & np.isclose(h, lo, rtol=_FLAT_RTOL, atol=0)
    flat &= np.isclose(h, c, rtol=_FLAT_RTOL, atol=0.0) & (frame["volume"].to_numpy() == 0)
    if not flat.any():
        return flat
    dates = pd.DatetimeIndex(frame.index)
    first, last = calendar_bounds()
    covered = (dates >= first) & (dates <= last)
    sessions = nse_sessions(max(dates[0], first), min(dates[-1], last)) if covered.any() else None
    on_session = ~covered | (dates.isin(sessions) if sessions is not None else False)
    return flat & np.asarray(on_session)


def _mid_session(last_date: pd.Timestamp, captured_at: pd.Timestamp) -> bool:
    at = pd.Timestamp(captured_at)
    at = (at.tz_localize("UTC") if at.tz is None else at).tz_convert(_TZ)
    same_day = at.normalize().tz_localize(None) == last_date.normalize()
    return bool(same_day and at.time() < MARKET_CLOSE)


def format_bars(table: pd.DataFrame, limit: int = _SHOW) -> list[str]:
    """One line per implausible bar (at most ``limit``, then a count of the rest)."""
    lines = [f"  {d.date()}  {r:<7}  {t}" for d, r, t in table.itertuples(index=False)]
    if len(lines) > limit:
        lines = [*lines[:limit], f"  (+{len(lines) - limit} more)"]
    return lines


def summary(table: pd.DataFrame, limits: Limits, limit: int = 5) -> str:
    """One line: how many implausible bars, the first few dates and rules, the limits."""
    shown = ", ".join(f"{d.date()} ({r})" for d, r, _ in table.head(limit).itertuples(index=False))
    more = f" (+{len(table) - limit} more)" if len(table) > limit else ""
    return f"{len(table)} implausible bar(s) ({limits.describe()}): {shown}{more}"


def enforce(
    table: pd.DataFrame, limits: Limits, strict: bool, where: str = "the data"
) -> str | None:
    """Raise under ``strict`` when ``table`` lists bars; else the warning text (or None)."""
    if table.empty:
        return None
    text = f"{where}: {summary(table, limits)}"
    if strict:
        raise DataValidationError(
            f"{text}; fix or drop those bars in the source, or turn strict off to only warn"
        )
    return f"{text}; `niftycnn data check` lists them"
