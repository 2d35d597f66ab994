"""Shipped, dated constituent lists (``[data] universe = "nifty50"``).

A list is a snapshot: the members of the index on one date, with where the list comes
from. Studying their past with today's members is *survivorship-biased*: the stocks that
were in the index years ago and left it (shrunk, merged, delisted) are missing, and the
ones present are there partly because their prices rose. Back-tested returns, long-only
ones and momentum above all, then look better than anything a trader could have held at
the time. A point-in-time membership table (the constituents on every date) removes the
bias; without one, read a universe backtest as "among stocks that later were large".
The note is recorded in the run's data.json and shown in its report.
"""

from __future__ import annotations

from dataclasses import dataclass

from niftycnn.errors import DataSourceError

SURVIVORSHIP_NOTE = (
    "survivorship bias: these are the index members on {as_of}, studied over years in "
    "which some of them were not members and other stocks (since dropped) were; past "
    "returns of today's members look better than what could have been held then"
)


@dataclass(frozen=True)
class Constituents:
    """The members of an index on ``as_of`` (NSE symbols; Yahoo adds ``suffix``)."""

    name: str
    as_of: str
    source: str
    symbols: tuple[str, ...]
    suffix: str = ".NS"

    @property
    def yahoo_symbols(self) -> tuple[str, ...]:
        return tuple(f"{s}{self.suffix}" for s in self.symbols)

    @property
    def note(self) -> str:
        return SURVIVORSHIP_NOTE.format(as_of=self.as_of)


# NIFTY 50 from 2024-09-30 (after Bharat Electronics and Trent replaced Divi's
# Laboratories and LTIMindtree) until the March 2025 reconstitution. Source: NSE Indices
# Ltd, "Replacement of scrips in NIFTY 50 index" (press release of 2024-08-23, effective
# 2024-09-30) applied to the list effective 2024-03-28 (Shriram Finance replaced UPL).
NIFTY50 = Constituents(
    name="nifty50",
    as_of="2024-09-30",
    source=(
        "NSE Indices Ltd index-change press releases (niftyindices.com), changes "
        "effective 2024-03-28 and 2024-09-30"
    ),
    symbols=(
        "ADANIENT",
        "ADANIPORTS",
        "APOLLOHOSP",
        "ASIANPAINT",
        "AXISBANK",
        "BAJAJ-AUTO",
        "BAJAJFINSV",
        "BAJFINANCE",
        "BEL",
        "BHARTIARTL",
        "BPCL",
        "BRITANNIA",
        "CIPLA",
        "COALINDIA",
        "DRREDDY",
        "EICHERMOT",
        "GRASIM",
        "HCLTECH",
        "HDFCBANK",
        "HDFCLIFE",
        "HEROMOTOCO",
        "HINDALCO",
        "HINDUNILVR",
        "ICICIBANK",
        "INDUSINDBK",
        "INFY",
        "ITC",
        "JSWSTEEL",
        "KOTAKBANK",
        "LT",
        "M&M",
        "MARUTI",
        "NESTLEIND",
        "NTPC",
        "ONGC",
        "POWERGRID",
        "RELIANCE",
        "SBILIFE",
        "SBIN",
        "SHRIRAMFIN",
        "SUNPHARMA",
        "TATACONSUM",
        "TATAMOTORS",
        "TATASTEEL",
        "TCS",
        "TECHM",
        "TITAN",
        "TRENT",
        "ULTRACEMCO",
        "WIPRO",
    ),
)

UNIVERSES: dict[str, Constituents] = {c.name: c for c in (NIFTY50,)}


def constituents(name: str) -> Constituents:
    """The shipped list ``name`` (``[data] universe``)."""
    if name not in UNIVERSES:
        raise DataSourceError(
            f"unknown universe {name!r}; shipped: {', '.join(UNIVERSES)} (or give [data] "
            "symbols = [...])"
        )
    return UNIVERSES[name]
