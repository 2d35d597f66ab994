"""The whole real NIFTY weekly study end to end, with its stage breakdown and peak memory.

Runs ``experiments/nifty_weekly_classification.toml`` on the shared NIFTY 50 export (or
``--csv PATH``) into a temporary directory: plan (data, windows, labels, folds and every
check), walk-forward (CNN x seeds and every baseline), backtest and significance, filter
analysis, report. Prints each stage's wall time (the run's own ``timings.json``), the
total, and the process's peak resident memory.

Usage: PYTHONPATH=src python bench/pipeline.py [--csv PATH] [--experiment PATH] [--threads 2]
    [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

from niftycnn.workflow.plan import load_experiment
from niftycnn.workflow.run import run_experiment

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NIFTYCNN_SHARED_DATA", REPO.parent / "shared" / "data"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default=str(SHARED / "nifty50_yahoo_daily.csv"))
    ap.add_argument(
        "--experiment", default=str(REPO / "experiments" / "nifty_weekly_classification.toml")
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", help="write the run directory under this folder and keep it")
    args = ap.parse_args()
    if not Path(args.csv).is_file():
        sys.exit(f"bench/pipeline.py: {args.csv} not found; pass --csv PATH")
    torch.set_num_threads(args.threads)
    experiment = load_experiment(args.experiment).with_overrides(
        data={"source": "csv", "path": args.csv}
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        layout = run_experiment(experiment, args.keep or tmp, progress=False)
        total = time.perf_counter() - t0
        stages = json.loads(layout.timings.read_text())
        if args.keep:
            print(f"run directory: {layout.root}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{Path(args.experiment).name} on {args.csv}, {args.threads} torch threads")
    for stage, seconds in stages.items():
        print(f"  {stage:12s} {seconds:8.1f} s")
    rest = total - sum(stages.values())
    print(f"  {'plan+report':12s} {rest:8.1f} s")
    print(f"  {'total':12s} {total:8.1f} s wall; peak RSS {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
