"""Expiry calendar: real NSE dates, regime changes, holiday shifts, unknown dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from niftycnn.data.calendar import calendar_bounds
from niftycnn.errors import CalendarError
from niftycnn.windows.expiry import (
    EXPIRY_REGIMES,
    expiry_dates,
    next_expiry,
    regimes_for,
)

TS = pd.Timestamp


def _in_month(kind: str, month: str) -> list[pd.Timestamp]:
    start = TS(month)
    return list(expiry_dates(kind, start, start + pd.offsets.MonthEnd(0)))


def _in_month_days(kind: str, month: str, days: pd.DatetimeIndex) -> list[pd.Timestamp]:
    start = TS(month)
    return list(expiry_dates(kind, start, start + pd.offsets.MonthEnd(0), days))


def test_monthly_june_2023_moves_to_wednesday_for_the_bakri_id_holiday():
    assert _in_month("monthly", "2023-06") == [TS("2023-06-28")]


def test_monthly_january_2024_is_last_thursday():
    assert _in_month("monthly", "2024-01") == [TS("2024-01-25")]


def test_weekly_in_independence_day_week_2024_is_wednesday():
    assert list(expiry_dates("weekly", "2024-08-12", "2024-08-18")) == [TS("2024-08-14")]


def test_real_data_dates_give_the_same_known_expiries(real_frame):
    days = real_frame.index
    assert list(expiry_dates("monthly", "2023-06-01", "2023-06-30", days)) == [TS("2023-06-28")]
    assert list(expiry_dates("weekly", "2024-08-12", "2024-08-18", days)) == [TS("2024-08-14")]


def test_tuesday_regime_starts_september_2025():
    weekly = expiry_dates("weekly", "2025-08-18", "2025-09-20")
    assert list(weekly) == [
        TS(d) for d in ("2025-08-21", "2025-08-28", "2025-09-02", "2025-09-09", "2025-09-16")
    ]
    assert _in_month("monthly", "2025-08") == [TS("2025-08-28")]
    assert _in_month("monthly", "2025-09") == [TS("2025-09-30")]
    # 2 Oct 2025 (Gandhi Jayanti) no longer matters: 7 Oct is a Tuesday session.
    assert TS("2025-10-07") in expiry_dates("weekly", "2025-10-01", "2025-10-10")


def test_first_weekly_expiry_is_14_february_2019_and_monthly_before():
    weekly = expiry_dates("weekly", "2018-11-01", "2019-03-01")
    monthly = expiry_dates("monthly", "2018-11-01", "2019-03-01")
    assert list(weekly[weekly < TS("2019-02-11")]) == list(monthly[monthly < TS("2019-02-11")])
    assert list(weekly[weekly >= TS("2019-02-11")]) == [
        TS("2019-02-14"),
        TS("2019-02-21"),
        TS("2019-02-28"),
    ]


def test_weekly_before_2019_falls_back_to_monthly():
    assert expiry_dates("weekly", "2008-01-01", "2018-12-31").equals(
        expiry_dates("monthly", "2008-01-01", "2018-12-31")
    )


def test_regime_table_is_ordered_and_sourced():
    for kind in ("weekly", "monthly"):
        starts = [r.start for r in EXPIRY_REGIMES if r.kind == kind]
        assert starts == sorted(starts)
    assert all(r.source for r in EXPIRY_REGIMES)
    assert regimes_for("weekly")[0].kind == "monthly"  # the pre-2019 fallback


def test_real_history_expiries_are_data_days_on_or_before_the_rule_weekday(real_frame):
    days = real_frame.index
    exp = expiry_dates("weekly", days[0], days[-1], days)
    assert exp.isin(days).all()
    assert (exp.day_of_week <= 3).all()  # Thursday, or earlier in the week after a holiday
    assert np.diff(exp.values).min() > np.timedelta64(0, "D")


def test_a_gap_in_the_data_counts_as_a_holiday_within_the_data_range(real_frame):
    days = real_frame.index.drop(TS("2024-08-22"))
    assert list(expiry_dates("weekly", "2024-08-19", "2024-08-25", days)) == [TS("2024-08-21")]


def test_muhurat_sessions_in_the_data_never_host_an_expiry(real_frame):
    days = real_frame.index
    assert TS("2021-11-04") in days  # Diwali Muhurat session, listed by Yahoo
    assert list(expiry_dates("weekly", "2021-11-01", "2021-11-07", days)) == [TS("2021-11-03")]
    # Oct 2011: 27th a holiday, 26th Diwali (Muhurat): expiry on the 25th.
    assert _in_month_days("monthly", "2011-10", days) == [TS("2011-10-25")]


def test_expiries_beyond_the_data_come_from_the_exchange_calendar(real_frame):
    nxt = next_expiry(pd.DatetimeIndex(["2024-12-31"]), "weekly", real_frame.index)
    assert list(nxt) == [TS("2025-01-02")]


def test_next_expiry_is_strictly_after_and_nat_beyond_the_calendar():
    # the installed calendar's last weekly expiry: its successor's day is not yet known
    last = calendar_bounds()[1]
    final = expiry_dates("weekly", last - pd.Timedelta(days=14), last)[-1]
    dates = pd.DatetimeIndex(["2024-08-13", "2024-08-14", final - pd.Timedelta(days=1), final])
    got = next_expiry(dates, "weekly")
    assert list(got[:3]) == [TS("2024-08-14"), TS("2024-08-22"), final]
    assert pd.isna(got[3])  # the next nominal expiry is past the calendar's last session


def test_unknown_ranges_raise_calendar_errors():
    last = calendar_bounds()[1]
    with pytest.raises(CalendarError, match="trading days are known from"):
        expiry_dates("weekly", last - pd.Timedelta(days=30), last + pd.Timedelta(days=60))
    with pytest.raises(CalendarError, match="trading days are known from"):
        expiry_dates("monthly", "2005-01-01", "2005-12-31")  # before the exchange calendar
    with pytest.raises(CalendarError, match="no NIFTY expiry rule"):
        expiry_dates(
            "monthly", "1999-01-01", "1999-12-31", pd.bdate_range("1999-01-01", "2001-01-01")
        )
    with pytest.raises(CalendarError, match="unknown expiry kind"):
        expiry_dates("daily", "2020-01-01", "2020-02-01")


@settings(max_examples=30, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 6500), min_size=1, max_size=20),
    kind=st.sampled_from(["weekly", "monthly"]),
)
def test_next_expiry_is_the_first_expiry_strictly_after_each_date(offsets, kind):
    dates = pd.DatetimeIndex(TS("2008-01-01") + pd.to_timedelta(offsets, unit="D"))
    got = next_expiry(dates, kind)
    every = expiry_dates(kind, "2008-01-01", "2026-06-30")
    for d, e in zip(dates, got, strict=True):
        assert e == every[every > d][0]
