"""Benchmark: backtest 4,000 days x 6 models, daily and hold-to-expiry, with costs and
the trading metrics; prints the median wall time of repeated runs.

    PYTHONPATH=src python bench/backtest.py [--days 4000] [--repeats 21]

Synthetic data (a random walk of closes on business days, weekly Thursday expiries), so
it runs anywhere; the point is the cost of the vectorised engine, not the numbers.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from niftycnn.backtest import backtest, evaluate
from niftycnn.backtest.metrics import trading_metrics
from niftycnn.config import BacktestConfig
from niftycnn.schema import prediction_columns

MODELS = ("cnn", "majority", "logistic", "ridge", "momentum", "fixed_kernels")


def synthetic(days: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2008-01-01", periods=days + 10, name="date")
    close = pd.Series(10_000 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, len(dates)))), dates)
    thursdays = dates[dates.day_of_week == 3]
    k = thursdays.searchsorted(dates[:days], side="right")
    expiry = thursdays[np.minimum(k, len(thursdays) - 1)]
    frames = []
    for model in MODELS:
        proba = rng.dirichlet(np.ones(5), size=days)
        frame = pd.DataFrame(
            {
                "model": model,
                "task": "classification",
                "fold": np.arange(days) * 8 // days,
                "path": 0,
                "n_seeds": 1,
                "train_start": dates[0],
                "train_end": dates[0],
                "label_end": expiry,
                "horizon": 3,
                "y_true": rng.integers(0, 5, days),
                "y_return": rng.normal(0, 0.02, days),
                "y_pred": proba.argmax(axis=1),
                "r_pred": rng.normal(0, 0.01, days),
                "train_mean": 0.0,
                "best_epoch": np.nan,
                **{f"proba_{j}": proba[:, j] for j in range(5)},
            },
            index=dates[:days],
        )
        frames.append(frame[prediction_columns(5)])
    return pd.concat(frames), close


def run_once(preds: pd.DataFrame, close: pd.Series) -> None:
    for holding in ("daily", "expiry"):
        cfg = BacktestConfig(holding=holding, band=0.002, cost_bps=3, slippage_bps=2)
        for result in backtest(preds, close, cfg).values():
            trading_metrics(result, cfg.periods_per_year)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    preds, close = synthetic(args.days)
    run_once(preds, close)  # warm-up
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        run_once(preds, close)
        times.append(time.perf_counter() - t0)
    report("backtest (daily + expiry), costs + trading metrics", times, args)
    times = []
    for _ in range(max(args.repeats // 4, 3)):
        t0 = time.perf_counter()
        evaluate(preds, close, BacktestConfig(holding="expiry", cost_bps=5), significance=False)
        times.append(time.perf_counter() - t0)
    report("evaluate() without significance (all tables)", times, args)


def report(what: str, times: list[float], args: argparse.Namespace) -> None:
    t = np.array(times)
    print(
        f"{what}, {args.days} days x {len(MODELS)} models: median {np.median(t) * 1e3:.1f} ms "
        f"(min {t.min() * 1e3:.1f}, max {t.max() * 1e3:.1f}) over {len(t)} runs"
    )


if __name__ == "__main__":
    main()
