"""Which network heads recover which planted pattern: recency (local) vs window-long.

For each planted market (synthetic, 2,500 sessions, oracle Sharpe ``--sharpe``) and each
network preset, one walk-forward as the offline default runs it (20 x 5 windows, five
volatility-scaled classes of the next ``--horizon`` sessions' return (1: the next day,
the day the planted drift acts on), expanding refits every ``--refit``
sessions, ``--seeds`` seeds), scored on the out-of-sample log loss against the majority
class and the oracle (the planted rule on the same folds and labels):

- ``gain``: majority log loss - model log loss (positive: better than no skill);
- ``share``: gain / the oracle's gain, the part of the attainable edge captured;
- ``p``: one-sided Diebold-Mariano p-value of "the model beats majority".

Markets: momentum over the last 3 days and curvature over the last 5 (patterns at the
window's end: recency), momentum over 20 days (the whole window). Heads: global average
pooling (q10), flatten (q10_flat), flatten + dense (lenet1d), a last-step readout
(q10_last), causal dilated convolutions with a last-step readout (tcn_last), and logistic
regression on the flat window for reference.

Usage: PYTHONPATH=src python bench/heads.py [--sharpe 2] [--seeds 2] [--refit 126]
       [--data-seeds 0 1] [--presets q10 q10_flat ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from niftycnn.backtest.significance import diebold_mariano
from niftycnn.config import LabelsConfig, TrainConfig, WalkForwardConfig, WindowsConfig
from niftycnn.data.synthetic import simulate_market, synthetic_config
from niftycnn.models import preset
from niftycnn.walkforward import WalkForwardSplit, run_walkforward
from niftycnn.windows import build_dataset, labeler_for

MARKETS = {
    "momentum-3": {"pattern": "momentum", "lookback": 3},
    "momentum-5": {"pattern": "momentum", "lookback": 5},
    "curvature-5": {"pattern": "curvature", "lookback": 5},
    "momentum-20": {"pattern": "momentum", "lookback": 20},
}
PRESETS = ("q10", "q10_flat", "lenet1d", "q10_last", "tcn_last")


def _log_loss(rows: pd.DataFrame) -> np.ndarray:
    k = len([c for c in rows.columns if c.startswith("proba_")])
    p = rows[[f"proba_{j}" for j in range(k)]].to_numpy(float)
    y = rows["y_true"].to_numpy(np.int64)
    return -np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0))


def scores(predictions: pd.DataFrame) -> pd.DataFrame:
    """gain, share of the oracle's gain and DM p vs majority, per model."""
    rows = predictions[predictions["y_true"] >= 0]
    loss = {m: _log_loss(g) for m, g in rows.groupby("model", sort=False)}
    base = loss["majority"]
    oracle_gain = base.mean() - loss["oracle"].mean()
    horizon = int(rows["horizon"].max())
    out = []
    for model, values in loss.items():
        gain = base.mean() - values.mean()
        p = diebold_mariano(values, base, horizon).p_less if model != "majority" else np.nan
        out.append({"model": model, "log_loss": values.mean(), "gain": gain,
                    "share": gain / oracle_gain, "p": p})  # fmt: skip
    return pd.DataFrame(out)


def run_cell(market: str, name: str, data_seed: int, args: argparse.Namespace) -> pd.DataFrame:
    cfg = synthetic_config(
        args.days, start="2007-01-02", oracle_sharpe=args.sharpe, **MARKETS[market]
    )
    frame = simulate_market(cfg, data_seed).frame
    labels = LabelsConfig(
        target="horizon", horizon=args.horizon, mode="volatility", classes=args.classes
    )
    ds = build_dataset(frame, WindowsConfig(features=tuple(args.features)), labels)
    wf = WalkForwardConfig(min_train=750, refit="every", refit_every=args.refit)
    train = TrainConfig(epochs=30, lr=0.01, patience=6, seeds=args.seeds)
    arch = preset(name, n_classes=args.classes)
    pred = run_walkforward(
        ds, arch, WalkForwardSplit.from_config(wf, ds.end_dates), train, seed=data_seed,
        labeler=labeler_for(labels), baselines=["majority", "logistic", "oracle"],
        progress=False, synthetic=cfg,
    )  # fmt: skip
    return scores(pred).assign(market=market, preset=name, data_seed=data_seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sharpe", type=float, default=2.0)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--refit", type=int, default=126)
    parser.add_argument("--data-seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--markets", nargs="+", default=list(MARKETS))
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--horizon", type=int, default=1, help="label horizon in sessions")
    parser.add_argument("--days", type=int, default=2500)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--features", nargs="+", default=["open", "high", "low", "close", "volume"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tables = []
    for market in args.markets:
        for name in args.presets:
            for data_seed in args.data_seeds:
                start = time.perf_counter()
                table = run_cell(market, name, data_seed, args)
                seconds = time.perf_counter() - start
                tables.append(table.assign(seconds=seconds))
                t = table.set_index("model")
                shares = " ".join(f"{m} {t.loc[m, 'share']:+.2f} (p {t.loc[m, 'p']:.3f})"
                                  for m in ("cnn", "logistic") )  # fmt: skip
                print(f"{market:12s} {name:9s} seed {data_seed}: {shares}; oracle gain "
                      f"{t.loc['oracle', 'gain']:.4f} p {t.loc['oracle', 'p']:.3f} "
                      f"({seconds:.0f} s)", flush=True)  # fmt: skip
    table = pd.concat(tables)
    cnn = table[table["model"] == "cnn"]
    ref = table[table["model"].isin(["logistic", "oracle"]) & (table["preset"] == args.presets[0])]
    summary = pd.concat(
        [cnn.assign(head=cnn["preset"]), ref.assign(head=ref["model"])]
    ).pivot_table(index="head", columns="market", values=["share", "p"], aggfunc="median")
    print(f"\nmedian over data seeds {args.data_seeds}, oracle Sharpe {args.sharpe}:")
    print(summary.round(3).to_string())


if __name__ == "__main__":
    main()
