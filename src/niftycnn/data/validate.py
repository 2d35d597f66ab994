"""Validation and cleaning of OHLCV frames, and the short text report ``data check`` prints.

:func:`clean_ohlcv` turns a parsed frame into the canonical one: harmless problems
(unsorted rows, identical duplicate rows, missing volume) are fixed with a warning; fatal
ones raise :class:`DataValidationError` naming the problem, the offending dates and the fix.
:func:`validate` adds the descriptive checks (zero volume per year, missing sessions).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import NoReturn

import numpy as np
import pandas as pd

from niftycnn.data.calendar import calendar_bounds, nse_sessions
from niftycnn.data.frame import OHLCV_COLUMNS, PRICE_COLUMNS, canonical_frame
from niftycnn.data.plausibility import format_bars
from niftycnn.errors import DataValidationError

MIN_ROWS = 30
"""Fewer rows cannot make even one 20-day window with a label; such a file is a mistake."""
RTOL = 1e-6
"""Relative tolerance of OHLC consistency checks (prices are often float32-rounded)."""
_SHOW = 5


@dataclass(frozen=True)
class ValidationReport:
    """What ``data check`` found in a frame (after the harmless fixes)."""

    rows: int
    first_date: pd.Timestamp
    last_date: pd.Timestamp
    fixes: tuple[str, ...] = ()
    zero_volume_share: dict[int, float] = field(default_factory=dict)
    missing_sessions: tuple[pd.Timestamp, ...] = ()
    extra_dates: tuple[pd.Timestamp, ...] = ()
    calendar_note: str = ""
    implausible: tuple[str, ...] = ()  # one line per bar (``niftycnn.data.plausibility``)
    n_implausible: int = 0
    limits: str = ""  # the thresholds the implausible-bar check used ("" = not run)

    def __str__(self) -> str:
        return format_report(self)


def _dates(index: pd.Index, limit: int = _SHOW) -> str:
    shown = ", ".join(str(pd.Timestamp(d).date()) for d in index[:limit])
    return shown + (f" (+{len(index) - limit} more)" if len(index) > limit else "")


def _fail(message: str) -> NoReturn:
    raise DataValidationError(message)


def clean_ohlcv(
    frame: pd.DataFrame,
    *,
    min_rows: int = MIN_ROWS,
    today: pd.Timestamp | None = None,
    fixes: list[str] | None = None,
    drop_missing: bool = False,
) -> pd.DataFrame:
    """Canonical frame from a parsed one; fixes harmless problems (warning), raises on
    fatal ones. Rows with missing prices are fatal unless ``drop_missing``: then they are
    dropped, and the warning lists their dates."""
    fixes = [] if fixes is None else fixes
    _check_columns(frame)
    if len(frame) == 0:
        _fail("the data has no rows; check the file or the date range")
    try:
        frame = canonical_frame(frame)
    except (ValueError, TypeError) as exc:
        _fail(
            f"values or dates are not numbers/dates ({str(exc).splitlines()[0][:80]}); "
            "parse the source with niftycnn.data.read_csv first"
        )
    if drop_missing:
        frame = _drop_missing(frame, fixes)
    frame = _fix_order_and_duplicates(frame, fixes)
    _check_values(frame)
    _check_dates(frame, today)
    if len(frame) < min_rows:
        _fail(
            f"only {len(frame)} rows of data; at least {min_rows} are needed "
            "(check the file is the full history)"
        )
    for fix in fixes:
        warnings.warn(fix, stacklevel=2)
    return frame


def _check_columns(frame: pd.DataFrame) -> None:
    missing = [c for c in OHLCV_COLUMNS if c not in frame.columns]
    if missing:
        _fail(
            f"missing column(s) {', '.join(missing)} "
            f"(found: {', '.join(map(str, frame.columns))}); "
            f"the data needs {', '.join(OHLCV_COLUMNS)}"
        )
    if frame.index.hasnans:
        _fail("some dates are missing (NaT); every row needs a date")


def _fix_order_and_duplicates(frame: pd.DataFrame, fixes: list[str]) -> pd.DataFrame:
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        fixes.append("rows were not in date order; sorted them")
    dup = frame.index.duplicated(keep=False)
    if dup.any():
        block = frame[dup]
        conflicting = block.groupby(level=0).nunique(dropna=False).gt(1).any(axis=1)
        if conflicting.any():
            bad = conflicting.index[conflicting.to_numpy()]
            _fail(
                f"{len(bad)} date(s) appear twice with different values: {_dates(bad)}; "
                "keep one row per date"
            )
        n_dropped = int(frame.index.duplicated().sum())
        frame = frame[~frame.index.duplicated()]
        fixes.append(f"dropped {n_dropped} identical duplicate row(s)")
    if frame["volume"].isna().any() and frame["volume"].notna().any():
        n = int(frame["volume"].isna().sum())
        frame = frame.assign(volume=frame["volume"].fillna(0.0))
        fixes.append(f"{n} row(s) had no volume; set it to 0 (as Yahoo does for index volume)")
    return frame


def _drop_missing(frame: pd.DataFrame, fixes: list[str]) -> pd.DataFrame:
    missing = frame.loc[:, list(PRICE_COLUMNS)].isna().any(axis=1).to_numpy()
    if missing.any() and not missing.all():
        fixes.append(
            f"dropped {int(missing.sum())} row(s) with missing prices: "
            f"{_dates(frame.index[missing].sort_values(), 30)}"
        )
        frame = frame[~missing]
    return frame


def _check_values(frame: pd.DataFrame) -> None:
    for col in OHLCV_COLUMNS:
        if frame[col].isna().all():
            _fail(f"column {col!r} is entirely empty (NaN); the source has no {col} data")
    nan_rows = frame.index[frame.isna().any(axis=1).to_numpy()]
    if len(nan_rows):
        _fail(
            f"{len(nan_rows)} row(s) have missing (NaN) values: {_dates(nan_rows)}; "
            "fill them in the source, or drop those rows with --drop-missing "
            "([data.checks] drop_missing = true)"
        )
    if not np.isfinite(frame.to_numpy()).all():
        _fail("some values are infinite; fix the source data")
    prices = frame.loc[:, list(PRICE_COLUMNS)]
    bad = prices.le(0).any(axis=1).to_numpy()
    if bad.any():
        first = frame.index[bad][0]
        _fail(
            f"{bad.sum()} row(s) have zero or negative prices: {_dates(frame.index[bad])} "
            f"(e.g. {prices.loc[first].min():g} on {first.date()}); prices must be > 0"
        )
    if (frame["volume"] < 0).any():
        _fail(
            f"negative volume on {_dates(frame.index[(frame['volume'] < 0).to_numpy()])}; "
            "volume must be >= 0"
        )
    _check_bars(frame)


def _check_bars(frame: pd.DataFrame) -> None:
    slack_hi = frame["high"] * (1 + RTOL)
    slack_lo = frame["low"] * (1 - RTOL)
    inverted = (frame["high"] < slack_lo).to_numpy()
    if inverted.any():
        _fail(
            f"{inverted.sum()} bar(s) have high < low: {_dates(frame.index[inverted])}; "
            "check the column order (open, high, low, close)"
        )
    outside = (
        pd.concat(
            [frame[c].gt(slack_hi) | frame[c].lt(slack_lo) for c in ("open", "close")], axis=1
        )
        .any(axis=1)
        .to_numpy()
    )
    if outside.any():
        _fail(
            f"{outside.sum()} bar(s) have open or close outside [low, high]: "
            f"{_dates(frame.index[outside])}; check the column mapping"
        )


def _check_dates(frame: pd.DataFrame, today: pd.Timestamp | None) -> None:
    today = (
        pd.Timestamp.now(tz="Asia/Kolkata").tz_localize(None).normalize()
        if today is None
        else today
    )
    future = frame.index[frame.index > today]
    if len(future):
        _fail(
            f"{len(future)} date(s) lie in the future (after {today.date()}): {_dates(future)}; "
            "check the date format (day/month order) of the source"
        )


def validate(frame: pd.DataFrame, *, min_rows: int = MIN_ROWS) -> ValidationReport:
    """Clean ``frame`` (raising on fatal problems) and describe what remains."""
    fixes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = clean_ohlcv(frame, min_rows=min_rows, fixes=fixes)
    for fix in fixes:
        warnings.warn(fix, stacklevel=2)
    return report_for(clean, fixes=tuple(fixes))


def report_for(
    clean: pd.DataFrame,
    fixes: tuple[str, ...] = (),
    implausible: pd.DataFrame | None = None,
    limits: str = "",
) -> ValidationReport:
    """Descriptive report of an already clean canonical frame; ``implausible`` is the
    table of :func:`niftycnn.data.plausibility.implausible_bars`, listed by date."""
    volume = clean["volume"]
    zero_share = volume.eq(0).groupby(clean.index.year).mean()
    missing, extra, note = _calendar_gaps(clean.index)
    return ValidationReport(
        rows=len(clean),
        first_date=clean.index[0],
        last_date=clean.index[-1],
        fixes=fixes,
        zero_volume_share={int(y): float(s) for y, s in zero_share.items()},
        missing_sessions=tuple(missing),
        extra_dates=tuple(extra),
        calendar_note=note,
        implausible=() if implausible is None else tuple(format_bars(implausible)),
        n_implausible=0 if implausible is None else len(implausible),
        limits=limits,
    )


def _calendar_gaps(index: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, str]:
    """Sessions the exchange held but the data lacks, and data dates that were not sessions."""
    first, last = calendar_bounds()
    lo, hi = max(index[0], first), min(index[-1], last)
    note = ""
    if lo != index[0] or hi != index[-1]:
        note = (
            f"calendar checked only from {lo.date()} to {hi.date()} (what the NSE calendar covers)"
        )
    if lo > hi:
        empty = pd.DatetimeIndex([], name="date")
        return empty, empty, note
    sessions = nse_sessions(lo, hi)
    inside = index[(index >= lo) & (index <= hi)]
    return sessions.difference(inside), inside.difference(sessions), note


def format_report(report: ValidationReport) -> str:
    """A short, human-readable summary (a few lines)."""
    lines = [f"rows: {report.rows:,}  from {report.first_date.date()} to {report.last_date.date()}"]
    lines += [f"fixed: {fix}" for fix in report.fixes]
    lines.append("zero-volume share by year: " + _volume_summary(report.zero_volume_share))
    missing = pd.DatetimeIndex(report.missing_sessions)
    lines.append(
        f"missing sessions (vs NSE calendar): {len(missing)}"
        + (f": {_dates(missing, 30)}" if len(missing) else "")
    )
    extra = pd.DatetimeIndex(report.extra_dates)
    lines.append(
        f"dates that were not NSE sessions: {len(extra)}"
        + (f": {_dates(extra, 30)}" if len(extra) else "")
    )
    if report.limits:
        lines.append(f"implausible bars ({report.limits}): {report.n_implausible}")
        lines.extend(report.implausible)
    if report.calendar_note:
        lines.append(f"note: {report.calendar_note}")
    return "\n".join(lines)


def _volume_summary(shares: dict[int, float]) -> str:
    """Compress runs of years with the same rounded share: ``2007-2012 100%, 2013 5%, ...``."""
    parts: list[str] = []
    years = sorted(shares)
    i = 0
    while i < len(years):
        j, pct = i, round(100 * shares[years[i]])
        while (
            j + 1 < len(years)
            and years[j + 1] == years[j] + 1
            and round(100 * shares[years[j + 1]]) == pct
        ):
            j += 1
        span = str(years[i]) if i == j else f"{years[i]}-{years[j]}"
        parts.append(f"{span} {pct}%")
        i = j + 1
    return ", ".join(parts) if parts else "n/a"
