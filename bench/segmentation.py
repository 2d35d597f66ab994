"""Measurement: U-Net (``unet1d``, per-day head) against the per-day logistic baseline on
the two per-day tasks, through the experiment path (``niftycnn.run`` on
``experiments/synthetic_segmentation.toml`` and ``experiments/nifty_trend_regimes.toml``:
the run directory's ``verdict.json`` is what is printed).

    PYTHONPATH=src python bench/segmentation.py [--strengths 1.5 2 2.5 3] [--windows 6000]
        [--csv ../shared/data/nifty50_yahoo_daily.csv] [--out /tmp/segmentation]

Planted shapes: IoU of the shape's days on the last third of the generated windows, per
shape strength (the shape's height over the random walk's typical move across its days).
With ``--csv``: trend regimes (up / down / flat per day, trend scanning inside each 20-day
window) on a real daily close series: first two thirds of the windows train, the rest
(after a 19-window gap) test; per-day accuracy and per-class IoU.

Last run: see the README's "Per-day segmentation" section.
"""

from __future__ import annotations

import argparse
import time

import torch

import niftycnn
from niftycnn.rundir import RunLayout, read_json


def _line(label: str, run_root: str, seconds: float) -> None:
    entry = read_json(RunLayout(run_root).verdict)["segmentation"]
    parts = []
    for model, m in entry["models"].items():
        ious = " / ".join(f"{v['iou']:.2f}" for v in m["per_class"].values())
        parts.append(f"{model} IoU {m['iou']:.3f} (per class {ious}), accuracy {m['accuracy']:.3f}")
    print(f"{label}: " + "; ".join(parts) + f" [{seconds:.0f} s]", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--strengths", type=float, nargs="+", default=[1.5, 2.0, 2.5, 3.0])
    parser.add_argument("--windows", type=int, default=6000)
    parser.add_argument("--csv", default=None)
    parser.add_argument("--out", default="/tmp/segmentation")
    args = parser.parse_args()
    torch.set_num_threads(1)
    base = niftycnn.load_experiment("experiments/synthetic_segmentation.toml")
    for strength in args.strengths:
        experiment = base.with_overrides(
            segmentation={"strength": strength, "windows": args.windows}
        )
        start = time.perf_counter()
        run = niftycnn.run(experiment, out=args.out, progress=False)
        _line(f"planted shapes, strength {strength}", str(run.root), time.perf_counter() - start)
    if args.csv:
        regimes = niftycnn.load_experiment("experiments/nifty_trend_regimes.toml")
        regimes = regimes.with_overrides(data={"source": "csv", "path": args.csv})
        start = time.perf_counter()
        run = niftycnn.run(regimes, out=args.out, progress=False)
        _line("trend regimes", str(run.root), time.perf_counter() - start)


if __name__ == "__main__":
    main()
