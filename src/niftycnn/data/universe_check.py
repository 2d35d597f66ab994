"""The data check of a universe: each symbol's report (as ``data check FILE`` prints it)
and a one-line-per-symbol summary of what is wrong, for ``data check FOLDER`` and a
universe run's ``data.json``."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from niftycnn.config import DataChecksConfig
from niftycnn.data.plausibility import implausible_bars, limits_for
from niftycnn.data.universe import Universe
from niftycnn.data.validate import format_report, report_for


@dataclass(frozen=True)
class UniverseCheck:
    """``summary``: a header line, one line per symbol (rows, dates, sessions missing
    against the NSE calendar, dates that were not sessions, implausible bars by rule) and
    the skipped symbols; ``reports``: each symbol's full report."""

    summary: str
    reports: dict[str, str]
    implausible: int


def check_universe(universe: Universe, checks: DataChecksConfig | None = None) -> UniverseCheck:
    """Check every symbol of ``universe`` (the module docstring)."""
    checks = checks or DataChecksConfig()
    lines, reports, total = [], {}, 0
    width = max(len(s) for s in universe.frames)
    for symbol, frame in universe.frames.items():
        limits = limits_for(symbol, checks)
        bars = implausible_bars(frame, limits)
        report = report_for(frame, implausible=bars, limits=limits.describe())
        reports[symbol] = format_report(report)
        total += len(bars)
        rules = bars["rule"].value_counts().sort_index() if len(bars) else pd.Series(dtype=int)
        found = ", ".join(f"{n} {r}" for r, n in rules.items()) or "none"
        lines.append(
            f"{symbol:<{width}}  {report.rows:>6,} rows  {report.first_date.date()} to "
            f"{report.last_date.date()}  missing sessions {len(report.missing_sessions):>4}  "
            f"not sessions {len(report.extra_dates):>3}  implausible bars: {found}"
        )
    n = len(universe.frames)
    flagged = sum(1 for line in lines if not line.endswith("implausible bars: none"))
    head = (
        f"universe: {n} symbols, {universe.provenance.rows:,} bars, "
        f"{universe.provenance.first_date} to {universe.provenance.last_date}; "
        f"{total:,} implausible bar(s) in {flagged} symbol(s)"
    )
    tail = [f"skipped {s}: {why}" for s, why in universe.skipped.items()]
    tail += [f"note: {note}" for note in universe.notes]
    return UniverseCheck("\n".join([head, *lines, *tail]), reports, total)
