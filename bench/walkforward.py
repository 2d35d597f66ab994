"""Benchmark: batched vs sequential walk-forward engines, measured in one process.

Data: the real NIFTY 50 history at ../shared/data/nifty50_yahoo_daily.csv (resolved from
the repository root, or under $NIFTYCNN_SHARED_DATA as the tests read it; falls back to
4,200 synthetic days), read by the data layer. Windows:
5 features x 20 days from ``niftycnn.windows.build_dataset`` with the NIFTY weekly expiry
calendar, quantile labels refitted per fold on the training side.

Four measurements, all in this process on the same data:

1. like-for-like: the same members (every ``--ll-stride``-th fold, all seeds), the same
   number of steps (``--ll-epochs`` epochs, early stopping off), trained by the
   sequential loop and by the batched engine: seconds per model and their ratio;
2. the full walk-forward (about 150 refits x 5 seeds, q10, early stopping on) with the
   batched engine: wall time of ``run_walkforward`` (CNN + cheap baselines);
3. the sequential engine with the same early-stopping settings on every ``--stride``-th
   fold, extrapolated per model to all members (stated as such in the output);
4. the floor: the batched matmuls of one training step alone (each layer's forward,
   weight-gradient and input-gradient ``bmm`` at their real shapes, 100 members), per
   member-step. No stacked engine built from these matmuls can beat it, so it bounds the
   attainable ratio (sequential step / floor) and the full run (member-steps x floor);
   with (2) it also says how many times the floor the full run's all-in step costs.

Usage: PYTHONPATH=src python bench/walkforward.py [--folds 150] [--seeds 5] [--threads 2]
       [--sections 1,2,3,4]   (e.g. ``--sections 1,4``: like-for-like and floor, ~1 min)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from niftycnn.config import TrainConfig
from niftycnn.data import load_ohlcv
from niftycnn.models import Conv, Dense, preset, validate_architecture
from niftycnn.rundir import RunLayout
from niftycnn.walkforward.batched import train_batched
from niftycnn.walkforward.folds import prepare_fold
from niftycnn.walkforward.run import run_walkforward
from niftycnn.walkforward.splits import WalkForwardSplit
from niftycnn.walkforward.train import train_sequential
from niftycnn.windows import QuantileThresholds, build_dataset

REPO = Path(__file__).resolve().parents[1]
CANDIDATES = [
    *(
        [Path(os.environ["NIFTYCNN_SHARED_DATA"]) / "nifty50_yahoo_daily.csv"]
        if "NIFTYCNN_SHARED_DATA" in os.environ
        else []
    ),
    REPO.parent / "shared" / "data" / "nifty50_yahoo_daily.csv",
    REPO.parent.parent / "shared" / "data" / "nifty50_yahoo_daily.csv",
]


def load_frame() -> tuple[pd.DataFrame, str]:
    for path in CANDIDATES:
        if path.exists():
            frame, _ = load_ohlcv("csv", path=str(path))
            return frame, f"real NIFTY 50 ({path})"
    frame, _ = load_ohlcv("synthetic", synthetic={"n_days": 4200, "seed": 0})
    return frame, "synthetic 4,200 days (real data not found)"


def tasks_for(ds, folds, regression=False):
    data = [prepare_fold(ds, f, QuantileThresholds()) for f in folds]
    return [d.task(ds, regression, "none") for d in data]


def matmul_floor(arch, length: int, members: int = 100, batch: int = 128):
    """Seconds per member-step of a training step's batched matmuls alone: per Conv and
    Dense layer (the head too) of the validated spec, forward, weight gradient and (after
    the first layer) input gradient, at the shapes StackedNet runs them (im2col columns)."""
    shapes = []
    for step in validate_architecture(arch, 5, length):
        if isinstance(step.spec, Conv):
            (c, _), (f, lout) = step.in_shape, step.out_shape
            shapes.append((batch * lout, c // step.spec.groups * step.spec.kernel, f))
        elif isinstance(step.spec, Dense):
            shapes.append((batch, step.in_shape[0], step.out_shape[0]))
    m = members
    calls = []
    for i, (rows, k, f) in enumerate(shapes):
        calls.append((torch.randn(m, rows, k), torch.randn(m, k, f)))  # forward
        calls.append((torch.randn(m, k, rows), torch.randn(m, rows, f)))  # weight gradient
        if i > 0:
            calls.append((torch.randn(m, rows, f), torch.randn(m, f, k)))  # input gradient
    for a, b in calls:
        torch.bmm(a, b)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for a, b in calls:
            torch.bmm(a, b)
        best = min(best, time.perf_counter() - t0)
    return best / m


def member_steps(root: Path, folds, batch: int) -> int:
    """Training steps actually run by the CNN members (epochs from each fold's curves)."""
    total = 0
    for f in folds:
        curves = pd.read_csv(RunLayout(root).fold(f.index).curves)
        epochs = curves[curves.model == "cnn"].groupby("seed").size().sum()
        total += int(epochs) * int(np.ceil(len(f.train_idx) / batch))
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=150)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--stride", type=int, default=30, help="[3] sequential subset: every n-th fold")
    ap.add_argument("--ll-stride", type=int, default=10, help="[1] like-for-like: every n-th fold")
    ap.add_argument("--ll-epochs", type=int, default=2)
    ap.add_argument("--min-train", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=2, help="[1] alternated repetitions")
    ap.add_argument("--skip-full", action="store_true", help="skip [2] (the full run)")
    ap.add_argument("--sections", default="1,2,3,4", help="which measurements to run")
    args = ap.parse_args()
    sections = {int(s) for s in args.sections.split(",")} - ({2} if args.skip_full else set())
    torch.set_num_threads(args.threads)

    frame, source = load_frame()
    ds = build_dataset(frame)  # 20 x 5 windows, quantile classes at the next weekly expiry
    refit = int(np.ceil((len(ds) - args.min_train) / args.folds))
    splitter = WalkForwardSplit(
        mode="expanding",
        min_train_size=args.min_train,
        refit=refit,
        validation=0.2,
        purge=True,
        embargo=0,
    )
    folds = splitter.folds(ds)
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=128,
        lr=1e-3,
        weight_decay=1e-2,
        patience=args.patience,
        seeds=args.seeds,
        device="cpu",
    )
    arch = preset("q10")
    X = torch.as_tensor(ds.X)
    n_train = np.array([len(f.train_idx) for f in folds])
    print(
        f"data: {source}; {len(ds)} windows 5x20, {len(folds)} folds "
        f"(refit every {refit} sessions), "
        f"{args.seeds} seeds -> {len(folds) * args.seeds} models; training samples per fold "
        f"{n_train.min()}..{n_train.max()}; torch threads {torch.get_num_threads()}"
    )
    print(f"training: {cfg}")
    got: dict[str, float] = {}
    if 1 in sections:
        got.update(like_for_like(arch, X, tasks_for(ds, folds[:: args.ll_stride]), cfg, args))
    if 2 in sections:
        got.update(full_run(ds, arch, splitter, folds, cfg))
    if 3 in sections:
        sub_tasks = tasks_for(ds, folds[:: args.stride])
        got.update(sequential_subset(arch, X, sub_tasks, cfg, args, len(folds) * args.seeds))
    if {1, 2, 3} <= sections:
        est = got["seq_per_model"] * len(folds) * args.seeds
        print(
            f"\nsummary: sequential {got['seq_per_model']:.3f} s/model (subset, extrapolated), "
            f"batched {got['full_per_model']:.3f} s/model (full run), ratio "
            f"{est / got['t_full']:.1f}x; full {len(folds)}x{args.seeds} walk-forward "
            f"{got['t_full']:.1f} s; like-for-like ratio {got['ll_ratio']:.1f}x"
        )
    if 4 in sections:
        floor_section(arch, ds.X.shape[2], got)
    sys.stdout.flush()


