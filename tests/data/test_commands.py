"""``niftycnn data ...`` end to end through ``cli.main``."""

from __future__ import annotations

import pandas as pd
import pytest
import yfinance

from niftycnn.cli import main
from niftycnn.config import SyntheticConfig
from niftycnn.data import cache_path, synthetic_ohlcv
from tests.data._helpers import yf_frame


def test_check_synthetic_prints_the_report(capsys):
    assert main(["data", "check", "--source", "synthetic"]) == 0
    out = capsys.readouterr().out
    # the market of the [data.synthetic] table's defaults: the one home of those defaults
    assert f"rows: {SyntheticConfig().n_days:,}" in out
    assert "missing sessions (vs NSE calendar): 0" in out


def test_check_bad_csv_path_is_one_error_line_and_status_2(capsys, tmp_path):
    assert main(["data", "check", "--csv", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no such file") and err.count("\n") == 1


def test_import_then_check_cached_symbol(capsys, tmp_path):
    path = tmp_path / "bank.csv"
    synthetic_ohlcv(100, seed=9).to_csv(path)
    cache = str(tmp_path / "cache")
    assert main(["data", "import", str(path), "--symbol", "^NSEBANK", "--cache-dir", cache]) == 0
    assert cache_path("^NSEBANK", cache).exists()
    assert main(["data", "check", "^NSEBANK", "--cache-dir", cache]) == 0
    assert "source: csv:bank.csv" in capsys.readouterr().out


def test_fetch_with_mocked_yahoo(capsys, tmp_path, monkeypatch):
    history = synthetic_ohlcv(50, seed=2, start="2024-01-01")
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: yf_frame(history))
    assert main(["data", "fetch", "^NSEI", "--cache-dir", str(tmp_path)]) == 0
    assert "^NSEI: 50 rows" in capsys.readouterr().out
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    monkeypatch.setattr("time.sleep", lambda s: None)
    assert main(["data", "fetch", "^NSEI", "--cache-dir", str(tmp_path / "empty")]) == 2
    assert "--source synthetic" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["fetch", "import", "check"])
def test_help(action, capsys):
    with pytest.raises(SystemExit) as info:
        main(["data", action, "--help"])
    assert info.value.code == 0
    assert "--cache-dir" in capsys.readouterr().out
