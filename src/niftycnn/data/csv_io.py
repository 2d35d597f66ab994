"""Read OHLCV CSV files in the layouts people actually have.

Detected layouts: a flat yfinance export (``date,open,high,low,close[,adj close],volume``
in any case and order); the three-header-row file ``yf.download(...).to_csv()`` writes
(``Price,...`` / ``Ticker,...`` / ``Date,...``); and the NSE website export
(``Date,Open,High,Low,Close,Shares Traded,Turnover (₹ Cr)``, dates like ``01-JAN-2024``
or ``31 Dec 2024``, thousands separators, padded headers, a UTF-8 BOM).
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from niftycnn.errors import DataSourceError, DataValidationError

_HEADER_ALIASES = {
    "date": "date",
    "datetime": "date",
    "timestamp": "date",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adj close": "adj close",
    "adj_close": "adj close",
    "adjclose": "adj close",
    "volume": "volume",
    "shares traded": "volume",
    "vol": "volume",
}
_DATE_FORMATS = (
    "ISO8601",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d-%B-%Y",
    "%d %B %Y",
    "%d-%m-%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
)
_SNIFF_BYTES = 8192


def read_csv(path: str | Path) -> pd.DataFrame:
    """Parse an OHLCV CSV into a frame with a ``date`` index and OHLCV columns (not yet
    validated: pass the result to :func:`niftycnn.data.clean_ohlcv`)."""
    path = Path(path)
    text = _read_text(path)
    table = _parse_table(text, path)
    return _to_ohlcv(table, path)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise DataSourceError(f"no such file: {path}; check the path passed to --csv/import")
    if path.is_dir():
        raise DataSourceError(f"{path} is a directory, not a CSV file; pass the file inside it")
    data = path.read_bytes()
    if not data.strip():
        raise DataValidationError(f"{path} is empty; export the data again")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise DataValidationError(
            f"{path} is a binary file (Excel? Parquet?), not a CSV text file; export it as CSV"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise DataValidationError(f"{path} is not a text CSV file (not UTF-8)") from None


def _norm(name: object) -> str:
    text = re.sub(r"\s+", " ", str(name).replace("\ufeff", "")).strip().lower()
    if text.startswith("turnover"):
        return "turnover"
    return _HEADER_ALIASES.get(text, text)


def _parse_table(text: str, path: Path) -> pd.DataFrame:
    lines = text.splitlines()
    first = lines[0]
    if "," not in first:
        delim = next((d for d in (";", "\t", "|") if d in first), None)
        hint = f" (it looks {delim!r}-delimited)" if delim else ""
        raise DataValidationError(
            f"{path} has no comma-separated header{hint}; save it as a comma-separated CSV"
        )
    first_cell = first.split(",")[0].strip().lower()
    second = lines[1].split(",")[0].strip().lower() if len(lines) > 1 else ""
    if first_cell == "price" and second == "ticker":  # yf.download(...).to_csv()
        header = ["date", *first.split(",")[1:]]
        body = "\n".join(line for line in lines[2:] if line.split(",")[0].strip().lower() != "date")
        return pd.read_csv(
            io.StringIO(body), header=None, names=header, dtype=str, skipinitialspace=True
        )
    return pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True)


def _to_ohlcv(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    table = table.rename(columns=_norm)
    table = table.loc[:, ~table.columns.duplicated()]
    if "date" not in table.columns and str(table.columns[0]).startswith("unnamed"):
        table = table.rename(columns={table.columns[0]: "date"})  # DataFrame.to_csv, no index name
    if "date" not in table.columns:
        raise DataValidationError(
            f"{path} has no date column (found: {', '.join(table.columns)}); "
            "the first header should be Date"
        )
    table = table[table.notna().any(axis=1)]  # rows of empty cells only (",,,,,") are blank
    if table.empty:
        raise DataValidationError(f"{path} has a header but no data rows")
    required = ["open", "high", "low", "close", "volume"]
    if "volume" not in table.columns and {"open", "high", "low", "close"} <= set(table.columns):
        warnings.warn(
            f"{path} has no volume column (common for official index histories); volume "
            "is set to 0, so a volume feature would be all zeros",
            stacklevel=3,
        )
        table = table.assign(volume="0")
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataValidationError(
            f"{path} lacks column(s) {', '.join(missing)} (found: "
            f"{', '.join(table.columns)}); it needs date, open, high, low, "
            "close, volume"
        )
    numbers = table[[c for c in (*required, "adj close") if c in table.columns]].apply(
        lambda col: _numeric(col, path)
    )
    if "adj close" in numbers.columns:
        ratio = numbers["adj close"] / numbers["close"]
        for col in ("open", "high", "low", "close"):
            numbers[col] = numbers[col] * ratio
    numbers.index = pd.DatetimeIndex(_dates(table["date"], path), name="date")
    return numbers.loc[:, required]


def _numeric(col: pd.Series, path: Path) -> pd.Series:
    """Numbers with thousands separators allowed; a non-numeric cell is an error naming it."""
    text = col.astype("string").str.replace(r"[,\s₹]", "", regex=True)
    text = text.mask(text.isin(["", "-", "null", "NaN", "nan", "None"]))
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & text.notna()
    if bad.any():
        examples = ", ".join(repr(v) for v in col[bad].head(3))
        raise DataValidationError(
            f"{path}: column {col.name!r} has non-numeric values "
            f"({examples}, rows {list(col.index[bad][:3] + 1)}); fix or "
            "remove those rows"
        )
    return values.astype("float64")


# A UTC offset after a time of day ("... 00:00:00+05:30"); not a date's "-2025".
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$"


def _dates(col: pd.Series, path: Path) -> pd.DatetimeIndex:
    """Parse dates with the first format that reads every non-empty cell."""
    text = col.astype("string").str.strip()
    offsets = text.str.extract(_OFFSET, expand=False).fillna("none")
    if offsets.nunique() > 1:
        first = offsets.iloc[0]
        other = int(np.argmax(offsets.to_numpy() != first))
        raise DataValidationError(
            f"{path}: dates in different time zones ({text.iloc[0]!r} on row 1, "
            f"{text.iloc[other]!r} on row {other + 1}); export every date in one time zone"
        )
    with warnings.catch_warnings():  # pandas' "Could not infer format" is not for users
        warnings.simplefilter("ignore")
        for fmt in _DATE_FORMATS:
            parsed = _parse(text, format=fmt)
            if parsed is not None and parsed.notna().all():
                return _naive(pd.DatetimeIndex(parsed))
        parsed = _parse(text, utc=True)  # timezone-suffixed, e.g. "2024-01-02 00:00:00+05:30"
        if parsed is not None and parsed.notna().all():
            return _naive(pd.DatetimeIndex(parsed))
        best = _parse(text, format="ISO8601")
    bad = text[best.isna()].head(3).tolist() if best is not None else text.head(3).tolist()
    raise DataValidationError(
        f"{path}: dates that do not parse ({', '.join(map(repr, bad))}); "
        "use YYYY-MM-DD or DD-MON-YYYY"
    )


def _parse(text: pd.Series, **kwargs: object) -> pd.Series | None:
    try:
        return pd.to_datetime(text, errors="coerce", **kwargs)
    except (ValueError, TypeError, OverflowError):
        return None


def _naive(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    if index.tz is not None:
        index = index.tz_convert("Asia/Kolkata").tz_localize(None)
    return index.normalize()
