"""What the walk-forward's baselines cost per fold, with one BLAS / OpenMP thread (what
``walkforward.run`` uses) against the libraries' default thread count, in one run.

Real NIFTY history when ``$NIFTYCNN_SHARED_DATA`` (or ``../shared/data``) has it, else a
synthetic market; every ``--stride``-th fold of a monthly expanding walk-forward; the two
settings alternate fold by fold so load drift on a shared machine hits both.

With ``--warm N``: cold fits against fits started from the previous fold's solution (what
the walk-forward does), on N consecutive folds from the middle of the walk-forward, one
BLAS thread, the two alternating fold by fold; prints seconds per fold and the largest
difference of their test probabilities.

Usage: PYTHONPATH=src python bench/baselines.py [--stride 20] [--models logistic,ridge]
       PYTHONPATH=src python bench/baselines.py --warm 20 [--models logistic,rocket]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from niftycnn.data import load_ohlcv
from niftycnn.walkforward.baselines import estimators
from niftycnn.walkforward.folds import prepare_fold
from niftycnn.walkforward.splits import WalkForwardSplit
from niftycnn.windows import QuantileThresholds, build_dataset

SHARED = Path(os.environ.get("NIFTYCNN_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stride", type=int, default=20)
    ap.add_argument("--models", default="logistic,ridge,majority,momentum")
    ap.add_argument("--warm", type=int, default=0, help="compare warm starts on N folds")
    args = ap.parse_args()
    path = SHARED / "nifty50_yahoo_daily.csv"
    if path.is_file():
        frame, _ = load_ohlcv("csv", path=str(path))
        source = f"real NIFTY 50 ({path})"
    else:
        frame, _ = load_ohlcv("synthetic", synthetic={"n_days": 4200, "seed": 0})
        source = "synthetic 4,200 days"
    ds = build_dataset(frame)
    folds = WalkForwardSplit(min_train_size=1000, refit=22).folds(ds)
    models = args.models.split(",")
    if args.warm:
        middle = len(folds) // 2
        return warm_starts(ds, folds[middle : middle + args.warm], models, source)
    folds = folds[:: args.stride]
    default = max(i["num_threads"] for i in threadpool_info())
    print(f"data: {source}; {len(folds)} folds; default threads {default}")
    cost = {(m, n): 0.0 for m in models for n in ("one", "default")}
    for fold in folds:
        d = prepare_fold(ds, fold, QuantileThresholds())
        for setting in ("one", "default"):
            with threadpool_limits(limits=1 if setting == "one" else default):
                for name, est in estimators(models, ds.features):
                    t0 = time.perf_counter()
                    est.fit(ds.X[d.side], d.labels[d.side], ds.y_return[d.side], ds.n_classes)
                    est.predict(ds.X[fold.test_idx])
                    cost[name, setting] += time.perf_counter() - t0
    print(f"{'baseline':10s} {'1 thread s/fold':>16s} {'default s/fold':>15s} {'ratio':>6s}")
    for m in models:
        one, dflt = cost[m, "one"] / len(folds), cost[m, "default"] / len(folds)
        ratio = f"{dflt / one:6.1f}x" if one > 0 else "     -"
        print(f"{m:10s} {one:16.3f} {dflt:15.3f} {ratio}")
    print(f"mean of {np.mean([len(f.train_idx) for f in folds]):.0f} training samples per fold")


def warm_starts(ds: Any, folds: list[Any], models: list[str], source: str) -> None:
    """Cold against warm-started fits on consecutive folds (see the module docstring)."""
    print(f"data: {source}; {len(folds)} consecutive folds from fold {folds[0].index}")
    cost = {(m, s): 0.0 for m in models for s in ("cold", "warm")}
    gap = dict.fromkeys(models, 0.0)
    previous: dict[str, Any] = {}
    with threadpool_limits(limits=1):
        for fold in folds:
            d = prepare_fold(ds, fold, QuantileThresholds())
            proba = {}
            for setting in ("cold", "warm"):
                for name, est in estimators(models, ds.features):
                    t0 = time.perf_counter()
                    if setting == "warm" and name in previous:
                        est.warm_start(previous[name])
                    est.fit(ds.X[d.side], d.labels[d.side], ds.y_return[d.side], ds.n_classes)
                    proba[name, setting] = est.predict(ds.X[fold.test_idx])[0]
                    cost[name, setting] += time.perf_counter() - t0
                    if setting == "warm":
                        previous[name] = est.solution()
            for m in models:
                gap[m] = max(gap[m], float(np.abs(proba[m, "cold"] - proba[m, "warm"]).max()))
    head = ("baseline", "cold s/fold", "warm s/fold", "ratio", "max |dp|")
    print(f"{head[0]:10s} {head[1]:>12s} {head[2]:>12s} {head[3]:>6s} {head[4]:>9s}")
    for m in models:
        cold, warm = cost[m, "cold"] / len(folds), cost[m, "warm"] / len(folds)
        print(f"{m:10s} {cold:12.3f} {warm:12.3f} {cold / warm:6.2f}x {gap[m]:9.2e}")


if __name__ == "__main__":
    main()