def like_for_like(arch, X, ll_tasks, cfg, args) -> dict[str, float]:
    """[1] the same members and steps (early stopping off), sequential vs batched."""
    ll = cfg.model_copy(update={"epochs": args.ll_epochs, "patience": 10_000})
    steps = (
        sum(int(np.ceil(len(t.train_idx) / 128)) for t in ll_tasks) * args.ll_epochs * args.seeds
    )
    # alternate the engines (B S B S ...) so load drift on this shared machine hits both
    t_bat_ll = t_seq_ll = 0.0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        train_batched(arch, X, ll_tasks, ll, 0)
        t_bat_ll += time.perf_counter() - t0
        t0 = time.perf_counter()
        train_sequential(arch, X, ll_tasks, ll, 0)
        t_seq_ll += time.perf_counter() - t0
    t_bat_ll /= args.repeat
    t_seq_ll /= args.repeat
    m = len(ll_tasks) * args.seeds
    print(
        f"\n[1] like-for-like, {m} models (every {args.ll_stride}th fold x {args.seeds} seeds), "
        f"{args.ll_epochs} epochs each, early stopping off, {steps} member-steps:"
    )
    print(
        f"    sequential {t_seq_ll / m:.3f} s/model   batched {t_bat_ll / m:.3f} s/model   "
        f"ratio {t_seq_ll / t_bat_ll:.1f}x  (batched stack of only {m} members; batched "
        f"{1e3 * t_bat_ll / steps:.3f} ms per member-step)"
    )
    return {"ll_ratio": t_seq_ll / t_bat_ll, "seq_step": t_seq_ll / steps}


