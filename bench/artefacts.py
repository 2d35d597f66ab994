"""What the walk-forward's fold artefacts (predictions, first layers, curves, weights,
each written atomically with an fsync) cost as a share of the walk-forward, in one run.

Runs ``experiments/nifty_weekly_classification.toml`` (CNN x seeds and every baseline) on
``--folds`` consecutive folds from ``--first`` of the shared NIFTY 50 export into a
temporary run directory, timing every fold's ``_write_fold`` inside the same run.

Usage: PYTHONPATH=src python bench/artefacts.py [--first 60] [--folds 20] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

import niftycnn.walkforward.run as run_mod
from niftycnn.rundir import RunLayout
from niftycnn.walkforward.splits import Fold, Splitter
from niftycnn.windows import WindowDataset, labeler_for
from niftycnn.workflow.plan import load_experiment, plan_run

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NIFTYCNN_SHARED_DATA", REPO.parent / "shared" / "data"))


class Some:
    """``count`` consecutive folds of a splitter, from fold ``first``."""

    def __init__(self, splitter: Splitter, first: int, count: int) -> None:
        self.splitter, self.first, self.count = splitter, first, count

    def folds(self, ds: WindowDataset) -> list[Fold]:
        return self.splitter.folds(ds)[self.first : self.first + self.count]

    def __repr__(self) -> str:
        return f"Some({self.splitter!r}, {self.first}, {self.count})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default=str(SHARED / "nifty50_yahoo_daily.csv"))
    ap.add_argument("--first", type=int, default=60)
    ap.add_argument("--folds", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not Path(args.csv).is_file():
        sys.exit(f"bench/artefacts.py: {args.csv} not found; pass --csv PATH")
    torch.set_num_threads(args.threads)
    experiment = load_experiment(REPO / "experiments" / "nifty_weekly_classification.toml")
    experiment = experiment.with_overrides(data={"source": "csv", "path": args.csv})
    plan = plan_run(experiment, "bench")
    spent = [0.0]
    write = run_mod._write_fold

    def timed(*a: Any, **k: Any) -> None:
        start = time.perf_counter()
        write(*a, **k)
        spent[0] += time.perf_counter() - start

    run_mod._write_fold = timed  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_mod.run_walkforward(
            plan.dataset,
            plan.architecture,
            Some(plan.splitter, args.first, args.folds),
            experiment.train,
            seed=experiment.seed,
            labeler=labeler_for(experiment.labels),
            baselines=plan.baselines,
            out=RunLayout(tmp),
            progress=False,
        )
        total = time.perf_counter() - t0
    print(
        f"{args.folds} folds from fold {args.first}: walk-forward {total:.1f} s, fold "
        f"artefacts {spent[0]:.2f} s = {100 * spent[0] / total:.1f} % of it"
    )


if __name__ == "__main__":
    main()
