"""Universes through the whole workflow: a folder of CSVs run with ``--source csv DIR``,
the artefacts and verdict of a universe run, the checks the plan makes before any work,
and the shared stock set (read at test time, skipped where absent)."""

from __future__ import annotations

import contextlib
import io
import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

from niftycnn.cli import main
from niftycnn.config import SyntheticConfig
from niftycnn.data.synthetic_universe import synthetic_universe
from niftycnn.rundir import RunLayout
from niftycnn.workflow.plan import load_experiment, plan_run
from tests.cli_helpers import cli
from tests.conftest import SHARED_DATA
from tests.workflow.conftest import run_dir_from

STOCKS = SHARED_DATA / "stocks"

UNIVERSE = {
    "seed": 5,
    "data": {
        "source": "synthetic",
        "market": "equal_weight",
        "synthetic": {"n_symbols": 8, "n_days": 420, "start": "2019-03-01", "lookback": 20},
    },
    "windows": {"features": ["open", "high", "low", "close", "volume", "market"]},
    "labels": {"classes": 2, "mode": "fixed"},
    "train": {"epochs": 1, "patience": 1, "seeds": 1},
    "walkforward": {"min_train": 250, "refit": "every", "refit_every": 60},
    "baselines": {"models": ["majority", "xs_momentum", "xs_reversal"]},
    "backtest": {"quantiles": 4, "bootstrap": 100, "permutations": 100},
    "filters": {"null_draws": 100},
}


def _write(folder: Path, name: str, body: dict) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(tomli_w.dumps(body))
    return path


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny universe's stocks written as a folder of CSVs, run with --source csv."""
    folder = tmp_path_factory.mktemp("universe")
    cfg = SyntheticConfig(n_symbols=8, n_days=420, start="2019-03-01", lookback=20)
    stocks = folder / "stocks"
    stocks.mkdir()
    for symbol, frame in synthetic_universe(cfg, seed=5).frames.items():
        frame.rename_axis("Date").to_csv(stocks / f"{symbol}.csv")
    experiment = _write(folder, "tiny_universe", UNIVERSE)  # its [data] replaced by --source
    out_root = folder / "reports"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            [
                "run",
                str(experiment),
                "--source",
                "csv",
                str(stocks),
                "--out",
                str(out_root),
                "--quiet",
            ]
        )
    assert code == 0, out.getvalue()
    return run_dir_from(out.getvalue())


def test_a_folder_runs_as_a_universe_with_horizon_labels(csv_run: Path) -> None:
    run = RunLayout(csv_run)
    config = tomllib.loads(run.config.read_text())
    assert config["data"]["source"] == "csv" and config["labels"]["target"] == "horizon"
    data = json.loads(run.data.read_text())
    assert sorted(data["members"]) == [f"S{i:03d}" for i in range(8)]
    assert data["provenance"]["symbol"] == "UNIVERSE(8 symbols)"
    assert data["check"].startswith("universe: 8 symbols") and len(data["checks"]) == 8
    predictions = pd.read_parquet(run.predictions)
    assert predictions["symbol"].nunique() == 8
    assert set(predictions["model"]) == {"cnn", "majority", "xs_momentum", "xs_reversal"}


def test_a_universe_run_writes_the_cross_sectional_tables_and_verdict(csv_run: Path) -> None:
    run = RunLayout(csv_run)
    for name in ("cross_section", "quantiles", "long_short", "ic", "per_symbol", "coverage"):
        assert run.metric(name).is_file(), name
    quantiles = pd.read_csv(run.metric("quantiles"))
    assert sorted(quantiles["quantile"].unique()) == [0, 1, 2, 3]
    per_symbol = pd.read_csv(run.metric("per_symbol"))
    assert per_symbol["symbol"].nunique() == 8
    verdict = json.loads(run.verdict.read_text())
    xs = verdict["cross_section"]
    assert xs["quantiles"] == 4 and xs["symbols"] == 8 and xs["rebalance"] == 5
    assert {m["model"] for m in xs["models"]} == {"cnn", "majority", "xs_momentum", "xs_reversal"}
    assert isinstance(xs["edge"], bool)
    report = run.report_md.read_text()
    assert "## Universe: across the symbols" in report
    assert "the CNN's ranking is" in report and "Baselines ranked the same way" in report
    for figure in ("coverage", "quantiles", "long_short", "ic"):
        assert (run.figures_dir / f"{figure}.png").is_file()


def test_a_universe_report_re_renders_identically(csv_run: Path, capsys) -> None:
    run = RunLayout(csv_run)
    before = run.report_md.read_bytes(), run.report_html.read_bytes()
    assert cli(["report", str(csv_run)], capsys).code == 0
    assert (run.report_md.read_bytes(), run.report_html.read_bytes()) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"backtest": {"quantiles": 12}},
            "[backtest] quantiles = 12 portfolios need at least 12 symbols",
        ),
        (
            {"data": {"market": None}},
            "[windows] features include 'market' but [data] market is not set",
        ),
        (
            {"sweep": {"filters": [4, 8]}},
            "[sweep] runs on one series; a universe sweep is not supported",
        ),
        (
            {"data": {"market": "equal_weight", "synthetic": {"n_symbols": None}}},
            "market = 'equal_weight' is the universe's own index",
        ),
    ],
)
def test_the_plan_refuses_a_universe_that_cannot_run_in_one_line(tmp_path, capsys, change, message):
    body = json.loads(json.dumps(UNIVERSE))
    for table, keys in change.items():
        for key, value in keys.items():
            if value is None:
                body.setdefault(table, {}).pop(key, None)
            elif isinstance(value, dict):
                body.setdefault(table, {}).setdefault(key, {}).update(value)
            else:
                body.setdefault(table, {})[key] = value
    body["data"]["synthetic"] = {
        k: v for k, v in body["data"]["synthetic"].items() if v is not None
    }
    experiment = _write(tmp_path, "bad", body)
    result = cli(["run", str(experiment), "--out", str(tmp_path / "reports")], capsys)
    assert result.code == 2 and message in result.err and result.err.count("\n") == 1, result.err
    assert not (tmp_path / "reports").exists()


@pytest.fixture(scope="module")
def stocks() -> Path:
    if not STOCKS.is_dir():
        pytest.skip(f"the shared stock set is not at {STOCKS} (only on project machines)")
    return STOCKS


def test_data_check_lists_what_is_wrong_in_the_shared_stock_files(stocks, capsys) -> None:
    result = cli(["data", "check", str(stocks)], capsys)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[1].startswith("universe: 37 symbols")
    nestle = next(line for line in lines if line.startswith("NESTLEIND "))
    assert "stale" in nestle and "jump" in nestle  # filled before it traded, then the jump
    tata = next(line for line in lines if line.startswith("TATASTEEL "))
    assert "1 jump" in tata
    assert "== M&M" in result.out and "2022-06-16  jump" in result.out
    assert "missing sessions (vs NSE calendar): 10" in result.out


@pytest.mark.slow
def test_the_shared_stock_set_plans_as_a_universe(stocks) -> None:
    experiment = load_experiment("experiments/nifty50_universe.toml").with_overrides(
        data={"source": "csv", "path": str(stocks), "universe": None}
    )
    with pytest.warns(UserWarning):
        plan = plan_run(experiment)
    assert plan.universe is not None and len(plan.dataset.symbols) == 37
    assert plan.dataset.X.shape[1:] == (6, 20) and plan.dataset.is_panel
    assert len(plan.folds) > 40
