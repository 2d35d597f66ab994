"""``load_ohlcv``: one entry point, a frame plus its provenance, for every source."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import yfinance

from niftycnn.data import Provenance, frame_sha256, load_ohlcv, synthetic_ohlcv, write_cache
from niftycnn.errors import DataSourceError
from tests.data._helpers import yf_frame


def test_synthetic_source_records_its_parameters():
    frame, prov = load_ohlcv(
        "synthetic", synthetic={"n_days": 300, "seed": 3, "start": "2008-01-01"}, end="2008-06-30"
    )
    assert frame.index[-1] <= pd.Timestamp("2008-06-30")
    assert prov.source == "synthetic" and "seed=3" in prov.symbol
    assert prov.rows == len(frame) and prov.sha256 == frame_sha256(frame)
    assert prov.fetched_at is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        prov.rows = 0  # type: ignore[misc]


def test_yahoo_source_fills_the_cache_then_cache_source_reads_it(tmp_path, monkeypatch):
    history = synthetic_ohlcv(80, seed=4, start="2024-01-01")
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: yf_frame(history))
    frame, prov = load_ohlcv("yahoo", cache_dir=tmp_path)
    pd.testing.assert_frame_equal(frame, history)
    assert isinstance(prov, Provenance) and prov.source == "yahoo" and prov.fetched_at
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    cached, cached_prov = load_ohlcv("cache", cache_dir=tmp_path, start="2024-02-01")
    assert cached.index[0] >= pd.Timestamp("2024-02-01")
    assert cached_prov.sha256 == frame_sha256(cached) != prov.sha256


def test_csv_source_and_errors(tmp_path):
    history = synthetic_ohlcv(50, seed=5, start="2024-01-01")
    path = tmp_path / "x.csv"
    history.to_csv(path)
    frame, prov = load_ohlcv("csv", path=path, symbol="X")
    pd.testing.assert_frame_equal(frame, history)
    assert prov.source == "csv:x.csv" and prov.symbol == "X"
    with pytest.raises(DataSourceError, match="needs a path"):
        load_ohlcv("csv")
    with pytest.raises(DataSourceError, match="unknown source 'ftp'"):
        load_ohlcv("ftp")  # type: ignore[arg-type]
    with pytest.raises(DataSourceError, match="no data between"):
        load_ohlcv("csv", path=path, start="2030-01-01")


def test_cache_source_keeps_the_original_source_label(tmp_path):
    write_cache(synthetic_ohlcv(40, seed=6), "^NSEBANK", source="csv:bank.csv", cache_dir=tmp_path)
    _, prov = load_ohlcv("cache", symbol="^NSEBANK", cache_dir=tmp_path)
    assert prov.source == "csv:bank.csv" and prov.symbol == "^NSEBANK"


def test_yahoo_source_with_a_cache_asks_yfinance_only_for_the_tail(tmp_path, monkeypatch):
    history = synthetic_ohlcv(80, seed=4, start="2024-01-01")
    write_cache(history.iloc[:70], "^NSEI", source="yahoo", cache_dir=tmp_path)
    asked = []

    def fake_download(tickers, start=None, end=None, **kwargs):
        asked.append(start)
        return yf_frame(history.loc[start:])

    monkeypatch.setattr(yfinance, "download", fake_download)
    frame, prov = load_ohlcv("yahoo", cache_dir=tmp_path)
    assert asked == [str(history.index[65].date())]
    pd.testing.assert_frame_equal(frame, history)
    assert prov.rows == 80


def test_yahoo_source_offline_falls_back_to_the_cache_with_a_warning(tmp_path, monkeypatch):
    history = synthetic_ohlcv(40, seed=4, start="2024-01-01")
    write_cache(history, "^NSEI", source="yahoo", cache_dir=tmp_path)
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    monkeypatch.setattr("time.sleep", lambda s: None)
    with pytest.warns(UserWarning, match="could not refresh \\^NSEI from Yahoo"):
        frame, _ = load_ohlcv("yahoo", cache_dir=tmp_path)
    pd.testing.assert_frame_equal(frame, history)


def test_synthetic_label_shows_key_parameters_with_defaults():
    _, prov = load_ohlcv("synthetic", synthetic={"n_days": 300, "pattern": "momentum"})
    assert prov.symbol == (
        "SYNTHETIC(n_days=300, seed=0, pattern='momentum', oracle_sharpe=2.0, lookback=5, "
        "channel='close')"
    )
    # the ground truth travels with the provenance (data.json records it)
    assert prov.synthetic is not None
    assert prov.synthetic["pattern"] == "momentum" and prov.synthetic["channel"] == "close"
    assert prov.synthetic["oracle_sharpe"] == pytest.approx(2.0, abs=0.05)  # realised, 300 days
