"""NIFTY options expiry calendar, from one table of rule regimes.

An expiry is a *nominal* date given by a weekday rule (every Thursday, last Tuesday of the
month, ...); a nominal date that is not a trading day moves to the previous trading day.
The rules change over time, so they live in :data:`EXPIRY_REGIMES`, one row per change,
each with its source. When NSE changes the rule again, add a row.

Trading days (the days an expiry may fall on): a caller passes the data's own dates
(``trading_days``). Within the data's date range an expiry day must be a data day (a
close must exist to price the label) *and* a regular NSE session where the exchange
calendar covers it: Yahoo lists Diwali Muhurat sessions (e.g. Thursday 2021-11-04),
which never host an expiry (NIFTY's weekly expired on 2021-11-03 that week), and the
calendar in turn lists a few days Yahoo lacks. A regular session missing from the data
(a Yahoo gap, e.g. 2011-11-24, a monthly expiry day) counts as a holiday: the expiry
moves to the previous data day, the only close we have. Outside the data's range the
exchange calendar (:func:`niftycnn.data.calendar.nse_sessions`) alone decides, so expiry
dates just beyond the data are still known; beyond its coverage an expiry is unknown
(NaT). Truncating the data can therefore change an expiry only through such a gap.

Weekly expiries before the first weekly NIFTY contract (February 2019) do not exist; for
``kind="weekly"`` we fall back to the monthly expiries before then, so a 2007-2024
backtest has one continuous label definition: monthly horizons early, weekly later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from niftycnn.data.calendar import calendar_bounds, nse_sessions
from niftycnn.errors import CalendarError

ExpiryKind = Literal["weekly", "monthly"]
EXPIRY_KINDS: tuple[str, ...] = ("weekly", "monthly")

MON, TUE, WED, THU, FRI = range(5)


@dataclass(frozen=True)
class ExpiryRegime:
    """One expiry rule, in force for nominal dates from ``start`` until the next regime.

    Attributes:
        kind: "weekly" or "monthly".
        start: first nominal expiry date the rule applies to.
        weekday: 0 = Monday ... 4 = Friday.
        rule: "every" (each such weekday) or "last" (last such weekday of the month).
        source: where the rule and its start date come from.
    """

    kind: str
    start: pd.Timestamp
    weekday: int
    rule: Literal["every", "last"]
    source: str


# The one table of expiry rules. Rows of one kind are in start order.
EXPIRY_REGIMES: tuple[ExpiryRegime, ...] = (
    ExpiryRegime(
        "monthly",
        pd.Timestamp("2000-06-12"),
        THU,
        "last",
        # NIFTY index futures launched 12 June 2000 with last-Thursday monthly expiry
        # (options followed in June 2001 on the same cycle); NSE F&O contract specs.
        "NSE F&O contract specifications (NIFTY futures launched 2000-06-12)",
    ),
    ExpiryRegime(
        "monthly",
        pd.Timestamp("2025-09-01"),
        TUE,
        "last",
        # SEBI circular of 26 May 2025 (Tuesday/Thursday only); NSE circular of 17 June
        # 2025: contracts expiring on or after 1 September 2025 expire on Tuesday,
        # monthly on the last Tuesday; last Thursday monthly expiry was 2025-08-28.
        "SEBI circular 2025-05-26; NSE circulars 2025-06-17 and 2025-06-23",
    ),
    ExpiryRegime(
        "weekly",
        pd.Timestamp("2019-02-11"),
        THU,
        "every",
        # NSE launched NIFTY 50 weekly options on 11 February 2019 (SEBI approval Dec
        # 2018), expiring every Thursday; first weekly expiry 2019-02-14.
        "NSE press release Dec 2018 / launch 2019-02-11 (BloombergQuint, Livemint)",
    ),
    ExpiryRegime(
        "weekly",
        pd.Timestamp("2025-09-01"),
        TUE,
        "every",
        # Same NSE move to Tuesday; first Tuesday weekly expiry 2025-09-02 (NDTV Profit,
        # "Nifty weekly expiry shifts to Tuesday", 2 Sep 2025).
        "SEBI circular 2025-05-26; NSE circulars 2025-06-17 and 2025-06-23",
    ),
)


def _check_kind(kind: str) -> None:
    if kind not in EXPIRY_KINDS:
        raise CalendarError(f"unknown expiry kind {kind!r}; use one of {EXPIRY_KINDS}")


def regimes_for(kind: str) -> tuple[ExpiryRegime, ...]:
    """The regimes that define ``kind``, in start order.

    Weekly before the first weekly regime falls back to the monthly regimes.
    """
    _check_kind(kind)
    monthly = tuple(r for r in EXPIRY_REGIMES if r.kind == "monthly")
    if kind == "monthly":
        return monthly
    weekly = tuple(r for r in EXPIRY_REGIMES if r.kind == "weekly")
    return tuple(r for r in monthly if r.start < weekly[0].start) + weekly


def _weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 weekday of day numbers since 1970-01-01 (a Thursday)."""
    return (days + 3) % 7


