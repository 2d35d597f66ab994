"""On-disk cache: one Parquet file per symbol, written atomically, with provenance metadata.

A file ``<cache_dir>/<SYMBOL>.parquet`` (``^NSEI`` -> ``NSEI.parquet``) holds the
canonical frame; its schema metadata key ``niftycnn`` holds JSON with the source, symbol,
fetch time, row count, first/last date and :func:`frame_sha256` of the content. Writes go
through :func:`niftycnn.files.atomic_write` (temp file, fsync, ``os.replace``), so a
crash mid-write leaves the previous file intact.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from niftycnn.data.frame import PRICE_COLUMNS, canonical_frame, frame_sha256
from niftycnn.data.validate import clean_ohlcv
from niftycnn.errors import CacheError
from niftycnn.files import atomic_write

DEFAULT_CACHE_DIR = Path("data/cache")
META_KEY = b"niftycnn"
OVERLAP_SESSIONS = 5
OVERLAP_RTOL = 1e-6

Fetcher = Callable[[pd.Timestamp | None, pd.Timestamp | None], pd.DataFrame]
"""``fetch(start, end)``: canonical frame of the source's bars in [start, end] (None = open)."""


@dataclass(frozen=True)
class CacheMeta:
    """Provenance of a cached frame, stored in the Parquet schema metadata."""

    source: str
    symbol: str
    fetched_at: str
    rows: int
    first_date: str
    last_date: str
    sha256: str


