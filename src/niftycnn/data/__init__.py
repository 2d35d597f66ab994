"""Data stage: Yahoo download, CSV import, on-disk cache, validation, synthetic market;
universes of many symbols (:func:`load_universe`).

The canonical OHLCV frame that every later stage consumes:
a DataFrame with a tz-naive, sorted, unique ``DatetimeIndex`` named ``date`` (midnight
timestamps, one per session) and float64 columns ``open, high, low, close, volume``.
Later stages should call :func:`load_ohlcv` and record its :class:`Provenance`.
"""

from niftycnn.data.cache import (
    DEFAULT_CACHE_DIR,
    CacheMeta,
    cache_path,
    read_cache,
    refresh_cache,
    write_cache,
)
from niftycnn.data.calendar import nse_sessions
from niftycnn.data.csv_io import read_csv
from niftycnn.data.frame import OHLCV_COLUMNS, canonical_frame, frame_sha256
from niftycnn.data.load import Provenance, import_csv, load_ohlcv
from niftycnn.data.synthetic import pattern_kernel, synthetic_ohlcv
from niftycnn.data.universe import Universe, equal_weight_index, load_universe
from niftycnn.data.universes import UNIVERSES, Constituents, constituents
from niftycnn.data.validate import ValidationReport, clean_ohlcv, format_report, validate
from niftycnn.data.yahoo import load_yahoo, load_yahoo_many, normalize_yfinance

__all__ = [
    "DEFAULT_CACHE_DIR",
    "OHLCV_COLUMNS",
    "UNIVERSES",
    "CacheMeta",
    "Constituents",
    "Provenance",
    "Universe",
    "ValidationReport",
    "cache_path",
    "canonical_frame",
    "clean_ohlcv",
    "constituents",
    "equal_weight_index",
    "format_report",
    "frame_sha256",
    "import_csv",
    "load_ohlcv",
    "load_universe",
    "load_yahoo",
    "load_yahoo_many",
    "normalize_yfinance",
    "nse_sessions",
    "pattern_kernel",
    "read_cache",
    "read_csv",
    "refresh_cache",
    "synthetic_ohlcv",
    "validate",
    "write_cache",
]
