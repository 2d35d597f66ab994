"""Data stage: Yahoo download, CSV import, on-disk cache, validation, synthetic market.

The canonical OHLCV frame that every later stage consumes:
a DataFrame with a tz-naive, sorted, unique ``DatetimeIndex`` named ``date`` (midnight
timestamps, one per session) and float64 columns ``open, high, low, close, volume``.
"""

OHLCV_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
