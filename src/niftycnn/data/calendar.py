"""NSE trading sessions, from a maintained exchange calendar.

NSE and BSE share one holiday list (both follow the same SEBI/exchange holiday circulars),
so we use ``exchange_calendars``' ``XBOM`` calendar rather than a hand-written list.
It covers 2006-11-27 to the end of the year after its release; asking beyond that
raises :class:`CalendarError` instead of silently guessing.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import pandas as pd

from niftycnn.errors import CalendarError

CALENDAR_NAME = "XBOM"  # BSE; same trading days as NSE.


@lru_cache(maxsize=1)
def _calendar() -> Any:
    import exchange_calendars as xcals

    # exchange_calendars trips a pandas 3.1 deprecation inside its constructor; it is not
    # ours to fix and would otherwise show in every user's output.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return xcals.get_calendar(CALENDAR_NAME)


def calendar_bounds() -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last session the exchange calendar knows."""
    cal = _calendar()
    return pd.Timestamp(cal.first_session), pd.Timestamp(cal.last_session)


def nse_sessions(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """Trading sessions in [start, end] as tz-naive midnight timestamps named ``date``."""
    first, last = calendar_bounds()
    start_ts, end_ts = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if start_ts > end_ts:
        return pd.DatetimeIndex([], name="date")
    if start_ts < first or end_ts > last:
        raise CalendarError(
            f"the NSE calendar covers {first.date()} to {last.date()}, not {start_ts.date()} "
            f"to {end_ts.date()}; upgrade exchange-calendars or restrict the date range"
        )
    sessions = _calendar().sessions_in_range(start_ts, end_ts)
    return pd.DatetimeIndex(sessions.tz_localize(None) if sessions.tz else sessions, name="date")
