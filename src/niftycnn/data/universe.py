"""Universes: many symbols in one study (``[data]`` of a universe; see
:class:`niftycnn.config.DataConfig`).

:func:`load_universe` gives each symbol's canonical frame, each one validated like a
single series, and the provenance of the whole. A symbol that cannot be had (a Yahoo
ticker that fails, an unreadable or invalid CSV, no cache, no bar in [start, end]) is
reported in one warning and skipped; only a universe with no symbol left is an error.
Implausible bars are summarised in one warning over all symbols (an error under
``[data.checks] strict``); ``niftycnn data check FOLDER`` lists them per file.

Yahoo: one ``yf.download`` call for every symbol (``load_yahoo_many``), each symbol kept
in its own cache file and refreshed incrementally: only the tail after its cache is
used, and a symbol whose tail disagrees with its cache is fetched again alone.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from niftycnn.config import DataConfig
from niftycnn.data.cache import OVERLAP_SESSIONS, cache_path, read_cache, refresh_cache
from niftycnn.data.csv_io import read_csv
from niftycnn.data.load import Provenance, provenance_of
from niftycnn.data.plausibility import drop_stale, implausible_bars, limits_for
from niftycnn.data.synthetic_universe import synthetic_universe
from niftycnn.data.universes import constituents
from niftycnn.data.validate import clean_ohlcv
from niftycnn.data.yahoo import load_yahoo, load_yahoo_many
from niftycnn.errors import DataSourceError, DataValidationError, NiftyCNNError

_SHOW = 5


@dataclass(frozen=True)
class Universe:
    """The symbols' frames (sorted by symbol), their provenance, the symbols skipped
    (with why), the universe's own provenance (its ``sha256`` fingerprints every member)
    and notes for the report (survivorship bias, a synthetic universe's oracle)."""

    frames: dict[str, pd.DataFrame]
    members: dict[str, Provenance]
    skipped: dict[str, str]
    provenance: Provenance
    notes: tuple[str, ...] = ()
    details: dict[str, float] = field(default_factory=dict)

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self.frames)

    def closes(self) -> pd.DataFrame:
        """date x symbol closes on the union of the symbols' dates (NaN where one has
        no bar)."""
        return pd.DataFrame({s: f["close"] for s, f in self.frames.items()}).sort_index()


def load_universe(cfg: DataConfig, seed: int = 0, replace: bool = False) -> Universe:
    """The universe of a ``[data]`` table (module docstring)."""
    notes: list[str] = []
    details: dict[str, float] = {}
    if cfg.source == "synthetic":
        made = synthetic_universe(cfg.synthetic, seed)
        raw, skipped = dict(made.frames), dict[str, str]()
        details = {"oracle_sharpe": made.oracle_sharpe, "drift_scale": made.scale}
        notes.append(
            f"synthetic universe: planted {cfg.synthetic.pattern} over {cfg.synthetic.lookback}"
            f" days, oracle long-short Sharpe {made.oracle_sharpe:.2f} (asked "
            f"{cfg.synthetic.universe.oracle_sharpe:g})"
        )
        source = "synthetic-universe"
    elif cfg.source == "csv":
        raw, skipped = _csv_folder(Path(str(cfg.path)), cfg)
        source = f"csv:{Path(str(cfg.path)).name}/"
    else:
        symbols = _symbols(cfg)
        fetch = _yahoo if cfg.source == "yahoo" else _cached
        raw, skipped = fetch(symbols, cfg, replace)
        source = cfg.source
    if cfg.universe is not None:
        notes.append(constituents(cfg.universe).note)
    frames, members = _finish(raw, skipped, cfg, source)
    if skipped:
        shown = "; ".join(f"{s} ({why})" for s, why in list(skipped.items())[:_SHOW])
        more = f" (+{len(skipped) - _SHOW} more)" if len(skipped) > _SHOW else ""
        warnings.warn(
            f"skipped {len(skipped)} of {len(skipped) + len(frames)} symbols: {shown}{more}",
            stacklevel=2,
        )
    return Universe(
        frames=frames,
        members=members,
        skipped=skipped,
        provenance=_universe_provenance(source, cfg, members),
        notes=tuple(notes),
        details=details,
    )


