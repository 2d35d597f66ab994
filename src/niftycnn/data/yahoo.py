"""Daily bars from Yahoo Finance via ``yfinance``, normalised to the canonical frame.

``yfinance.download`` (1.x) returns (Price, Ticker) MultiIndex columns, may return an
empty frame instead of raising when Yahoo is unreachable, and rate-limits; the loader
retries with exponential backoff and fails with one clear line, never a KeyError.
:func:`load_yahoo_many` fetches a universe in one call and reports the symbols it could
not get instead of failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from niftycnn.data.frame import OHLCV_COLUMNS, canonical_frame
from niftycnn.errors import DataSourceError, DataValidationError

_ALIASES = {"adj close": "adj close", "adj_close": "adj close", "adjclose": "adj close"}
_FALLBACK = "use --csv PATH (a downloaded file) or --source synthetic instead"


def _is_price_name(name: object) -> bool:
    return str(name).strip().lower() in {*OHLCV_COLUMNS, "adj close", "adj_close", "adjclose"}


def _select_ticker(raw: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """Flat columns from (Price, Ticker) or (Ticker, Price) MultiIndex columns."""
    levels = [raw.columns.get_level_values(i) for i in range(raw.columns.nlevels)]
    price_level = next((i for i, lv in enumerate(levels) if any(map(_is_price_name, lv))), None)
    if price_level is None or raw.columns.nlevels != 2:
        raise DataValidationError(
            f"unrecognised yfinance column layout {list(raw.columns)[:6]}; expected (Price, Ticker)"
        )
    tickers = pd.unique(levels[1 - price_level])
    ticker = symbol if symbol in tickers else (tickers[0] if len(tickers) == 1 else None)
    if ticker is None:
        raise DataValidationError(f"download holds tickers {list(tickers)}, not {symbol!r}")
    return raw.xs(ticker, axis=1, level=1 - price_level)


def normalize_yfinance(raw: pd.DataFrame | None, symbol: str) -> pd.DataFrame:
    """Canonical frame from what ``yfinance.download`` returned (any of its column layouts).

    With an ``Adj Close`` column (``auto_adjust=False``) the OHLC prices are scaled by
    Adj Close / Close, as ``auto_adjust=True`` would do, so both paths give the same bars.
    """
    if raw is None or raw.empty:
        raise DataSourceError(
            f"Yahoo returned no data for {symbol!r} (offline, rate-limited or "
            f"unknown symbol); {_FALLBACK}"
        )
    flat = _select_ticker(raw, symbol) if isinstance(raw.columns, pd.MultiIndex) else raw
    flat = flat.rename(
        columns=lambda c: _ALIASES.get(str(c).strip().lower(), str(c).strip().lower())
    )
    flat = flat.loc[:, ~flat.columns.duplicated()]
    missing = [c for c in OHLCV_COLUMNS if c not in flat.columns]
    if missing:
        raise DataValidationError(
            f"Yahoo data for {symbol!r} lacks column(s) {missing} "
            f"(got {list(flat.columns)}); {_FALLBACK}"
        )
    flat = flat.apply(pd.to_numeric, errors="coerce")
    if "adj close" in flat.columns:
        ratio = flat["adj close"] / flat["close"]
        flat = flat.assign(**{c: flat[c] * ratio for c in ("open", "high", "low", "close")})
    flat = flat.dropna(subset=["open", "high", "low", "close"], how="all")
    if flat.empty:
        raise DataSourceError(f"Yahoo returned only empty rows for {symbol!r}; {_FALLBACK}")
    flat = flat.assign(volume=flat["volume"].fillna(0.0))
    return canonical_frame(flat.sort_index())


Downloader = Callable[..., pd.DataFrame | None]


def _download_kwargs(
    start: str | pd.Timestamp | None, end: str | pd.Timestamp | None
) -> dict[str, Any]:
    kwargs: dict[str, Any] = dict(
        start=None if start is None else pd.Timestamp(start).strftime("%Y-%m-%d"),
        # yfinance's end is exclusive; ours is inclusive.
        end=None
        if end is None
        else (pd.Timestamp(end) + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
        interval="1d",
        auto_adjust=True,
        progress=False,
        actions=False,
        threads=False,
    )
    if start is None and end is None:
        kwargs["period"] = "max"
    return kwargs


def load_yahoo(
    symbol: str,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    download: Downloader | None = None,
    sleep: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    """Daily bars of ``symbol`` from ``start`` to ``end`` (both inclusive) as a canonical frame.

    Transient failures (an exception or an empty frame) are retried ``retries`` times,
    waiting ``backoff * 2**attempt`` seconds between tries (``sleep`` is injectable for tests).
    """
    sleep = time.sleep if sleep is None else sleep  # looked up late so tests can patch it
    if download is None:
        import yfinance

        download = yfinance.download
    kwargs = _download_kwargs(start, end)
    last_error = "no data"
    for attempt in range(retries + 1):
        if attempt and backoff > 0:
            sleep(backoff * 2 ** (attempt - 1))
        try:
            raw = download(symbol, **kwargs)
        except Exception as exc:  # yfinance raises many types on network trouble
            last_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            continue
        if raw is not None and not raw.empty:
            return normalize_yfinance(raw, symbol)
        last_error = "empty response"
    raise DataSourceError(
        f"could not download {symbol!r} from Yahoo after {retries + 1} "
        f"tries ({last_error}); {_FALLBACK}"
    )


def load_yahoo_many(
    symbols: Sequence[str],
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    download: Downloader | None = None,
    sleep: Callable[[float], None] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Daily bars of many symbols from one ``yf.download`` call: (frames, failures).

    yfinance returns one frame with (Price, Ticker) columns; a ticker it could not fetch
    has all-NaN columns (or none), and when nothing could be fetched the frame is empty.
    Each symbol's columns are normalised on their own (:func:`normalize_yfinance`); the
    symbols that failed are retried together, ``retries`` times with exponential backoff,
    and those that still fail are returned in ``failures`` with the reason, not raised.
    """
    sleep = time.sleep if sleep is None else sleep
    if download is None:
        import yfinance

        download = yfinance.download
    kwargs = _download_kwargs(start, end)
    frames: dict[str, pd.DataFrame] = {}
    failures = {s: "no data" for s in symbols}
    for attempt in range(retries + 1):
        todo = [s for s in symbols if s in failures]
        if not todo:
            break
        if attempt and backoff > 0:
            sleep(backoff * 2 ** (attempt - 1))
        try:
            raw = download(todo if len(todo) > 1 else todo[0], **kwargs)
        except Exception as exc:  # yfinance raises many types on network trouble
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            failures |= dict.fromkeys(todo, reason)
            continue
        for symbol in todo:
            try:
                frames[symbol] = normalize_yfinance(_columns_of(raw, symbol), symbol)
                del failures[symbol]
            except (DataSourceError, DataValidationError) as exc:
                failures[symbol] = str(exc).split(";")[0]
    return frames, failures


def _columns_of(raw: pd.DataFrame | None, symbol: str) -> pd.DataFrame | None:
    """One ticker's columns of a multi-ticker download (None when it has none); yfinance
    upper-cases the tickers it was given."""
    if raw is None or raw.empty or not isinstance(raw.columns, pd.MultiIndex):
        return raw
    for level in range(raw.columns.nlevels):
        names = {str(t): t for t in raw.columns.get_level_values(level)}
        for name in (symbol, symbol.upper()):
            if name in names:
                return raw.xs(names[name], axis=1, level=level, drop_level=False)
    return None