def cache_path(symbol: str, cache_dir: str | Path = DEFAULT_CACHE_DIR) -> Path:
    """``<cache_dir>/<symbol>.parquet`` with ``^`` dropped and other unsafe characters as ``_``."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", symbol.replace("^", "")).strip("._")
    if not name:
        raise CacheError(f"symbol {symbol!r} gives no usable file name; use letters and digits")
    return Path(cache_dir) / f"{name}.parquet"


def write_cache(
    frame: pd.DataFrame,
    symbol: str,
    *,
    source: str,
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    fetched_at: str | None = None,
) -> CacheMeta:
    """Atomically write a canonical frame for ``symbol``; return the metadata written."""
    frame = canonical_frame(frame)
    meta = CacheMeta(
        source=source,
        symbol=symbol,
        fetched_at=fetched_at or pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        rows=len(frame),
        first_date=str(frame.index[0].date()),
        last_date=str(frame.index[-1].date()),
        sha256=frame_sha256(frame),
    )
    table = pa.Table.from_pandas(frame, preserve_index=True)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), META_KEY: json.dumps(asdict(meta)).encode()}
    )
    atomic_write(cache_path(symbol, cache_dir), lambda tmp: pq.write_table(table, tmp))
    return meta


def read_cache(
    symbol: str, cache_dir: str | Path = DEFAULT_CACHE_DIR
) -> tuple[pd.DataFrame, CacheMeta]:
    """The cached frame of ``symbol`` and its metadata; CacheError if missing or corrupt."""
    path = cache_path(symbol, cache_dir)
    if not path.exists():
        raise CacheError(
            f"no cached data for {symbol!r} at {path}; run `niftycnn data fetch "
            f"{symbol}` or `niftycnn data import FILE --symbol {symbol}`"
        )
    advice = f"delete {path} and fetch or import {symbol!r} again"
    try:
        table = pq.read_table(path)
        meta = CacheMeta(**json.loads(table.schema.metadata[META_KEY]))
        frame = canonical_frame(table.to_pandas())
    except Exception as exc:
        raise CacheError(
            f"cache file {path} is unreadable or corrupt ({type(exc).__name__}); {advice}"
        ) from exc
    if frame_sha256(frame) != meta.sha256:
        raise CacheError(f"cache file {path} does not match its recorded checksum; {advice}")
    return frame, meta


def check_replacement(
    existing: pd.DataFrame | None, new: pd.DataFrame, symbol: str, replace: bool = False
) -> None:
    """Refuse (CacheError) new data for ``symbol`` that lacks dates the cache holds, unless
    ``replace``: a short or wrong file must not silently replace a long history."""
    if existing is None or replace:
        return
    lost = existing.index.difference(new.index)
    if len(lost):
        raise CacheError(
            f"{symbol}: the new data ({len(new):,} rows, {_span(new.index)}) would drop "
            f"{len(lost):,} of the cache's {len(existing):,} dates ({_span(lost)}); the cache "
            "is unchanged. Pass --replace to overwrite it, or use another --symbol"
        )


def _span(index: pd.Index) -> str:
    first, last = pd.Timestamp(index[0]).date(), pd.Timestamp(index[-1]).date()
    return str(first) if first == last else f"{first} to {last}"


def existing_cache(
    symbol: str, cache_dir: str | Path = DEFAULT_CACHE_DIR, replace: bool = False
) -> pd.DataFrame | None:
    """The cached frame of ``symbol`` (None when there is none, or ``replace`` is set and
    it is unreadable); an unreadable cache is a CacheError unless ``replace``."""
    if not cache_path(symbol, cache_dir).exists():
        return None
    try:
        return read_cache(symbol, cache_dir)[0]
    except CacheError as exc:
        if replace:
            return None
        raise CacheError(f"{exc}; or pass --replace to overwrite it") from None


def refresh_cache(
    symbol: str,
    fetch: Fetcher,
    *,
    source: str = "yahoo",
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    start: pd.Timestamp | None = None,
    overlap: int = OVERLAP_SESSIONS,
    rtol: float = OVERLAP_RTOL,
    replace: bool = False,
    vet: Callable[[pd.DataFrame], None] | None = None,
) -> tuple[pd.DataFrame, CacheMeta]:
    """Bring the cache of ``symbol`` up to date and return it.

    With a cache, only the missing tail is fetched, starting ``overlap`` sessions before its
    last date; if those overlapping bars disagree with the cache (beyond ``rtol``; e.g. the
    source revised or re-adjusted its history) we warn and refetch everything. Without a
    cache (or when ``start`` lies before it) the full history from ``start`` is fetched.
    New data that would drop dates the cache holds is refused unless ``replace``
    (:func:`check_replacement`); ``vet(frame)`` may refuse the new frame too (it raises),
    in both cases before anything is written.
    """
    path = cache_path(symbol, cache_dir)
    if not path.exists():
        return _store(fetch(start, None), symbol, source, cache_dir, vet=vet)
    cached, meta = read_cache(symbol, cache_dir)
    if start is not None and pd.Timestamp(start) < cached.index[0]:
        return _store(fetch(start, None), symbol, source, cache_dir, cached, replace, vet)
    tail_start = cached.index[max(len(cached) - overlap, 0)]
    tail = canonical_frame(fetch(tail_start, None))
    if not _overlap_agrees(cached, tail, rtol):
        warnings.warn(
            f"{symbol}: the source's bars since {tail_start.date()} differ from the "
            f"cache (revised history?); refetching the full history",
            stacklevel=2,
        )
        full = fetch(start if start is not None else cached.index[0], None)
        return _store(full, symbol, source, cache_dir, cached, replace, vet)
    merged = pd.concat([cached[cached.index < tail.index[0]], tail]) if len(tail) else cached
    if merged.equals(cached):
        if vet is not None:
            vet(cached)
        return cached, meta
    # An imported CSV extended from Yahoo keeps both origins in its label.
    label = meta.source if meta.source.endswith(source) else f"{meta.source}+{source}"
    return _store(merged, symbol, label, cache_dir, cached, replace, vet)


def _overlap_agrees(cached: pd.DataFrame, tail: pd.DataFrame, rtol: float) -> bool:
    """Prices on shared dates agree, ignoring the cache's last bar (it may have been a
    partial intraday bar) and volume (Yahoo revises it routinely)."""
    shared = cached.index[:-1].intersection(tail.index)
    if len(shared) == 0:
        return len(tail) == 0 or tail.index[0] <= cached.index[-1]
    a = cached.loc[shared, list(PRICE_COLUMNS)].to_numpy()
    b = tail.loc[shared, list(PRICE_COLUMNS)].to_numpy()
    return bool(np.allclose(a, b, rtol=rtol, atol=0.0))


def _store(
    frame: pd.DataFrame,
    symbol: str,
    source: str,
    cache_dir: str | Path,
    existing: pd.DataFrame | None = None,
    replace: bool = False,
    vet: Callable[[pd.DataFrame], None] | None = None,
) -> tuple[pd.DataFrame, CacheMeta]:
    clean = clean_ohlcv(frame)
    check_replacement(existing, clean, symbol, replace)
    if vet is not None:
        vet(clean)
    return clean, write_cache(clean, symbol, source=source, cache_dir=cache_dir)
