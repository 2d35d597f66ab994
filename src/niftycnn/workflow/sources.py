"""Where a plan's data come from: the ``[data]`` series or universe and the ``market``
feature's series, each failure re-raised as one line naming the file and the key."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from niftycnn.config import Experiment
from niftycnn.data import Provenance, Universe, equal_weight_index, load_ohlcv, load_universe
from niftycnn.errors import NiftyCNNError


def load_series(experiment: Experiment, origin: str) -> tuple[pd.DataFrame, Provenance]:
    """The ``[data]`` series and its provenance; an error names the file and the source."""
    cfg = experiment.data
    try:
        return load_ohlcv(
            cfg.source,
            symbol=cfg.symbol,
            path=cfg.path,
            start=cfg.start,
            end=cfg.end,
            cache_dir=cfg.cache_dir,
            synthetic={**cfg.synthetic.model_dump(), "seed": experiment.seed},
            checks=cfg.checks,
        )
    except NiftyCNNError as exc:
        raise type(exc)(f"{origin}: [data] source = {cfg.source!r}: {exc}") from None


def load_universe_for(experiment: Experiment, origin: str) -> Universe:
    """The ``[data]`` universe; an error names the file and the source."""
    cfg = experiment.data
    try:
        return load_universe(cfg, seed=experiment.seed)
    except NiftyCNNError as exc:
        raise type(exc)(f"{origin}: [data] source = {cfg.source!r}: {exc}") from None


def market_series(
    experiment: Experiment, universe: Universe | None, origin: str
) -> pd.Series | None:
    """The series of the ``market`` feature (``[data] market``), or None without one."""
    cfg = experiment.data
    if cfg.market is None or "market" not in experiment.windows.features:
        if cfg.market is not None:
            warnings.warn(
                f"[data] market = {cfg.market!r} has no effect: add 'market' to [windows] features",
                stacklevel=3,
            )
        return None
    if cfg.market == "equal_weight":
        assert universe is not None  # the config allows equal_weight for universes only
        return equal_weight_index(universe.frames)
    source = (
        "csv" if Path(cfg.market).is_file() else ("yahoo" if cfg.source == "yahoo" else "cache")
    )
    try:
        frame, _ = load_ohlcv(
            source,  # type: ignore[arg-type]
            symbol=Path(cfg.market).stem if source == "csv" else cfg.market,
            path=cfg.market if source == "csv" else None,
            cache_dir=cfg.cache_dir,
            checks=cfg.checks,
        )
    except NiftyCNNError as exc:
        raise type(exc)(f"{origin}: [data] market = {cfg.market!r}: {exc}") from None
    return frame["close"]
