"""The canonical OHLCV frame: its columns, a coercion helper and its content fingerprint.

Every source (Yahoo, CSV, cache, synthetic) ends in :func:`canonical_frame`, so later
stages can rely on one shape; :func:`frame_sha256` is the data fingerprint a run records.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

OHLCV_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
_HASH_TAG = b"niftycnn-ohlcv-v1\n"


def canonical_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` restricted to the OHLCV columns as float64, index ``date`` at midnight.

    Assumes the columns exist and the index is datetime-like; does not sort or validate
    (that is :func:`niftycnn.data.validate.clean_ohlcv`'s job).
    """
    out = frame.loc[:, list(OHLCV_COLUMNS)].astype("float64")
    index = pd.DatetimeIndex(out.index)
    if index.tz is not None:
        index = index.tz_convert("Asia/Kolkata").tz_localize(None)
    # Through numpy so no ``freq`` survives: it is metadata that breaks frame equality.
    out.index = pd.DatetimeIndex(index.normalize().as_unit("ns").to_numpy(), name="date")
    out.columns = pd.Index(list(OHLCV_COLUMNS))
    return out


def frame_sha256(frame: pd.DataFrame) -> str:
    """Hex SHA-256 of a canonical frame's content, independent of file format or pandas version.

    Hashed bytes, in order: the tag ``b"niftycnn-ohlcv-v1\\n"``; the column names joined by
    commas plus ``\\n`` (UTF-8); the index as little-endian int64 nanoseconds since the
    epoch; the values as a row-major little-endian float64 array of shape (rows, 5) in
    column order ``open, high, low, close, volume``. Two frames hash equal exactly when
    they have the same dates and bit-identical values.
    """
    canon = canonical_frame(frame)
    digest = hashlib.sha256(_HASH_TAG)
    digest.update((",".join(canon.columns) + "\n").encode())
    digest.update(np.ascontiguousarray(canon.index.asi8, dtype="<i8").tobytes())
    digest.update(np.ascontiguousarray(canon.to_numpy(), dtype="<f8").tobytes())
    return digest.hexdigest()
