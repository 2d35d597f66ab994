"""Universes in the data stage: Yahoo's multi-ticker download (replaced at its boundary by
frames built exactly as yfinance 1.x builds them), per-symbol caches, a folder of CSVs,
the shipped NIFTY 50 list, the synthetic universe and its equal-weight index."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import yfinance

from niftycnn.config import DataConfig, SyntheticConfig
from niftycnn.data import (
    cache_path,
    constituents,
    equal_weight_index,
    load_universe,
    read_cache,
    synthetic_ohlcv,
)
from niftycnn.data.synthetic_universe import synthetic_universe
from niftycnn.errors import DataSourceError


def yf_multi(frames: dict[str, pd.DataFrame], failed: tuple[str, ...] = ()) -> pd.DataFrame:
    """What ``yf.download([...])`` returns (yfinance 1.x ``multi._download_impl``): each
    ticker's ``history`` frame, a failed ticker's ``utils.empty_df()`` (all-NaN Open ...
    Adj Close, no rows), reindexed to the union of dates, concatenated with keys
    (Ticker, Price), levels swapped to (Price, Ticker) and sorted by Price; tickers
    upper-cased; index ``Date``. Nothing fetched at all: an empty frame."""
    dfs = {}
    for ticker, f in frames.items():
        part = f.rename(columns=str.title)[["Open", "High", "Low", "Close", "Volume"]]
        part.index = pd.DatetimeIndex(f.index, name="Date")
        dfs[ticker.upper()] = part
    for ticker in failed:
        empty = pd.DataFrame(
            index=pd.DatetimeIndex([], name="Date"),
            data={c: np.nan for c in ("Open", "High", "Low", "Close", "Adj Close", "Volume")},
        )
        dfs[ticker.upper()] = empty
    union = None
    for df in dfs.values():
        if not df.empty:
            union = df.index if union is None else union.union(df.index)
    union = pd.DatetimeIndex([], name="Date") if union is None else union
    dfs = {k: v.reindex(union) for k, v in dfs.items()}
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    return data.sort_index(level=0, axis=1)


@pytest.fixture
def stocks() -> dict[str, pd.DataFrame]:
    """Three stocks with different histories (the third lists later)."""
    a = synthetic_ohlcv(120, seed=1, start="2024-01-01")
    b = synthetic_ohlcv(120, seed=2, start="2024-01-01")
    c = synthetic_ohlcv(80, seed=3, start="2024-03-01")
    return {"AAA.NS": a, "BBB.NS": b, "M&M.NS": c}


def test_one_download_for_every_symbol_and_a_failed_ticker_is_reported_and_skipped(
    monkeypatch, tmp_path, stocks
):
    calls = []

    def fake_download(tickers, **kwargs):
        calls.append((tickers, kwargs))
        return yf_multi(stocks, failed=("BAD.NS",))

    waits: list[float] = []
    monkeypatch.setattr(yfinance, "download", fake_download)
    monkeypatch.setattr("niftycnn.data.yahoo.time.sleep", waits.append)
    cfg = DataConfig(source="yahoo", symbols=[*stocks, "BAD.NS"], cache_dir=str(tmp_path))
    with pytest.warns(UserWarning, match=r"skipped 1 of 4 symbols: BAD\.NS \(Yahoo"):
        universe = load_universe(cfg)
    # one call for every symbol; then only the failed one is retried, with backoff
    assert sorted(calls[0][0]) == sorted([*stocks, "BAD.NS"])
    assert [c[0] for c in calls[1:]] == ["BAD.NS"] * 3 and waits == [1.0, 2.0, 4.0]
    assert universe.symbols == ("AAA.NS", "BBB.NS", "M&M.NS")
    assert "BAD.NS" in universe.skipped
    for symbol, frame in stocks.items():
        pd.testing.assert_frame_equal(universe.frames[symbol], frame, check_freq=False)
        assert cache_path(symbol, tmp_path).is_file()  # one cache file per symbol
    assert not cache_path("BAD.NS", tmp_path).exists()


def test_a_rerun_fetches_only_the_tail_in_one_call(monkeypatch, tmp_path, stocks):
    first = {s: f.iloc[:-10] for s, f in stocks.items()}
    monkeypatch.setattr(yfinance, "download", lambda t, **k: yf_multi(first))
    cfg = DataConfig(source="yahoo", symbols=list(stocks), cache_dir=str(tmp_path))
    load_universe(cfg)
    calls = []

    def tail(tickers, **kwargs):
        calls.append(kwargs)
        start = pd.Timestamp(kwargs["start"])
        return yf_multi({s: f[f.index >= start] for s, f in stocks.items()})

    monkeypatch.setattr(yfinance, "download", tail)
    universe = load_universe(cfg)
    ((kwargs,),) = [tuple(calls)]
    latest_tail = max(f.index[-5] for f in first.values())
    assert pd.Timestamp(kwargs["start"]) <= latest_tail  # the tails, not all history
    assert pd.Timestamp(kwargs["start"]) > min(f.index[0] for f in stocks.values())
    for symbol, frame in stocks.items():
        pd.testing.assert_frame_equal(universe.frames[symbol], frame, check_freq=False)
        pd.testing.assert_frame_equal(read_cache(symbol, tmp_path)[0], frame, check_freq=False)


def test_the_run_fails_only_when_every_symbol_fails(monkeypatch, tmp_path):
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    monkeypatch.setattr("niftycnn.data.yahoo.time.sleep", lambda s: None)
    cfg = DataConfig(source="yahoo", symbols=["AAA.NS", "BBB.NS"], cache_dir=str(tmp_path))
    with pytest.raises(DataSourceError, match="Yahoo gave none of the 2 symbols") as info:
        load_universe(cfg)
    assert "\n" not in str(info.value)


def test_a_folder_of_csvs_is_a_universe_and_a_bad_file_is_skipped(tmp_path, stocks):
    for symbol, frame in stocks.items():
        frame.rename_axis("Date").to_csv(tmp_path / f"{symbol.removesuffix('.NS')}.csv")
    (tmp_path / "BROKEN.csv").write_text("Date,Open\n2024-01-01,1\n")
    (tmp_path / "notes.txt").write_text("not a csv")
    cfg = DataConfig(source="csv", path=str(tmp_path))
    assert cfg.is_universe
    with pytest.warns(UserWarning, match=r"skipped 1 of 4 symbols: BROKEN \(.*lacks column"):
        universe = load_universe(cfg)
    assert universe.symbols == ("AAA", "BBB", "M&M")  # the file's stem is the symbol
    np.testing.assert_allclose(universe.frames["AAA"]["close"], stocks["AAA.NS"]["close"])
    picked = load_universe(DataConfig(source="csv", path=str(tmp_path), symbols=["BBB.NS"]))
    assert picked.symbols == ("BBB",)


def test_the_universe_fingerprint_changes_with_any_member(tmp_path, stocks):
    for symbol, frame in stocks.items():
        frame.rename_axis("Date").to_csv(tmp_path / f"{symbol}.csv")
    cfg = DataConfig(source="csv", path=str(tmp_path))
    before = load_universe(cfg).provenance
    frame = stocks["BBB.NS"].copy()
    frame.iloc[50, frame.columns.get_loc("volume")] += 1
    frame.rename_axis("Date").to_csv(tmp_path / "BBB.NS.csv")
    after = load_universe(cfg).provenance
    assert before.sha256 != after.sha256 and before.rows == after.rows


def test_the_shipped_nifty50_list_is_dated_sourced_and_warns_of_survivorship():
    nifty = constituents("nifty50")
    assert len(nifty.symbols) == len(set(nifty.symbols)) == 50
    assert nifty.as_of == "2024-09-30" and "NSE Indices" in nifty.source
    assert "M&M.NS" in nifty.yahoo_symbols and "BAJAJ-AUTO.NS" in nifty.yahoo_symbols
    assert "survivorship bias" in nifty.note and "2024-09-30" in nifty.note
    with pytest.raises(DataSourceError, match="unknown universe 'sensex'"):
        constituents("sensex")


def _universe(oracle: float, seed: int = 0, **universe: object):
    cfg = SyntheticConfig(
        n_symbols=30,
        n_days=900,
        pattern="momentum",
        lookback=20,
        universe={"oracle_sharpe": oracle, **universe},
    )
    return synthetic_universe(cfg, seed)


def test_synthetic_universe_plants_the_asked_oracle_sharpe_as_a_purely_cross_sectional_drift():
    for seed in range(3):
        made = _universe(2.0, seed)
        assert made.oracle_sharpe == pytest.approx(2.0, rel=0.05)
        drift = made.drift.to_numpy()
        live = np.isfinite(drift).sum(axis=1) >= 2
        # the drift averages zero across the stocks trading each day
        np.testing.assert_allclose(np.nanmean(drift[live], axis=1), 0.0, atol=1e-12)
    null = _universe(0.0)
    assert null.oracle_sharpe == 0.0 and np.nanmax(np.abs(null.drift.to_numpy())) == 0.0


def test_synthetic_universe_stocks_list_late_stop_pause_and_correlate():
    made = _universe(0.0, seed=4, late_listings=0.5, delistings=0.3, suspensions=0.5)
    frames = made.frames
    first = pd.Series({s: f.index[0] for s, f in frames.items()})
    last = pd.Series({s: f.index[-1] for s, f in frames.items()})
    assert (first > first.min()).sum() >= 5 and (last < last.max()).sum() >= 3
    sessions = made.drift.index
    gaps = [
        len(sessions[(sessions >= f.index[0]) & (sessions <= f.index[-1])]) - len(f)
        for f in frames.values()
    ]
    assert sum(g > 4 for g in gaps) >= 5  # suspensions and missing sessions
    returns = pd.DataFrame({s: np.log(f["close"]).diff() for s, f in frames.items()})
    corr = returns.corr().to_numpy()
    assert 0.1 < np.nanmean(corr[np.triu_indices_from(corr, 1)]) < 0.6  # a market factor
    again = _universe(0.0, seed=4, late_listings=0.5, delistings=0.3, suspensions=0.5)
    pd.testing.assert_frame_equal(frames["S003"], again.frames["S003"])  # per seed


def test_equal_weight_index_reads_no_later_bar():
    frames = _universe(0.0, seed=1).frames
    full = equal_weight_index(frames)
    cut = full.index[400]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        part = equal_weight_index(
            {s: f[f.index <= cut] for s, f in frames.items() if f.index[0] <= cut}
        )
    pd.testing.assert_series_equal(full[full.index <= cut], part)