def _symbols(cfg: DataConfig) -> tuple[str, ...]:
    if cfg.symbols:
        return tuple(cfg.symbols)
    if cfg.universe is not None:
        return constituents(cfg.universe).yahoo_symbols
    raise DataSourceError("a universe needs [data] symbols = [...] or universe = 'nifty50'")


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0].split(";")[0]


def _csv_folder(folder: Path, cfg: DataConfig) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """One frame per CSV file of ``folder`` (the stem is the symbol); ``symbols``, if
    given, picks files (``RELIANCE.NS`` picks RELIANCE.csv or RELIANCE.NS.csv)."""
    if not folder.is_dir():
        raise DataSourceError(f"no such folder: {folder}; pass a folder of one CSV per symbol")
    files = {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() == ".csv"}
    if not files:
        raise DataSourceError(f"{folder} holds no .csv file; put one CSV per symbol in it")
    skipped: dict[str, str] = {}
    if cfg.symbols:
        wanted = {}
        for s in cfg.symbols:
            stem = next((k for k in (s, s.removesuffix(".NS")) if k in files), None)
            if stem is None:
                skipped[s] = f"no {s}.csv in {folder}"
            else:
                wanted[stem] = files[stem]
        files = wanted
    frames = {}
    for symbol, path in files.items():
        try:
            frames[symbol] = clean_ohlcv(read_csv(path), drop_missing=cfg.checks.drop_missing)
        except (DataSourceError, DataValidationError) as exc:
            skipped[symbol] = _reason(exc)
    return frames, skipped


