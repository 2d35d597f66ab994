"""The real NIFTY 50 history imports and checks cleanly (skipped where the file is absent)."""

from __future__ import annotations

import pandas as pd
import pytest

from niftycnn.cli import main
from niftycnn.data import read_cache, read_csv, validate

pytestmark = pytest.mark.real_data


def test_real_history_checks_cleanly(real_nifty_csv):
    report = validate(read_csv(real_nifty_csv))
    assert report.rows == 4238 and report.fixes == ()
    assert report.first_date == pd.Timestamp("2007-09-17")
    assert report.last_date == pd.Timestamp("2024-12-31")
    assert all(report.zero_volume_share[y] == 1.0 for y in range(2007, 2013))
    assert report.zero_volume_share[2014] < 0.1
    assert pd.Timestamp("2019-02-13") in report.missing_sessions  # a Yahoo gap
    for holiday in ("2023-06-29", "2024-08-15"):
        assert pd.Timestamp(holiday) not in report.missing_sessions
    assert "2007-2012 100%" in str(report) and "2019-02-13" in str(report)


def test_real_history_imports_into_the_cache(real_nifty_csv, tmp_path, capsys):
    cache = str(tmp_path)
    assert (
        main(["data", "import", str(real_nifty_csv), "--symbol", "^NSEI", "--cache-dir", cache])
        == 0
    )
    frame, meta = read_cache("^NSEI", cache)
    assert len(frame) == 4238 and meta.source == "csv:nifty50_yahoo_daily.csv"
    assert frame["close"].iloc[0] == pytest.approx(4494.64990234375)
    assert "2019-02-13" in capsys.readouterr().out
