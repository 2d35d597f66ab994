"""The Parquet cache: atomic writes, corruption, incremental refresh."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from niftycnn.data import cache_path, frame_sha256, read_cache, refresh_cache, write_cache
from niftycnn.errors import CacheError


@pytest.fixture
def history(small_frame) -> pd.DataFrame:
    return small_frame


def test_cache_round_trip_and_metadata(tmp_path, history):
    meta = write_cache(history, "^NSEI", source="yahoo", cache_dir=tmp_path)
    path = cache_path("^NSEI", tmp_path)
    assert path.name == "NSEI.parquet"
    frame, read_meta = read_cache("^NSEI", tmp_path)
    pd.testing.assert_frame_equal(frame, history)
    assert read_meta == meta
    stored = json.loads(pq.read_schema(path).metadata[b"niftycnn"])
    assert stored["sha256"] == frame_sha256(history)
    assert stored["rows"] == 60 and stored["first_date"] == "2024-01-01"
    assert stored["source"] == "yahoo" and stored["symbol"] == "^NSEI"


def test_crash_during_write_keeps_old_cache_and_leaves_no_temp_file(tmp_path, history, monkeypatch):
    write_cache(history, "^NSEI", source="yahoo", cache_dir=tmp_path)
    path = cache_path("^NSEI", tmp_path)
    before = path.read_bytes()
    real_write = pq.write_table

    def crash_midway(table, where, *args, **kwargs):
        real_write(table.slice(0, 3), where, *args, **kwargs)  # some bytes hit the disk
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(pq, "write_table", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        write_cache(history * 2, "^NSEI", source="yahoo", cache_dir=tmp_path)
    assert path.read_bytes() == before
    pd.testing.assert_frame_equal(read_cache("^NSEI", tmp_path)[0], history)
    assert [p.name for p in tmp_path.iterdir()] == ["NSEI.parquet"]


def test_corrupt_cache_names_the_file_and_the_fix(tmp_path, history):
    write_cache(history, "^NSEI", source="yahoo", cache_dir=tmp_path)
    path = cache_path("^NSEI", tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CacheError, match=f"{path}.*corrupt.*delete"):
        read_cache("^NSEI", tmp_path)


def test_missing_cache_suggests_fetch_or_import(tmp_path):
    with pytest.raises(CacheError, match="niftycnn data fetch \\^NSEBANK"):
        read_cache("^NSEBANK", tmp_path)


class FakeSource:
    """A source serving ``history`` cut to the asked start; records the starts asked for."""

    def __init__(self, history: pd.DataFrame):
        self.history, self.starts = history, []

    def __call__(self, start, end):
        self.starts.append(start)
        return self.history if start is None else self.history.loc[start:]


def test_refresh_fetches_only_the_tail_with_five_sessions_overlap(tmp_path, history):
    write_cache(history.iloc[:40], "^NSEI", source="yahoo", cache_dir=tmp_path)
    source = FakeSource(history)
    frame, meta = refresh_cache("^NSEI", source, cache_dir=tmp_path)
    assert source.starts == [history.index[35]]
    pd.testing.assert_frame_equal(frame, history)
    assert meta.rows == 60 and read_cache("^NSEI", tmp_path)[1] == meta


def test_refresh_with_revised_overlap_warns_and_refetches_everything(tmp_path, history):
    write_cache(history.iloc[:40], "^NSEI", source="yahoo", cache_dir=tmp_path)
    revised = history * 1.01  # e.g. the source re-adjusted its history
    source = FakeSource(revised)
    with pytest.warns(UserWarning, match="differ from the cache"):
        frame, _ = refresh_cache("^NSEI", source, cache_dir=tmp_path)
    assert source.starts == [history.index[35], history.index[0]]
    pd.testing.assert_frame_equal(frame, revised)


def test_refresh_tolerates_float_noise_and_a_revised_last_bar(tmp_path, history):
    cached = history.iloc[:40].copy()
    cached.iloc[-1, 3] *= 1.002  # the last cached bar was a partial intraday bar
    write_cache(cached, "^NSEI", source="yahoo", cache_dir=tmp_path)
    source = FakeSource(history * (1 + 1e-9))
    frame, _ = refresh_cache("^NSEI", source, cache_dir=tmp_path)
    assert len(source.starts) == 1
    assert frame["close"].iloc[39] == pytest.approx(history["close"].iloc[39])


def test_refresh_without_cache_fetches_everything(tmp_path, history):
    source = FakeSource(history)
    frame, _ = refresh_cache("^NSEI", source, cache_dir=tmp_path)
    assert source.starts == [None] and len(frame) == 60


def test_imported_csv_extended_from_yahoo_keeps_both_origins(tmp_path, history):
    write_cache(history.iloc[:40], "^NSEI", source="csv:nifty.csv", cache_dir=tmp_path)
    _, meta = refresh_cache("^NSEI", FakeSource(history), cache_dir=tmp_path)
    assert meta.source == "csv:nifty.csv+yahoo"
    _, again = refresh_cache("^NSEI", FakeSource(history), cache_dir=tmp_path)
    assert again.source == "csv:nifty.csv+yahoo"