def full_run(ds, arch, splitter, folds, cfg) -> dict[str, float]:
    """[2] the full walk-forward with the batched engine, all costs included."""
    n_models = len(folds) * cfg.seeds
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        pred = run_walkforward(
            ds,
            arch,
            splitter,
            cfg,
            labeler=QuantileThresholds(),
            baselines=("majority", "ridge", "momentum"),
            out=RunLayout(Path(tmp)),
            progress=False,
        )
        t_full = time.perf_counter() - t0
        n_steps = member_steps(Path(tmp), folds, cfg.batch_size)
    cnn = pred[pred.model == "cnn"]
    print(
        f"\n[2] full walk-forward, batched engine: {t_full:.1f} s wall for {n_models} models "
        f"({t_full / n_models:.3f} s/model incl. labels, baselines, predictions, fold files); "
        f"mean restored epoch {cnn.best_epoch.mean():.1f}; {n_steps} member-steps "
        f"({1e3 * t_full / n_steps:.2f} ms each, all costs included)"
    )
    for name, g in pred[pred.y_true >= 0].groupby("model"):
        print(f"    {name:10s} hit rate {(g.y_pred == g.y_true).mean():.3f}")
    return {"t_full": t_full, "full_per_model": t_full / n_models, "n_steps": n_steps}


def sequential_subset(arch, X, sub_tasks, cfg, args, n_models: int) -> dict[str, float]:
    """[3] the sequential engine with early stopping on a subset, extrapolated to
    ``n_models``."""
    m = len(sub_tasks) * args.seeds
    t0 = time.perf_counter()
    res = train_sequential(arch, X, sub_tasks, cfg, 0)
    t_seq = time.perf_counter() - t0
    t0 = time.perf_counter()
    res_b = train_batched(arch, X, sub_tasks, cfg, 0)
    t_bat_sub = time.perf_counter() - t0
    ep = np.mean([mm.epochs_run for r in res for mm in r.members])
    ep_b = np.mean([mm.epochs_run for r in res_b for mm in r.members])
    per = t_seq / m
    print(
        f"\n[3] sequential engine, early stopping on, subset of {m} models "
        f"(every {args.stride}th fold):"
        f" {per:.3f} s/model, {ep:.1f} epochs run on average (batched: {ep_b:.1f}; "
        f"batched on the same subset {t_bat_sub / m:.3f} s/model)"
    )
    est = per * n_models
    print(f"    EXTRAPOLATED sequential full run: {per:.3f} s/model x {n_models} = {est:.0f} s")
    return {"seq_per_model": per}


def floor_section(arch, length: int, got: dict[str, float]) -> None:
    """[4] the matmul floor, and what it bounds given [1] and [2] when they ran."""
    floor = matmul_floor(arch, length)
    print(
        f"\n[4] floor: the stacked step's matmuls alone take {1e3 * floor:.3f} ms per "
        "member-step (100 members)."
    )
    if "seq_step" in got:
        print(
            f"    The sequential engine takes {1e3 * got['seq_step']:.2f} ms per step [1]: even "
            f"with every other operation free, the ratio is at most {got['seq_step'] / floor:.1f}x."
        )
    if "n_steps" in got:
        n = int(got["n_steps"])
        all_in = got["t_full"] / n
        print(
            f"    The full run [2] takes at least {n * floor:.0f} s ({n} member-steps x floor); "
            f"it runs at {all_in / floor:.1f}x the floor ({1e3 * all_in:.2f} ms all-in)."
        )


if __name__ == "__main__":
    main()
