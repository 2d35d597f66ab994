"""One entry point for later stages: ``load_ohlcv(source, ...) -> (frame, Provenance)``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from niftycnn.config import DataChecksConfig
from niftycnn.data.cache import (
    DEFAULT_CACHE_DIR,
    CacheMeta,
    cache_path,
    check_replacement,
    existing_cache,
    read_cache,
    refresh_cache,
    write_cache,
)
from niftycnn.data.csv_io import read_csv
from niftycnn.data.frame import frame_sha256
from niftycnn.data.plausibility import Limits, drop_stale, enforce, implausible_bars, limits_for
from niftycnn.data.synthetic import simulate_market, synthetic_config
from niftycnn.data.validate import clean_ohlcv
from niftycnn.data.yahoo import load_yahoo
from niftycnn.errors import DataSourceError

Source = Literal["yahoo", "csv", "synthetic", "cache"]
SOURCES: tuple[str, ...] = ("yahoo", "csv", "synthetic", "cache")


@dataclass(frozen=True)
class Provenance:
    """Where a frame came from; the run directory stores it (``sha256`` is the fingerprint
    of exactly the returned frame, see :func:`niftycnn.data.frame_sha256`)."""

    source: str
    symbol: str
    rows: int
    first_date: str
    last_date: str
    sha256: str
    fetched_at: str | None = None
    # a synthetic market's ground truth (``SyntheticMarket.ground_truth``: the planted
    # pattern, channel, kernel, solved scale and realised oracle Sharpe); None otherwise
    synthetic: dict[str, Any] | None = None


def provenance_of(
    frame: pd.DataFrame,
    source: str,
    symbol: str,
    fetched_at: str | None = None,
    synthetic: dict[str, Any] | None = None,
) -> Provenance:
    """Provenance record of a canonical frame."""
    return Provenance(
        source=source,
        symbol=symbol,
        rows=len(frame),
        first_date=str(frame.index[0].date()),
        last_date=str(frame.index[-1].date()),
        sha256=frame_sha256(frame),
        fetched_at=fetched_at,
        synthetic=synthetic,
    )


def load_ohlcv(
    source: Source,
    *,
    symbol: str = "^NSEI",
    path: str | Path | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    synthetic: dict[str, Any] | None = None,
    checks: DataChecksConfig | None = None,
    check_bars: bool = True,
    replace: bool = False,
) -> tuple[pd.DataFrame, Provenance]:
    """Validated canonical frame from ``source``, cut to [start, end], and its provenance.

    ``yahoo`` refreshes the cache (fetching only the missing tail; new data that would
    drop cached dates is refused unless ``replace``) and reads from it; ``cache`` reads
    the cache without network; ``csv`` reads ``path``; ``synthetic`` calls
    :func:`synthetic_ohlcv` with the ``synthetic`` keyword arguments. ``fetched_at`` is
    when the bars were captured (the download, or a CSV file's modification time).

    ``checks`` (``[data.checks]``): rows with missing prices are an error unless
    ``drop_missing``; ``drop_stale`` drops flat zero-volume bars; with ``check_bars``
    implausible bars are a warning, or an error under ``strict`` (for Yahoo, before the
    cache is written).
    """
    checks = checks or DataChecksConfig()
    fetched_at: str | None = None
    truth: dict[str, Any] | None = None
    if source == "yahoo":
        now = pd.Timestamp.now(tz="UTC")
        vet = partial(_vet, symbol=symbol, checks=checks, captured_at=now) if check_bars else None
        frame, meta = _yahoo_via_cache(symbol, start, cache_dir, replace, vet)
        label, fetched_at = meta.source, meta.fetched_at
    elif source == "cache":
        frame, meta = read_cache(symbol, cache_dir)
        label, fetched_at = meta.source, meta.fetched_at
    elif source == "csv":
        if path is None:
            raise DataSourceError("source 'csv' needs a path; pass path=... (or --csv PATH)")
        frame, label = _read_csv(path, checks.drop_missing), f"csv:{Path(path).name}"
        fetched_at = _modified_at(path)
    elif source == "synthetic":
        params = dict(synthetic or {})
        seed = params.pop("seed", 0)
        market = simulate_market(synthetic_config(**params), seed)
        frame, label, truth = market.frame, "synthetic", market.ground_truth()
        symbol = _synthetic_label(synthetic or {})
    else:
        raise DataSourceError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    frame = _cut(frame, start, end)
    if checks.drop_stale:
        frame, dropped = drop_stale(frame, symbol)
        if dropped:
            warnings.warn(dropped, stacklevel=2)
    if check_bars and source != "yahoo":
        _vet(
            frame,
            symbol,
            checks,
            fetched_at,
            where="synthetic data" if label == "synthetic" else "",
        )
    return frame, provenance_of(frame, label, symbol, fetched_at, truth)


def bar_check(
    frame: pd.DataFrame,
    symbol: str,
    checks: DataChecksConfig | None = None,
    captured_at: str | pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, Limits]:
    """The implausible bars of ``frame`` (``niftycnn.data.plausibility``) and the limits
    used for ``symbol``'s asset kind."""
    limits = limits_for(symbol, checks)
    at = None if captured_at is None else pd.Timestamp(captured_at)
    return implausible_bars(frame, limits, at), limits


def _vet(
    frame: pd.DataFrame,
    symbol: str,
    checks: DataChecksConfig,
    captured_at: str | pd.Timestamp | None,
    where: str = "",
) -> None:
    """Warn about implausible bars, or raise under ``strict``."""
    table, limits = bar_check(frame, symbol, checks, captured_at)
    message = enforce(table, limits, checks.strict, where=where or symbol)
    if message:
        warnings.warn(message, stacklevel=3)


def _read_csv(path: str | Path, drop_missing: bool) -> pd.DataFrame:
    return clean_ohlcv(read_csv(path), drop_missing=drop_missing)


def _modified_at(path: str | Path) -> str:
    stamp = pd.Timestamp(Path(path).stat().st_mtime, unit="s", tz="UTC")
    return stamp.isoformat(timespec="seconds")


def _yahoo_via_cache(
    symbol: str,
    start: str | pd.Timestamp | None,
    cache_dir: str | Path,
    replace: bool,
    vet: Callable[[pd.DataFrame], None] | None,
) -> tuple[pd.DataFrame, CacheMeta]:
    """Refresh the cache from Yahoo; if Yahoo is unreachable but a cache exists, warn and
    use the cache, so an offline machine can still rerun an experiment."""
    try:
        return refresh_cache(
            symbol,
            lambda s, e: load_yahoo(symbol, s, e),
            cache_dir=cache_dir,
            start=None if start is None else pd.Timestamp(start),
            replace=replace,
            vet=vet,
        )
    except DataSourceError as exc:
        if not cache_path(symbol, cache_dir).exists():
            raise
        frame, meta = read_cache(symbol, cache_dir)
        warnings.warn(
            f"could not refresh {symbol} from Yahoo ({exc}); using the cache, which ends "
            f"{meta.last_date}",
            stacklevel=3,
        )
        if vet is not None:
            vet(frame)
        return frame, meta


def _synthetic_label(params: dict[str, Any]) -> str:
    """``SYNTHETIC(...)`` with the parameters that matter most always shown, defaults included."""
    seed = params.get("seed", 0)
    resolved = synthetic_config(**{k: v for k, v in params.items() if k != "seed"})
    values = {"seed": seed, **resolved.model_dump()}
    key = ("n_days", "seed", "pattern", "oracle_sharpe", "lookback", "channel")
    shown = {k: values[k] for k in key}
    shown |= {k: v for k, v in params.items() if k not in key}
    return "SYNTHETIC(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


def _cut(
    frame: pd.DataFrame, start: str | pd.Timestamp | None, end: str | pd.Timestamp | None
) -> pd.DataFrame:
    lo = frame.index[0] if start is None else pd.Timestamp(start)
    hi = frame.index[-1] if end is None else pd.Timestamp(end)
    out = frame.loc[(frame.index >= lo) & (frame.index <= hi)]
    if out.empty:
        raise DataSourceError(
            f"no data between {lo.date()} and {hi.date()} (the data covers "
            f"{frame.index[0].date()} to {frame.index[-1].date()}); widen the range"
        )
    return out


def import_csv(
    path: str | Path,
    symbol: str,
    *,
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    checks: DataChecksConfig | None = None,
    replace: bool = False,
) -> tuple[pd.DataFrame, Provenance]:
    """Validate a CSV file and store it as the cache of ``symbol`` (source ``csv:<name>``).

    Any parsing or validation error is raised before the cache is touched, and so are
    implausible bars under ``checks.strict`` (else they are a warning) and a file that
    lacks dates the cache of ``symbol`` holds, unless ``replace``.
    """
    checks = checks or DataChecksConfig()
    frame = _read_csv(path, checks.drop_missing)
    _vet(frame, symbol, checks, _modified_at(path))
    check_replacement(existing_cache(symbol, cache_dir, replace), frame, symbol, replace)
    meta = write_cache(frame, symbol, source=f"csv:{Path(path).name}", cache_dir=cache_dir)
    return frame, provenance_of(frame, meta.source, symbol, meta.fetched_at)