def _cached(
    symbols: tuple[str, ...], cfg: DataConfig, replace: bool
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    frames, skipped = {}, {}
    for s in symbols:
        try:
            frames[s] = read_cache(s, cfg.cache_dir)[0]
        except NiftyCNNError as exc:
            skipped[s] = _reason(exc)
    return frames, skipped


def _yahoo(
    symbols: tuple[str, ...], cfg: DataConfig, replace: bool
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Every symbol from one download, through its own cache (module docstring)."""
    start = None if cfg.start is None else pd.Timestamp(cfg.start)
    since = [_needed_from(s, cfg.cache_dir, start) for s in symbols]
    known = [d for d in since if d is not None]
    batch_start = min(known) if len(known) == len(since) else None
    batch, failed = load_yahoo_many(symbols, batch_start)
    frames, skipped = {}, {}
    for s in symbols:
        fetch = _batch_fetch(s, batch.get(s), batch_start)
        try:
            if s in failed:
                raise DataSourceError(f"Yahoo: {failed[s]}")
            frames[s] = refresh_cache(
                s, fetch, cache_dir=cfg.cache_dir, start=start, replace=replace
            )[0]
        except NiftyCNNError as exc:
            if cache_path(s, cfg.cache_dir).exists():
                frames[s] = read_cache(s, cfg.cache_dir)[0]
                warnings.warn(
                    f"could not refresh {s} ({_reason(exc)}); using its cache", stacklevel=3
                )
            else:
                skipped[s] = _reason(exc)
    if not frames:
        raise DataSourceError(
            f"Yahoo gave none of the {len(symbols)} symbols ({next(iter(skipped.values()))}) "
            "and none is cached; use --source csv FOLDER or [data.synthetic] n_symbols"
        )
    return frames, skipped


def _needed_from(symbol: str, cache_dir: str, start: pd.Timestamp | None) -> pd.Timestamp | None:
    """The first date the download must cover for ``symbol``: its cache's tail (a few
    overlapping sessions), or ``start`` (None: all history) without a usable cache."""
    if not cache_path(symbol, cache_dir).exists():
        return start
    try:
        cached = read_cache(symbol, cache_dir)[0]
    except NiftyCNNError:
        return start
    if start is not None and start < cached.index[0]:
        return start
    return pd.Timestamp(cached.index[max(len(cached) - OVERLAP_SESSIONS, 0)])


def _batch_fetch(
    symbol: str, frame: pd.DataFrame | None, batch_start: pd.Timestamp | None
) -> Callable[[pd.Timestamp | None, pd.Timestamp | None], pd.DataFrame]:
    """The cache's fetcher for ``symbol``: the batch's bars when they cover the request,
    else a download of the symbol alone (a refetch of revised history)."""

    def fetch(start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        covered = batch_start is None or (start is not None and start >= batch_start)
        if frame is not None and covered:
            part = frame if start is None else frame[frame.index >= start]
            return part if end is None else part[part.index <= end]
        return load_yahoo(symbol, start, end)

    return fetch


def _finish(
    raw: dict[str, pd.DataFrame], skipped: dict[str, str], cfg: DataConfig, source: str
) -> tuple[dict[str, pd.DataFrame], dict[str, Provenance]]:
    """Cut to [start, end], drop stale bars if asked, check bars; symbols sorted."""
    frames: dict[str, pd.DataFrame] = {}
    dropped: list[str] = []
    for s in sorted(raw):
        f = raw[s]
        lo = f.index[0] if cfg.start is None else pd.Timestamp(cfg.start)
        hi = f.index[-1] if cfg.end is None else pd.Timestamp(cfg.end)
        f = f.loc[(f.index >= lo) & (f.index <= hi)]
        if cfg.checks.drop_stale and len(f):
            f, message = drop_stale(f, s)
            dropped += [message] if message else []
        if f.empty:
            skipped[s] = f"no bar between {lo.date()} and {hi.date()}"
            continue
        frames[s] = f
    if not frames:
        raise DataSourceError(
            f"no symbol of the universe has data ({'; '.join(list(skipped.values())[:3])}); "
            "check [data] start / end and the source"
        )
    if dropped:
        warnings.warn(f"{len(dropped)} symbol(s): {'; '.join(dropped[:_SHOW])}", stacklevel=3)
    _vet(frames, cfg, source)
    members = {s: provenance_of(f, source, s) for s, f in frames.items()}
    return frames, members


def _vet(frames: dict[str, pd.DataFrame], cfg: DataConfig, source: str) -> None:
    """One warning for the implausible bars of all symbols (an error under strict)."""
    if source == "synthetic-universe":
        return
    found = {}
    for s, f in frames.items():
        table = implausible_bars(f, limits_for(s, cfg.checks))
        if len(table):
            found[s] = table
    if not found:
        return
    n = sum(len(t) for t in found.values())
    shown = ", ".join(
        f"{s} {t['date'].iloc[0].date()} ({t['rule'].iloc[0]})" for s, t in list(found.items())[:3]
    )
    text = f"{n} implausible bar(s) in {len(found)} of {len(frames)} symbols (e.g. {shown})"
    if cfg.checks.strict:
        raise DataValidationError(
            f"{text}; fix or drop them in the source, or turn strict off to only warn"
        )
    warnings.warn(f"{text}; `niftycnn data check` lists them", stacklevel=3)


def _universe_provenance(
    source: str, cfg: DataConfig, members: dict[str, Provenance]
) -> Provenance:
    digest = hashlib.sha256(b"niftycnn-universe-v1\n")
    for s, p in members.items():
        digest.update(f"{s}:{p.sha256}\n".encode())
    fetched = [p.fetched_at for p in members.values() if p.fetched_at]
    label = f"UNIVERSE({len(members)} symbols)"
    if cfg.source == "synthetic":
        syn = cfg.synthetic
        label = (
            f"SYNTHETIC_UNIVERSE(n_symbols={syn.n_symbols}, n_days={syn.n_days}, "
            f"pattern={syn.pattern!r}, oracle_sharpe={syn.universe.oracle_sharpe})"
        )
    return Provenance(
        source=source,
        symbol=label,
        rows=int(sum(p.rows for p in members.values())),
        first_date=min(p.first_date for p in members.values()),
        last_date=max(p.last_date for p in members.values()),
        sha256=digest.hexdigest(),
        fetched_at=max(fetched) if fetched else None,
    )


def equal_weight_index(frames: dict[str, pd.DataFrame]) -> pd.Series:
    """The universe's equal-weight index: each day the mean log return of the symbols
    with a bar that day and on the universe's previous day, cumulated (a level starting
    at 1). It reads only bars dated on or before each day."""
    closes = pd.DataFrame({s: f["close"] for s, f in frames.items()}).sort_index()
    log_ret = np.log(closes).diff()
    mean = log_ret.mean(axis=1, skipna=True).fillna(0.0)
    return pd.Series(np.exp(mean.cumsum().to_numpy()), index=closes.index, name="market")
