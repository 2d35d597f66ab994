"""Benchmark: the same 8-point sweep in this process and on a local Ray instance.

The offline default's market (experiments/synthetic_momentum.toml, ``--days`` sessions,
default 1,500) and an 8-point grid (filters 8 / 16 x kernel 3 / 5 x depth 1 / 2), each
point a walk-forward of ``--seeds`` seeds (default 2) of ``--epochs`` epochs (default 5)
refitted every 126 sessions, CNN only. First in-process, points one after another with
torch's default threads; then on Ray with ``--workers`` workers (default 2), one CPU and
one torch thread per point. Both write a run directory (in a temporary folder) and must
give the same ``sweep.csv``.

Reported: the in-process wall time, the Ray wall time with and without Ray's start-up
(``ray.init``), their ratio, and the ratio of the points alone (each run's
``timings.json``, without the data, report and start-up); the target is >= 1.7x on 2
free cores. Absolute seconds depend on the host and its load: compare within one run.

Usage: PYTHONPATH=src python bench/sweep.py [--days 1500] [--seeds 2] [--epochs 5]
    [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

from niftycnn.workflow.engine import Engine
from niftycnn.workflow.plan import load_experiment, plan_run
from niftycnn.workflow.run import run_experiment

GRID = {"filters": [8, 16], "kernel": [3, 5], "depth": [1, 2], "dropout": [0.0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=1500)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    experiment = load_experiment("experiments/synthetic_momentum.toml").with_overrides(
        data={"synthetic": {"n_days": args.days}},
        train={"seeds": args.seeds, "epochs": args.epochs, "device": "cpu"},
        walkforward={"min_train": 500, "refit": "every", "refit_every": 126},
        sweep=GRID,
    )
    folds = len(plan_run(experiment).folds)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        local = run_experiment(experiment, Path(tmp) / "local", command="sweep", progress=False)
        in_process = time.perf_counter() - started

        import ray

        started = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        ready = time.perf_counter()
        ray_dir = run_experiment(
            experiment, Path(tmp) / "ray", command="sweep", progress=False, engine=Engine("ray")
        )
        done = time.perf_counter()
        ray.shutdown()
        same = local.sweep.read_bytes() == ray_dir.sweep.read_bytes()
        stage = [json.loads(r.timings.read_text())["sweep"] for r in (local, ray_dir)]
    print(f"8 points, {folds} folds each, {args.seeds} seeds, {args.epochs} epochs")
    print(f"in-process: {in_process:.1f} s")
    ray_wall, after = done - started, done - ready
    print(f"ray, {args.workers} workers: {ray_wall:.1f} s ({after:.1f} s after start-up)")
    print(
        f"ratio: {in_process / ray_wall:.2f}x with start-up, "
        f"{in_process / after:.2f}x without; sweep.csv identical: {same}"
    )
    print(
        f"the points alone (timings.json sweep): {stage[0]:.1f} s vs {stage[1]:.1f} s, "
        f"{stage[0] / stage[1]:.2f}x"
    )


if __name__ == "__main__":
    main()