def _nominal_dates(regime: ExpiryRegime, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Nominal expiry dates of one regime in [start, end] (datetime64[D], vectorised)."""
    lo = int(np.datetime64(start.date(), "D").astype(np.int64))
    hi = int(np.datetime64(end.date(), "D").astype(np.int64))
    if lo > hi:
        return np.array([], dtype="datetime64[D]")
    if regime.rule == "every":
        first = lo + (regime.weekday - (lo + 3) % 7) % 7
        return np.arange(first, hi + 1, 7).astype("datetime64[D]")
    first_month = int(np.datetime64(start.date(), "M").astype(np.int64))
    last_month = int(np.datetime64(end.date(), "M").astype(np.int64))
    months = np.arange(first_month, last_month + 1)
    month_ends = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1
    last = month_ends - (_weekday(month_ends) - regime.weekday) % 7
    return last[(last >= lo) & (last <= hi)].astype("datetime64[D]")


def nominal_expiries(kind: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Nominal (unshifted) expiry dates of ``kind`` in [start, end], sorted."""
    regimes = regimes_for(kind)
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if start < regimes[0].start:
        raise CalendarError(
            f"no NIFTY expiry rule before {regimes[0].start.date()} (asked from {start.date()}); "
            "start the data later or add a regime to EXPIRY_REGIMES"
        )
    parts = []
    for i, reg in enumerate(regimes):
        stop = regimes[i + 1].start - pd.Timedelta(days=1) if i + 1 < len(regimes) else end
        parts.append(_nominal_dates(reg, max(start, reg.start), min(end, stop)))
    days = np.sort(np.concatenate(parts)).astype("datetime64[ns]")
    return pd.DatetimeIndex(days, name="date")


def trading_calendar(
    start: pd.Timestamp, end: pd.Timestamp, trading_days: pd.DatetimeIndex | None = None
) -> pd.DatetimeIndex:
    """Days an expiry may fall on, in [start, end] (see the module docstring).

    Within the range of ``trading_days``: those days that are also regular NSE sessions
    (where the calendar covers them), which drops Diwali Muhurat sessions that Yahoo
    lists; outside it: NSE sessions. Parts outside both are left empty; callers treat
    expiries there as unknown.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    cal_first, cal_last = calendar_bounds()
    pieces: list[pd.DatetimeIndex] = []

    def sessions(a: pd.Timestamp, b: pd.Timestamp) -> pd.DatetimeIndex:
        a, b = max(a, cal_first), min(b, cal_last)
        return nse_sessions(a, b) if a <= b else pd.DatetimeIndex([], name="date")

    if trading_days is None or len(trading_days) == 0:
        pieces.append(sessions(start, end))
    else:
        td = pd.DatetimeIndex(trading_days).normalize().unique().sort_values()
        first, last = td[0], td[-1]
        pieces.append(sessions(start, min(end, first - pd.Timedelta(days=1))))
        inside = td[(td >= start) & (td <= end)]
        if len(inside):
            lo, hi = max(inside[0], cal_first), min(inside[-1], cal_last)
            covered = (inside >= lo) & (inside <= hi)
            inside = inside[~covered | inside.isin(sessions(lo, hi))]
        pieces.append(inside)
        pieces.append(sessions(max(start, last + pd.Timedelta(days=1)), end))
    days = pieces[0].append(pieces[1:]) if len(pieces) > 1 else pieces[0]
    return pd.DatetimeIndex(days, name="date").unique().sort_values()


def _known_span(trading_days: pd.DatetimeIndex | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last date whose trading status is known (from the data or the calendar)."""
    cal_first, cal_last = calendar_bounds()
    if trading_days is None or len(trading_days) == 0:
        return cal_first, cal_last
    first = pd.Timestamp(trading_days.min()).normalize()
    last = pd.Timestamp(trading_days.max()).normalize()
    return min(cal_first, first), max(cal_last, last)


def _shift_to_trading_days(nominal: pd.DatetimeIndex, days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Each nominal date, moved to the last trading day on or before it; unique, sorted."""
    pos = days.searchsorted(nominal, side="right") - 1
    shifted = days[pos[pos >= 0]]
    return pd.DatetimeIndex(shifted, name="date").unique().sort_values()


def expiry_dates(
    kind: str,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    trading_days: pd.DatetimeIndex | None = None,
) -> pd.DatetimeIndex:
    """Expiry dates of ``kind`` ("weekly" or "monthly") whose nominal date is in [start, end].

    A nominal date that is not a trading day moves to the previous trading day (see the
    module docstring for which days count). Raises :class:`CalendarError` where the
    trading status of some day in the range is unknown.
    """
    _check_kind(kind)
    start_ts, end_ts = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    known_from, known = _known_span(trading_days)
    if end_ts > known or start_ts < known_from:
        raise CalendarError(
            f"trading days are known from {known_from.date()} to {known.date()}, not "
            f"{start_ts.date()} to {end_ts.date()}; narrow the range or pass the data's dates"
        )
    nominal = nominal_expiries(kind, start_ts, end_ts)
    # Look back a few weeks so a holiday run at the start still finds a trading day.
    days = trading_calendar(start_ts - pd.Timedelta(days=31), end_ts, trading_days)
    return _shift_to_trading_days(nominal, days)


def next_expiry(
    dates: pd.DatetimeIndex,
    kind: str,
    trading_days: pd.DatetimeIndex | None = None,
) -> pd.DatetimeIndex:
    """For each date, the first expiry strictly after it; NaT where it is not yet known.

    An expiry is unknown when its nominal date lies beyond both ``trading_days`` and the
    exchange calendar (whether that day trades, and so the expiry date, is not known).
    """
    _check_kind(kind)
    dates = pd.DatetimeIndex(dates)
    if len(dates) == 0:
        return pd.DatetimeIndex([], name="expiry")
    known = _known_span(trading_days)[1]
    lo = dates.min().normalize()
    # Any next expiry lies within ~5 weeks (a monthly cycle plus holidays).
    hi = min(dates.max().normalize() + pd.Timedelta(days=70), known)
    if hi < lo:
        nat = np.full(len(dates), np.datetime64("NaT", "ns"))
        return pd.DatetimeIndex(nat, name="expiry").as_unit(dates.unit)
    expiries = expiry_dates(kind, lo, hi, trading_days)
    pos = expiries.searchsorted(dates, side="right")
    out = np.full(len(dates), np.datetime64("NaT", "ns"))
    ok = pos < len(expiries)
    out[ok] = expiries.values[pos[ok]]
    return pd.DatetimeIndex(out, name="expiry").as_unit(dates.unit)
