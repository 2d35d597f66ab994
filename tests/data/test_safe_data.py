"""Safe data at the command line: a short file or fetch cannot replace a long cache
without ``--replace`` (case 9a); dates are one line whatever pandas thinks (10); missing
prices can be dropped on request (11); a file path is checked as a CSV (12); warnings are
one line (13; a closed pipe: tests/test_cli.py)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import yfinance

from niftycnn.data import cache_path, read_cache, synthetic_ohlcv
from tests.cli_helpers import assert_one_error, cli, tree_digest, warning_lines
from tests.data._helpers import flat_rows, yf_frame


def _import(path: Path, cache: Path, *flags: str) -> list[str]:
    return ["data", "import", str(path), "--symbol", "^NSEI", "--cache-dir", str(cache), *flags]


def test_a_reimport_that_drops_dates_needs_replace(tmp_path, capsys):
    long, short = tmp_path / "long.csv", tmp_path / "short.csv"
    flat_rows(60, "2023-01-02").to_csv(long, index=False)
    flat_rows(31, "2023-03-01").to_csv(short, index=False)
    cache = tmp_path / "cache"
    assert cli(_import(long, cache), capsys).code == 0
    before = tree_digest(cache)
    result = cli(_import(short, cache), capsys)
    lost = sorted(set(pd.read_csv(long)["date"]) - set(pd.read_csv(short)["date"]))
    assert_one_error(
        result, f"would drop {len(lost)} of the cache's 60 dates ({lost[0]} to {lost[-1]})"
    )
    assert tree_digest(cache) == before
    assert cli(_import(short, cache, "--replace"), capsys).code == 0
    assert len(read_cache("^NSEI", cache)[0]) == 31
    flat_rows(100, "2023-01-02").to_csv(long, index=False)  # a superset drops nothing
    assert cli(_import(long, cache), capsys).code == 0


def test_a_fetch_that_would_drop_cached_dates_needs_replace(tmp_path, capsys, monkeypatch):
    history = synthetic_ohlcv(120, seed=2, start="2024-01-01")
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: yf_frame(history))
    assert cli(["data", "fetch", "^NSEI", "--cache-dir", tmp_path], capsys).code == 0
    revised = history.iloc[90:] * 1.01  # Yahoo re-adjusted and now serves 30 sessions
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: yf_frame(revised))
    before = tree_digest(tmp_path)
    result = cli(["data", "fetch", "^NSEI", "--cache-dir", tmp_path], capsys)
    assert_one_error(result, "would drop 90 of the cache's 120 dates", after_warnings=True)
    assert any("differ from the cache (revised history?)" in w for w in warning_lines(result.err))
    assert tree_digest(tmp_path) == before
    result = cli(["data", "fetch", "^NSEI", "--cache-dir", tmp_path, "--replace"], capsys)
    assert result.code == 0 and "^NSEI: 30 rows" in result.out


def test_unparseable_and_mixed_zone_dates_are_one_line_even_with_every_warning_on(tmp_path, capsys):
    rows = flat_rows()
    bad = tmp_path / "bad.csv"
    for dates in (
        rows["date"].where(rows.index != 3, "03/04/24 noon"),
        rows["date"] + " 00:00:00" + pd.Series(["+05:30"] * 20 + ["-04:00"] * 20),
    ):
        rows.assign(date=dates).to_csv(bad, index=False)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            result = cli(_import(bad, tmp_path / "cache"), capsys)
        assert_one_error(result, str(bad))
        assert "Could not infer format" not in result.err


def test_drop_missing_drops_the_rows_without_prices_and_lists_them(tmp_path, capsys):
    rows = flat_rows().astype(object)
    for i, (col, value) in enumerate([("close", "null"), ("open", "NaN"), ("high", "-")]):
        rows.loc[5 + i, col] = value
    rows.loc[9, "low"] = ""
    path = tmp_path / "gaps.csv"
    path.write_text(rows.to_csv(index=False) + "2024-03-01,,,,,\n")
    cache = tmp_path / "cache"
    result = cli(_import(path, cache), capsys)
    assert_one_error(result, "5 row(s) have missing (NaN) values")
    assert not cache.exists()
    result = cli(_import(path, cache, "--drop-missing"), capsys)
    assert result.code == 0, result.err
    dropped = [str(d) for d in rows.loc[[5, 6, 7, 9], "date"]] + ["2024-03-01"]
    assert warning_lines(result.err) == [
        f"warning: dropped 5 row(s) with missing prices: {', '.join(dropped)}"
    ]
    assert len(read_cache("^NSEI", cache)[0]) == 36


def test_a_file_without_volume_imports_with_zero_volume_and_a_warning(tmp_path, capsys):
    path = tmp_path / "official_index.csv"
    flat_rows().drop(columns="volume").to_csv(path, index=False)
    result = cli(_import(path, tmp_path / "cache"), capsys)
    assert result.code == 0, result.err
    assert warning_lines(result.err) == [
        f"warning: {path} has no volume column (common for official index histories); "
        "volume is set to 0, so a volume feature would be all zeros"
    ]
    assert (read_cache("^NSEI", tmp_path / "cache")[0]["volume"] == 0).all()


def test_data_check_of_an_existing_file_checks_it_as_a_csv(tmp_path, capsys):
    path = tmp_path / "exports" / "nifty.csv"
    path.parent.mkdir()
    flat_rows().to_csv(path, index=False)
    result = cli(["data", "check", path], capsys)
    assert result.code == 0, result.err
    assert result.out.startswith("source: csv:nifty.csv  symbol: nifty")
    assert "rows: 40" in result.out and "data fetch" not in result.out + result.err
    missing = tmp_path / "exports" / "missing.csv"
    result = cli(["data", "check", missing, "--cache-dir", tmp_path / "cache"], capsys)
    assert_one_error(result, f"no such file: {missing}; pass an existing CSV file or a symbol")


def test_warnings_print_as_one_line_without_source_or_code(tmp_path, capsys):
    path = tmp_path / "unsorted.csv"
    flat_rows().iloc[::-1].to_csv(path, index=False)
    result = cli(_import(path, tmp_path / "cache"), capsys)
    assert result.code == 0
    assert result.err == "warning: rows were not in date order; sorted them\n"
    assert cache_path("^NSEI", tmp_path / "cache").is_file()
