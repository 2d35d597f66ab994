"""A generated corpus of malformed data files, each with the message it must give.

Every file is built from :func:`tests.data._helpers.flat_rows` (40 clean sessions from
2024-01-01) with one defect; ``args`` are extra ``niftycnn data import`` flags. The
corpus goes beyond ``BAD_INPUTS`` of ``tests/data/test_csv_io.py``: other encodings of
missing values, delimiters, time zones, column sets, implausible bars under ``--strict``
and imports that would drop cached dates.
"""

from __future__ import annotations

import pandas as pd

from tests.data._helpers import flat_rows

ROWS = flat_rows()
DATES = list(ROWS["date"])


def _csv(rows: pd.DataFrame) -> str:
    return rows.to_csv(index=False)


def _cell(col: str, i: int, value: object, rows: pd.DataFrame | None = None) -> str:
    """The clean file with one cell replaced by ``value`` (written as is)."""
    rows = (ROWS if rows is None else rows).astype({col: object})
    rows.loc[i, col] = value
    return _csv(rows)


def _scaled(start: int, factor: float, stop: int | None = None) -> str:
    """Prices of rows ``start`` to ``stop - 1`` multiplied by ``factor`` (a unit glitch)."""
    rows = ROWS.copy()
    sl = slice(start, (stop or len(rows)) - 1)
    rows.loc[sl, ["open", "high", "low", "close"]] *= factor
    return _csv(rows)


def _flat(i: int) -> str:
    rows = ROWS.copy()
    rows.loc[i, ["open", "high", "low"]] = rows.loc[i, "close"]
    rows.loc[i, "volume"] = 0.0
    return _csv(rows)


def _dates(values: dict[int, str]) -> str:
    rows = ROWS.copy()
    for i, value in values.items():
        rows.loc[i, "date"] = value
    return _csv(rows)


def _tz(offsets: dict[int, str], default: str = "+05:30") -> str:
    rows = ROWS.assign(date=ROWS["date"] + " 00:00:00" + default)
    for i, offset in offsets.items():
        rows.loc[i, "date"] = f"{DATES[i]} 00:00:00{offset}"
    return _csv(rows)


CASES: list[tuple[str, str | bytes, tuple[str, ...], str]] = [
    ("mixed time zones", _tz({3: "+00:00"}), (), "dates in different time zones"),
    (
        "offset on some dates only",
        _dates({5: f"{DATES[5]} 09:15:00+05:30"}),
        (),
        f"'{DATES[5]} 09:15:00+05:30' on row 6",
    ),
    ("date as a word", _dates({7: "yesterday"}), (), "dates that do not parse ('yesterday'"),
    ("two date formats", _dates({8: "12-JAN-2024"}), (), "dates that do not parse ('12-JAN-2024'"),
    ("day 32", _dates({9: "2024-01-32"}), (), "dates that do not parse ('2024-01-32'"),
    ("a row without a date", _dates({10: ""}), (), "dates that do not parse (<NA>"),
    ("literal null", _cell("close", 4, "null"), (), f"missing (NaN) values: {DATES[4]};"),
    ("literal NaN", _cell("open", 11, "NaN"), (), f"missing (NaN) values: {DATES[11]};"),
    ("a dash", _cell("high", 12, "-"), (), f"missing (NaN) values: {DATES[12]};"),
    ("literal None", _cell("low", 13, "None"), (), f"missing (NaN) values: {DATES[13]};"),
    (
        "trailing row without prices",
        _csv(ROWS) + "2024-03-01,,,,,\n",
        (),
        "missing (NaN) values: 2024-03-01; fill them in the source, or drop those rows with "
        "--drop-missing",
    ),
    (
        "two rows with null",
        _cell("close", 21, "null", pd.read_csv(pd.io.common.StringIO(_cell("close", 20, "null")))),
        (),
        f"2 row(s) have missing (NaN) values: {DATES[20]}, {DATES[21]}",
    ),
    ("tab separated", _csv(ROWS).replace(",", "\t"), (), "(it looks '\\t'-delimited)"),
    ("pipe separated", _csv(ROWS).replace(",", "|"), (), "(it looks '|'-delimited)"),
    ("one column", "date\n" + "\n".join(DATES) + "\n", (), "has no comma-separated header"),
    (
        "no open or high",
        _csv(ROWS.drop(columns=["open", "high"])),
        (),
        "lacks column(s) open, high (found: date, low, close, volume)",
    ),
    (
        "date and close only",
        _csv(ROWS[["date", "close"]]),
        (),
        "lacks column(s) open, high, low, volume (found: date, close)",
    ),
    ("a zero price", _cell("low", 14, 0.0), (), f"(e.g. 0 on {DATES[14]}); prices must be > 0"),
    (
        "open above high",
        _cell("open", 15, 1000.0),
        (),
        f"open or close outside [low, high]: {DATES[15]}",
    ),
    ("infinite price", _cell("close", 16, "inf"), (), "some values are infinite"),
    (
        "volume 1.2k",
        _cell("volume", 17, "1.2k"),
        (),
        "column 'volume' has non-numeric values ('1.2k'",
    ),
    (
        "letter O for 0",
        _cell("close", 18, "12O.5"),
        (),
        "column 'close' has non-numeric values ('12O.5'",
    ),
    (
        "a dollar sign",
        _cell("open", 19, "$100"),
        (),
        "column 'open' has non-numeric values ('$100'",
    ),
    ("a percent", _cell("high", 2, "5%"), (), "column 'high' has non-numeric values ('5%'"),
    ("29 rows", _csv(ROWS.head(29)), (), "only 29 rows of data; at least 30 are needed"),
    ("rows of commas", "date,open,high,low,close,volume\n,,,,,\n,,,,,\n", (), "no data rows"),
    ("close all empty", _csv(ROWS.assign(close="")), (), "column 'close' is entirely empty"),
    (
        "same date, other volume",
        _csv(pd.concat([ROWS, ROWS.iloc[[6]].assign(volume=5.0)])),
        (),
        f"1 date(s) appear twice with different values: {DATES[6]}",
    ),
    (
        "1000x jump, strict",
        _scaled(25, 1000.0),
        ("--strict",),
        f"^NSEI: 1 implausible bar(s) (index: max move 25%, spike 10%): {DATES[25]} (jump)",
    ),
    (
        "reverting spike, strict",
        _scaled(30, 3.0, stop=31),
        ("--strict",),
        f"{DATES[30]} (spike)",
    ),
    ("stale flat bar, strict", _flat(33), ("--strict",), f"{DATES[33]} (stale)"),
    (
        "jump beyond a tighter limit",
        _scaled(22, 1.15),
        ("--strict", "--max-move", "0.1"),
        f"(index: max move 10%, spike 10%): {DATES[22]} (jump)",
    ),
    (
        "drops the cached dates",
        _csv(flat_rows(31, "2024-06-03")),
        (),
        "would drop 50 of the cache's 50 dates (2023-01-02 to 2023-03-14); the cache is "
        "unchanged. Pass --replace",
    ),
    (
        "negative max move",
        _csv(ROWS),
        ("--max-move", "-1"),
        "--max-move -1.0: give a fraction > 0",
    ),
]
