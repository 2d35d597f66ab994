"""Power and size of the toolkit's verdicts on planted synthetic markets.

Each cell is a planted market (pattern, lookback, channel, oracle Sharpe) or a market with
nothing planted; each of ``--seeds`` data seeds is one small run of the offline default
experiment (``experiments/synthetic_momentum.toml``: same windows, labels, network and
training recipe; a smaller market and fewer refits, ``--days`` / ``--refit`` /
``--net-seeds``), through the pipeline's own stages (walk-forward, backtest, filter
analysis with its label-shuffled null, ``verdict.json``). Per cell:

- ``dm``: share of runs where the CNN beats the majority class (one-sided
  Diebold-Mariano on log loss, p < 0.05);
- ``ek``: share of runs where the effective-kernel verdict names the planted pattern on
  the planted channel (Holm-adjusted p < ``[filters] alpha`` = 0.05), ``ek01`` the same
  at p < 0.01; with nothing planted, the share naming *any* pattern (the false-positive
  rate);
- ``oracle_gain``: the oracle's log-loss gain over the majority class (nats; what the
  labels allow at all), ``captured``: the CNN's share of it (``verdict.json`` oracle).

Usage: PYTHONPATH=src python bench/power.py [--seeds 20] [--cells default] [--out power.csv]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from niftycnn.rundir import RunLayout
from niftycnn.workflow import stages
from niftycnn.workflow.plan import check_experiment, load_experiment, plan_run
from niftycnn.workflow.verdict import verdict_stage

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "synthetic_momentum.toml"
# (pattern, lookback, channel, oracle Sharpe)
GRIDS = {
    "default": [("none", 5, "close", 0.0)] + [("momentum", 5, "close", s) for s in (3.0, 2.0, 1.0)],
    "size": [("none", 5, "close", 0.0)],
    "sharpe2": [("momentum", 5, "close", 2.0)],
    "curvature20": [("curvature", 20, "close", 3.0)],
    "truth": [  # the ground-truth cases of tests/workflow/test_ground_truth.py
        ("none", 5, "close", 0.0),
        ("momentum", 5, "close", 2.0),
        ("curvature", 5, "close", 3.0),
        ("momentum", 5, "volume", 3.0),
        ("momentum", 20, "close", 3.0),
    ],
    "local": [("curvature", 5, "close", 3.0), ("momentum", 5, "volume", 3.0)],
    "window": [("momentum", 20, "close", 3.0), ("curvature", 20, "close", 3.0)],
    "patterns": [
        ("momentum", 20, "close", 3.0),
        ("curvature", 5, "close", 3.0),
        ("curvature", 20, "close", 3.0),
        ("momentum", 5, "volume", 3.0),
    ],
}


def run_once(cell: tuple[str, int, str, float], seed: int, args: argparse.Namespace) -> dict:
    pattern, lookback, channel, sharpe = cell
    base = load_experiment(EXPERIMENT)
    experiment = check_experiment(
        base.with_overrides(
            seed=seed,
            data={
                "synthetic": {
                    "n_days": args.days,
                    "pattern": pattern,
                    "lookback": lookback,
                    "channel": channel,
                    "oracle_sharpe": sharpe,
                }
            },
            train={"seeds": args.net_seeds},
            walkforward={"min_train": args.min_train, "refit_every": args.refit},
            baselines={"models": ["majority"]},
            backtest={"bootstrap": 100, "permutations": 100},
            filters={"null_draws": 100, "untrained_networks": 64},
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        layout = RunLayout(Path(tmp))
        plan = plan_run(experiment)
        stages.data_stage(layout, plan)
        predictions = stages.walkforward_stage(layout, plan, progress=False)
        stages.backtest_stage(layout, plan, predictions, progress=False)
        stages.filters_stage(layout, plan)
        verdict = verdict_stage(layout, experiment)
    dm = {c["baseline"]: c for c in verdict["comparisons"]}
    entry = next((e for e in verdict["filters"] if e["channel"] == channel), None)
    kernel = (entry or {}).get("effective_kernel") or {}
    best = verdict.get("effective_kernel") or {}
    if pattern == "none":
        named, p = best.get("pattern", "neither") != "neither", best.get("p")
    else:
        named, p = kernel.get("pattern") == pattern, kernel.get("p")
    return {
        "dm": bool(dm["majority"]["p"] < 0.05),
        "ek": bool(named),
        "ek01": bool(named and p is not None and p < 0.01),
        "oracle_gain": (verdict.get("oracle") or {}).get("gain"),
        "captured": ((verdict.get("oracle") or {}).get("captured") or {}).get("cnn"),
        "named": f"{best.get('pattern')} {best.get('view')} {best.get('span')}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--cells", nargs="+", default=["default"], choices=list(GRIDS))
    parser.add_argument("--days", type=int, default=1500)
    parser.add_argument("--min-train", type=int, default=750)
    parser.add_argument("--refit", type=int, default=189)
    parser.add_argument("--net-seeds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="CSV of every run")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for grid in args.cells:
        for cell in GRIDS[grid]:
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                start = time.perf_counter()
                out = run_once(cell, seed, args)
                seconds = time.perf_counter() - start
                keys = ("pattern", "lookback", "channel", "oracle_sharpe")
                rows.append({**dict(zip(keys, cell, strict=True)), "seed": seed, **out,
                             "seconds": seconds})  # fmt: skip
                print(rows[-1], flush=True)
                if args.out:
                    pd.DataFrame(rows).to_csv(args.out, index=False)
    table = pd.DataFrame(rows)
    keys = ["pattern", "lookback", "channel", "oracle_sharpe"]
    summary = table.groupby(keys, sort=False).agg(
        runs=("seed", "size"),
        dm=("dm", "mean"),
        ek=("ek", "mean"),
        ek01=("ek01", "mean"),
        oracle_gain=("oracle_gain", "mean"),
        captured=("captured", "mean"),
        seconds=("seconds", "mean"),
    )
    try:
        print(summary.round(3).to_markdown())
    except ImportError:  # to_markdown needs tabulate
        print(summary.round(3).to_string())


if __name__ == "__main__":
    main()
