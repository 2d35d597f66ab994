"""CSV import: the layouts we detect, and bad files that must fail clearly without
touching an existing cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from niftycnn.data import cache_path, clean_ohlcv, import_csv, read_csv, write_cache
from niftycnn.errors import DataSourceError, DataValidationError
from tests.data._helpers import flat_rows, yf_frame


def _expected(rows: pd.DataFrame) -> pd.DataFrame:
    return clean_ohlcv(
        rows.set_index(pd.DatetimeIndex(rows["date"], name="date")).drop(columns="date")
    )


def test_flat_export_in_any_column_order_and_case(tmp_path):
    rows = flat_rows()
    path = tmp_path / "flat.csv"
    rows[["date", "close", "high", "low", "open", "volume"]].rename(columns=str.title).to_csv(
        path, index=False
    )
    pd.testing.assert_frame_equal(clean_ohlcv(read_csv(path)), _expected(rows))


def test_yf_download_to_csv_three_header_rows(tmp_path):
    expected = _expected(flat_rows())
    path = tmp_path / "yf.csv"
    yf_frame(expected).to_csv(path)
    assert path.read_text().splitlines()[1].startswith("Ticker,")
    pd.testing.assert_frame_equal(clean_ohlcv(read_csv(path)), expected)


def test_adj_close_column_adjusts_prices(tmp_path):
    rows = flat_rows()
    rows["Adj Close"] = rows["close"] * 0.9
    path = tmp_path / "adj.csv"
    rows.to_csv(path, index=False)
    frame = read_csv(path)
    np.testing.assert_allclose(frame["close"], rows["close"] * 0.9)
    np.testing.assert_allclose(frame["open"], rows["open"] * 0.9)


@pytest.mark.parametrize("date_format", ["%d-%b-%Y", "%d %b %Y"])
def test_nse_website_export(tmp_path, date_format):
    rows = flat_rows(start="2024-11-01")
    rows["close"] += 21000
    rows[["open", "high", "low"]] += 21000
    dates = pd.to_datetime(rows["date"]).dt.strftime(date_format).str.upper()
    money = lambda s: s.map(lambda v: f'"{v:,.2f}"')  # noqa: E731
    lines = ["\ufeffDate ,Open ,High ,Low ,Close ,Shares Traded ,Turnover (₹ Cr) "]
    lines += [
        f"{d},{o},{h},{lo},{c},{int(v)},{v / 1e4:.2f}"
        for d, o, h, lo, c, v in zip(
            dates,
            money(rows["open"]),
            money(rows["high"]),
            money(rows["low"]),
            money(rows["close"]),
            rows["volume"],
            strict=True,
        )
    ]
    path = tmp_path / "nse.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert '"21,100.00"' in path.read_text(encoding="utf-8")
    frame = clean_ohlcv(read_csv(path))
    pd.testing.assert_frame_equal(frame, _expected(rows))


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _csv(rows: pd.DataFrame) -> str:
    return rows.to_csv(index=False)


def _edit(**changes) -> str:
    rows = flat_rows()
    for key, fn in changes.items():
        rows = fn(rows) if key == "fn" else rows.assign(**{key: fn})
    return _csv(rows)


def _set(col, i, value):
    def fn(rows):
        rows = rows.copy()
        rows[col] = rows[col].astype(object)
        rows.loc[i, col] = value
        return rows

    return fn


def _dup_with_other_values(rows):
    extra = rows.iloc[[5]].assign(close=rows["close"].iloc[5] + 0.5)
    return pd.concat([rows, extra])


BAD_INPUTS = [
    ("empty file", "", DataValidationError, "is empty"),
    ("header only", "date,open,high,low,close,volume\n", DataValidationError, "no data rows"),
    (
        "missing close",
        _csv(flat_rows().drop(columns="close")),
        DataValidationError,
        "lacks column(s) close",
    ),
    (
        "no date column",
        _csv(flat_rows().drop(columns="date")),
        DataValidationError,
        "no date column",
    ),
    (
        "non-numeric price",
        _edit(fn=_set("close", 3, "abc")),
        DataValidationError,
        "non-numeric values ('abc'",
    ),
    (
        "negative price",
        _edit(fn=_set("low", 4, -5.0)),
        DataValidationError,
        "zero or negative prices",
    ),
    ("high below low", _edit(fn=_set("high", 6, 50.0)), DataValidationError, "high < low"),
    (
        "close above high",
        _edit(fn=_set("close", 7, 500.0)),
        DataValidationError,
        "outside [low, high]",
    ),
    (
        "conflicting duplicates",
        _edit(fn=_dup_with_other_values),
        DataValidationError,
        "appear twice with different values",
    ),
    (
        "unparseable dates",
        _edit(fn=_set("date", 2, "2024-13-45")),
        DataValidationError,
        "dates that do not parse ('2024-13-45'",
    ),
    ("all-NaN column", _edit(volume=np.nan), DataValidationError, "'volume' is entirely empty"),
    ("some NaN prices", _edit(fn=_set("open", 9, "")), DataValidationError, "missing (NaN) values"),
    ("binary file", b"PK\x03\x04\x00\x00\x08\x00binary", DataValidationError, "binary file"),
    ("two rows", _csv(flat_rows(2)), DataValidationError, "only 2 rows"),
    (
        "semicolon delimiter",
        _csv(flat_rows()).replace(",", ";"),
        DataValidationError,
        "';'-delimited",
    ),
    (
        "future dates",
        _csv(
            flat_rows().assign(date=pd.bdate_range("2099-01-01", periods=40).strftime("%Y-%m-%d"))
        ),
        DataValidationError,
        "lie in the future",
    ),
    ("negative volume", _edit(fn=_set("volume", 1, -10.0)), DataValidationError, "negative volume"),
    (
        "not utf-8 text",
        b"date,open\n" + bytes([0x81, 0x8D, 0x8F, 0x90]) * 10,
        DataValidationError,
        "not a text CSV",
    ),
]


@pytest.fixture
def existing_cache(tmp_path) -> tuple[Path, bytes]:
    cache_dir = tmp_path / "cache"
    write_cache(_expected(flat_rows(50, "2023-01-02")), "^NSEI", source="test", cache_dir=cache_dir)
    path = cache_path("^NSEI", cache_dir)
    return cache_dir, path.read_bytes()


@pytest.mark.parametrize(
    ("name", "content", "error", "fragment"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_csv_fails_clearly_and_leaves_cache_unchanged(
    tmp_path, existing_cache, name, content, error, fragment
):
    cache_dir, before = existing_cache
    path = _write(tmp_path, "bad.csv", content)
    with pytest.raises(error) as info:
        import_csv(path, "^NSEI", cache_dir=cache_dir)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert cache_path("^NSEI", cache_dir).read_bytes() == before
    assert sorted(p.name for p in cache_dir.iterdir()) == ["NSEI.parquet"]


@pytest.mark.parametrize(
    ("target", "fragment"), [("missing.csv", "no such file"), (".", "is a directory")]
)
def test_bad_path_fails_clearly_and_leaves_cache_unchanged(
    tmp_path, existing_cache, target, fragment
):
    cache_dir, before = existing_cache
    with pytest.raises(DataSourceError, match=fragment):
        import_csv(tmp_path / target, "^NSEI", cache_dir=cache_dir)
    assert cache_path("^NSEI", cache_dir).read_bytes() == before


def test_bad_inputs_each_have_their_own_message():
    fragments = [b[3] for b in BAD_INPUTS]
    assert len(set(fragments)) == len(fragments) >= 15


@pytest.mark.parametrize("suffix", [" 00:00:00", " 00:00:00+05:30"])
def test_timestamps_with_time_or_offset_become_exchange_dates(tmp_path, suffix):
    rows = flat_rows()
    expected = _expected(rows)
    path = tmp_path / "ts.csv"
    rows.assign(date=rows["date"] + suffix).to_csv(path, index=False)
    pd.testing.assert_frame_equal(clean_ohlcv(read_csv(path)), expected)


def test_pandas_to_csv_without_index_name_reads_first_column_as_dates(tmp_path):
    expected = _expected(flat_rows())
    path = tmp_path / "plain.csv"
    expected.rename_axis(None).to_csv(path)
    pd.testing.assert_frame_equal(clean_ohlcv(read_csv(path)), expected)
