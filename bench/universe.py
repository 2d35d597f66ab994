"""Benchmark: a synthetic universe through the whole walk-forward, wall time and memory.

The universe of experiments/synthetic_universe.toml (market, sector and GARCH
idiosyncratic factors, listings, gaps, the planted cross-sectional momentum at oracle
Sharpe 2) at ``--symbols`` x ``--days`` (default 50 x 4,000), 5-day labels, 20-day
windows of 6 channels (OHLCV and the market), q10, pooled training with the batched
engine: ``--refits`` test blocks (default 60; ``refit_every`` is solved for it) x
``--seeds`` seeds (default 3), early stopping as in the experiment (10 epochs,
patience 3), then every baseline of the experiment and the cross-sectional evaluation.

Reported, each measured in this process: the seconds of each stage (universe, panel,
walk-forward, evaluation), the panel's size (samples, MiB of float32 windows), the peak
resident memory (``ru_maxrss``) and the CNN's long-short Sharpe and rank IC. A scaled run
(fewer symbols, days, refits or seeds) also builds the full-size panel and folds
without training them (their memory is measured) and extrapolates the walk-forward by
the ratio of training samples summed over members; the line says it is extrapolated.
Keep the members (refits x seeds) of a scaled run near the full run's: the batched
engine's cost per member-step falls as more members share a chunk.

Usage: PYTHONPATH=src python bench/universe.py [--symbols 50] [--days 4000]
    [--refits 60] [--seeds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
import warnings

import numpy as np
import torch

from niftycnn.backtest.universe import evaluate_universe
from niftycnn.config import Experiment
from niftycnn.walkforward import run_walkforward
from niftycnn.windows import labeler_for
from niftycnn.workflow.plan import Plan, load_experiment, plan_run

START = "2007-01-01"  # the NSE calendar covers 2006-12-04 on: 4,000 sessions fit
FULL = {"symbols": 50, "days": 4000, "refits": 60, "seeds": 3}


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def experiment(args: argparse.Namespace, refit_every: int) -> Experiment:
    return load_experiment("experiments/synthetic_universe.toml").with_overrides(
        data={"synthetic": {"n_symbols": args.symbols, "n_days": args.days, "start": START}},
        train={"seeds": args.seeds, "device": "cpu"},
        walkforward={"refit_every": refit_every},
    )


def refit_every_for(args: argparse.Namespace) -> int:
    """The refit interval that gives about ``args.refits`` test blocks."""
    probe = experiment(args, 21)
    usable = args.days - probe.walkforward.min_train - probe.windows.length
    return max(1, math.ceil((usable - probe.labels.horizon) / args.refits))


def member_samples(plan: Plan, seeds: int) -> int:
    """Training samples summed over the members (refits x seeds): the CNN's work."""
    return seeds * sum(len(f.train_idx) for f in plan.folds)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=FULL["symbols"])
    ap.add_argument("--days", type=int, default=FULL["days"])
    ap.add_argument("--refits", type=int, default=FULL["refits"])
    ap.add_argument("--seeds", type=int, default=FULL["seeds"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")

    exp = experiment(args, refit_every_for(args))
    t0 = time.perf_counter()
    plan = plan_run(exp)  # the universe, its checks, the panel, the folds
    t_plan = time.perf_counter() - t0
    ds = plan.dataset
    mib = ds.X.nbytes / 2**20
    print(
        f"universe {args.symbols} symbols x {args.days} days: {len(ds.X):,} samples, "
        f"windows {ds.X.shape[1:]} {ds.X.dtype} = {mib:.0f} MiB; {len(plan.folds)} refits "
        f"(refit_every {exp.walkforward.refit_every}) x {args.seeds} seeds; plan (data + "
        f"panel + folds) {t_plan:.1f} s; peak RSS so far {peak_mib():.0f} MiB",
        flush=True,
    )

    t0 = time.perf_counter()
    predictions = run_walkforward(
        ds,
        plan.architecture,
        plan.splitter,
        exp.train,
        seed=exp.seed,
        labeler=labeler_for(exp.labels),
        baselines=plan.baselines,
        progress=False,
    )
    t_wf = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = evaluate_universe(predictions, plan.closes(), exp.backtest, seed=exp.seed)
    t_eval = time.perf_counter() - t0
    cnn = result.summary.loc["cnn"]
    total = t_plan + t_wf + t_eval
    print(
        f"walk-forward (CNN + {len(plan.baselines)} baselines) {t_wf:.1f} s; evaluation "
        f"{t_eval:.1f} s; total {total:.1f} s = {total / 60:.1f} min; peak RSS "
        f"{peak_mib():.0f} MiB on {args.threads} threads",
        flush=True,
    )
    print(
        f"cnn long-short Sharpe {cnn['sharpe']:.2f} [{cnn['sharpe_low']:.2f}, "
        f"{cnn['sharpe_high']:.2f}], mean rank IC {cnn['mean_ic']:.4f} (p {cnn['ic_p']:.2g})",
        flush=True,
    )

    scaled = {k: getattr(args, k) for k in FULL} != FULL
    if scaled:
        # the full-size panel and folds (cheap: no training) for the exact ratio of
        # member x training samples and the full panel's memory
        full_args = argparse.Namespace(**{**vars(args), **FULL})
        full = plan_run(experiment(full_args, refit_every_for(full_args)))
        ratio = member_samples(full, FULL["seeds"]) / member_samples(plan, args.seeds)
        print(
            f"full size, built (not trained): {len(full.dataset.X):,} samples, windows "
            f"{full.dataset.X.nbytes / 2**20:.0f} MiB, {len(full.folds)} refits; peak RSS "
            f"with both panels {peak_mib():.0f} MiB",
            flush=True,
        )
        print(
            f"EXTRAPOLATED (not measured) to {FULL}: walk-forward about "
            f"{t_wf * ratio / 60:.0f} min = {ratio:.1f} x the members x training samples "
            "measured here, at this run's seconds per member-sample (members per chunk "
            "as here or more; epochs per member as here)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
