"""The Yahoo path, with ``yfinance.download`` replaced by frames shaped like its 1.x output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yfinance

from niftycnn.data import OHLCV_COLUMNS, load_yahoo, normalize_yfinance
from niftycnn.errors import DataSourceError, DataValidationError
from tests.data._helpers import yf_frame


def _assert_canonical(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(OHLCV_COLUMNS)
    assert (frame.dtypes == "float64").all()
    assert frame.index.name == "date" and frame.index.tz is None
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert (frame.index == frame.index.normalize()).all()


def test_mocked_yfinance_download_gives_canonical_frame(monkeypatch, small_frame):
    calls = []

    def fake_download(tickers, **kwargs):
        calls.append((tickers, kwargs))
        return yf_frame(small_frame)

    monkeypatch.setattr(yfinance, "download", fake_download)
    frame = load_yahoo("^NSEI", "2024-01-01", "2024-03-31")
    _assert_canonical(frame)
    pd.testing.assert_frame_equal(frame, small_frame, check_freq=False)
    ((ticker, kwargs),) = calls
    assert ticker == "^NSEI"
    assert kwargs["interval"] == "1d" and kwargs["auto_adjust"] is True
    assert kwargs["progress"] is False
    assert kwargs["start"] == "2024-01-01" and kwargs["end"] == "2024-04-01"  # end inclusive


def test_empty_download_raises_one_line_error_suggesting_alternatives(monkeypatch):
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    with pytest.raises(DataSourceError) as info:
        load_yahoo("^NSEI", retries=2, backoff=0)
    message = str(info.value)
    assert "\n" not in message
    assert "--csv PATH" in message and "--source synthetic" in message
    assert "^NSEI" in message and "3 tries" in message


def test_none_download_raises_data_source_error():
    with pytest.raises(DataSourceError, match="--source synthetic"):
        normalize_yfinance(None, "^NSEI")


def test_transient_failures_are_retried_with_exponential_backoff(small_frame):
    responses = [ConnectionError("reset"), pd.DataFrame(), yf_frame(small_frame)]
    waits: list[float] = []

    def flaky(tickers, **kwargs):
        item = responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    frame = load_yahoo("^NSEI", download=flaky, retries=3, backoff=1.5, sleep=waits.append)
    assert len(frame) == len(small_frame)
    assert waits == [1.5, 3.0]


def test_exception_on_every_try_names_the_last_error():
    def broken(tickers, **kwargs):
        raise TimeoutError("read timed out")

    with pytest.raises(DataSourceError, match="TimeoutError: read timed out"):
        load_yahoo("^NSEI", download=broken, retries=1, sleep=lambda s: None)


def test_ticker_first_levels_flat_columns_and_tz_aware_index_normalise_equally(small_frame):
    reference = normalize_yfinance(yf_frame(small_frame), "^NSEI")
    swapped = yf_frame(small_frame).swaplevel(axis=1)
    flat = yf_frame(small_frame).droplevel("Ticker", axis=1)
    flat.columns = [c.upper() for c in flat.columns]
    aware = yf_frame(small_frame)
    aware.index = aware.index.tz_localize("Asia/Kolkata")
    for raw in (swapped, flat, aware):
        pd.testing.assert_frame_equal(normalize_yfinance(raw, "^NSEI"), reference)


def test_adj_close_scales_prices_like_auto_adjust(small_frame):
    raw = yf_frame(small_frame).droplevel("Ticker", axis=1)
    raw["Adj Close"] = raw["Close"] * 0.5
    frame = normalize_yfinance(raw, "X")
    np.testing.assert_allclose(frame["close"], small_frame["close"] * 0.5)
    np.testing.assert_allclose(frame["high"], small_frame["high"] * 0.5)
    np.testing.assert_allclose(frame["volume"], small_frame["volume"])


def test_multi_ticker_download_selects_the_symbol(small_frame):
    both = pd.concat(
        [yf_frame(small_frame, "^NSEI"), yf_frame(small_frame * 2, "^NSEBANK")], axis=1
    )
    frame = normalize_yfinance(both, "^NSEBANK")
    np.testing.assert_allclose(frame["close"], small_frame["close"] * 2)
    with pytest.raises(DataValidationError, match="not 'AAPL'"):
        normalize_yfinance(both, "AAPL")


def test_missing_price_column_is_a_clear_error_not_a_key_error(small_frame):
    raw = yf_frame(small_frame).drop(columns="Low", level="Price")
    with pytest.raises(DataValidationError, match="lacks column"):
        normalize_yfinance(raw, "^NSEI")
