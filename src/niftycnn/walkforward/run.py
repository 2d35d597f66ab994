"""Run a whole walk-forward: folds, per-fold labels, CNN ensembles, baselines, artefacts.

Folds are trained in chunks (the batched engine stacks a chunk's members). With a run
layout, each fold's artefacts are written as its chunk finishes (``RunLayout.fold``):
predictions (written last: their presence marks the fold done, and a rerun loads them
instead of retraining), first-layer weights per seed, training curves, and the weights
(``state.pt``: {model: [state dict per seed]} of plain tensors). ``manifest.json``
records the walk-forward's settings; resuming with other settings is an error.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from niftycnn.config import SyntheticConfig, TrainConfig
from niftycnn.errors import RunDirError, TrainingError, UnsafeFileError
from niftycnn.models import Architecture
from niftycnn.rundir import (
    FoldLayout,
    RunLayout,
    read_json,
    read_npy,
    read_tensors,
    write_csv,
    write_json,
    write_npy,
    write_parquet,
    write_tensors,
)
from niftycnn.schema import conform
from niftycnn.walkforward.baselines import (
    check_baselines,
    cnn_baselines,
    default_baselines,
    estimators,
)
from niftycnn.walkforward.batched import train_batched
from niftycnn.walkforward.folds import FoldData, fold_rows, prepare_fold
from niftycnn.walkforward.linear import Solution, WarmStartable
from niftycnn.walkforward.splits import Fold, Splitter, WalkForwardSplit
from niftycnn.walkforward.train import (
    FoldResult,
    engine_for,
    predict_members,
    torch_device,
    train_sequential,
)
from niftycnn.windows import Labeler, WindowDataset

MEMBERS_PER_CHUNK = 100  # smaller stacks stay in cache: 64-128 members measured fastest


def _on_fold_written(fold: int) -> None:
    """Called after each fold's artefacts are on disk (a seam for interruption tests)."""


def run_walkforward(
    dataset: WindowDataset,
    arch: Architecture,
    splitter: Splitter,
    train: TrainConfig,
    *,
    seed: int = 0,
    labeler: Labeler | None = None,
    baselines: Sequence[str] | None = None,
    out: RunLayout | None = None,
    progress: bool = True,
    synthetic: SyntheticConfig | None = None,
) -> pd.DataFrame:
    """Out-of-sample predictions of the CNN (seeds averaged) and the baselines, per fold
    (a walk-forward refit or a CPCV split: ``splitter.folds(dataset)``).

    ``baselines``: names from ``niftycnn.walkforward.baselines.BASELINES`` (default: every
    one that fits the head and the features; the cross-sectional rules for a panel).
    A panel (``niftycnn.windows.build_panel``) pools every symbol's samples in each
    fold's training side; its rows carry their symbol. ``synthetic``: the planted market's
    table, which the ``oracle`` baseline reads. Returns the predictions table
    (:mod:`niftycnn.schema`), indexed by the window end date, rows ordered by fold, model;
    under CPCV a date recurs once per path (the ``path`` column).
    """
    if baselines is None:
        baselines = default_baselines(arch.head, dataset.features, dataset.is_panel)
    check_baselines(baselines, arch.head, dataset.features)
    if arch.head == "classification" and arch.n_classes != dataset.n_classes:
        raise TrainingError(
            f"the network predicts {arch.n_classes} classes but the labels have "
            f"{dataset.n_classes}; set [model] n_classes to [labels] classes"
        )
    networks = [("cnn", arch), *cnn_baselines(baselines, arch.head, dataset.n_classes)]
    folds = splitter.folds(dataset)
    if out is not None:
        _check_manifest(out, arch, splitter, train, seed, baselines, dataset)
    X = torch.as_tensor(dataset.X, device=torch_device(train.device))
    nets = [n for n, _ in networks]
    models = nets + [n for n in baselines if n not in nets]
    frames = {f.index: _load_fold(out, f, dataset, nets, models) for f in folds}
    warm = WarmStarts(folds, out, enabled=isinstance(splitter, WalkForwardSplit))
    todo = [f for f in folds if frames[f.index] is None]
    chunk = train.chunk_folds or max(1, MEMBERS_PER_CHUNK // train.seeds)
    bar = tqdm(
        total=len(folds),
        initial=len(folds) - len(todo),
        unit="fold",
        disable=not progress,
        desc="walk-forward",
    )
    try:
        for start in range(0, len(todo), chunk):
            for index, frame in _run_chunk(
                dataset,
                X,
                todo[start : start + chunk],
                networks,
                baselines,
                train,
                seed,
                labeler,
                out,
                warm,
                synthetic,
            ):
                frames[index] = frame
                bar.update(1)
    finally:
        bar.close()
    return pd.concat([frames[f.index] for f in folds])


def _run_chunk(
    ds: WindowDataset,
    X: torch.Tensor,
    part: list[Fold],
    networks: list[tuple[str, Architecture]],
    baselines: Sequence[str],
    train: TrainConfig,
    seed: int,
    labeler: Labeler | None,
    out: RunLayout | None,
    warm: WarmStarts,
    synthetic: SyntheticConfig | None = None,
) -> list[tuple[int, pd.DataFrame]]:
    """Train one chunk of folds: every network as one engine call, then the baselines."""
    engines = {"batched": train_batched, "sequential": train_sequential}
    data = [prepare_fold(ds, f, labeler) for f in part]
    regression = networks[0][1].head == "regression"
    tasks = [d.task(ds, regression, train.class_weights) for d in data]
    trained = {
        name: engines[engine_for(a, X, train)](a, X, tasks, train, seed) for name, a in networks
    }
    done = []
    for i, d in enumerate(data):
        results = {name: res[i] for name, res in trained.items()}
        start = warm.before(d.fold.index)
        frame, solved = _fold_frame(ds, d, X, networks, results, baselines, start, synthetic)
        warm.record(d.fold.index, solved)
        if out is not None:
            _write_fold(out, d.fold.index, frame, results, solved)
            _on_fold_written(d.fold.index)
        done.append((d.fold.index, frame))
    return done


def _fold_frame(
    ds: WindowDataset,
    d: FoldData,
    X: torch.Tensor,
    networks: list[tuple[str, Architecture]],
    results: dict[str, FoldResult],
    baselines: Sequence[str],
    warm: dict[str, Solution],
    synthetic: SyntheticConfig | None = None,
) -> tuple[pd.DataFrame, dict[str, Solution]]:
    """The fold's rows of the predictions table: every network, then every estimator;
    and the convex estimators' solutions (started from ``warm``, the previous fold's)."""
    test = d.fold.test_idx
    nan = np.full(len(test), np.nan)
    Xt = X[torch.as_tensor(test, device=X.device)]
    rows = []
    for name, arch in networks:
        members = results[name].members
        out = predict_members(arch, Xt, [m.state for m in members]).mean(0)
        best = float(np.mean([m.best_epoch for m in members]))
        if arch.head == "classification":
            rows.append(fold_rows(ds, d, name, arch.head, out, nan, len(members), best))
        else:
            r_pred = d.target_mean + d.target_std * out[:, 0]
            rows.append(fold_rows(ds, d, name, arch.head, None, r_pred, len(members), best))
    # One BLAS / OpenMP thread: these fits are small, and spinning worker threads that
    # share the cores with torch's made lbfgs 2-40x slower (bench/baselines.py).
    solved: dict[str, Solution] = {}
    with threadpool_limits(limits=1):
        for name, estimator in estimators(baselines, ds.features, synthetic):
            if isinstance(estimator, WarmStartable):
                if name in warm:
                    estimator.warm_start(warm[name])
            estimator.fit(ds.X[d.side], d.labels[d.side], ds.y_return[d.side], ds.n_classes)
            if isinstance(estimator, WarmStartable):
                solved[name] = estimator.solution()
            proba, r_pred = estimator.predict(ds.X[test])
            rows.append(fold_rows(ds, d, name, estimator.task, proba, r_pred, 1, np.nan))
    return pd.concat(rows), solved


class WarmStarts:
    """Where each fold's convex baselines start: the previous fold's solutions.

    Only for walk-forward folds, whose previous fold is earlier in time (its solution
    fitted on data no later than this fold's training side, expanding or rolling), so truncating
    the data changes no earlier start and leaves earlier predictions bit for bit; CPCV
    splits start cold. A fold finished on disk gives its stored solutions (``state.pt``),
    so a resumed run starts every fold where an uninterrupted run does.
    """

    def __init__(self, folds: Sequence[Fold], out: RunLayout | None, enabled: bool) -> None:
        pairs = itertools.pairwise(folds)
        self.previous = {f.index: p.index for p, f in pairs} if enabled else {}
        self.out = out
        self.solved: dict[int, dict[str, Solution]] = {}

    def before(self, fold: int) -> dict[str, Solution]:
        prev = self.previous.get(fold)
        if prev is None:
            return {}
        if prev not in self.solved and self.out is not None:
            self.solved[prev] = stored_solutions(self.out.fold(prev))
        return self.solved.pop(prev, {})  # each solution starts one fold

    def record(self, fold: int, solved: dict[str, Solution]) -> None:
        self.solved[fold] = solved


def stored_solutions(layout: FoldLayout) -> dict[str, Solution]:
    """The convex baselines' solutions a finished fold stored (none in older runs)."""
    if not layout.state.is_file():
        return {}
    states = read_tensors(layout.state)
    return {
        name: {key: t.numpy() for key, t in value[0].items()}
        for name, value in states.items()
        if len(value) == 1 and set(value[0]) == {"coef", "intercept", "classes"}
    }


def _load_fold(
    out: RunLayout | None,
    fold: Fold,
    ds: WindowDataset,
    networks: Sequence[str],
    models: Sequence[str],
) -> pd.DataFrame | None:
    """A finished fold's predictions, or None when it has to be trained: not finished, or
    finished but some file does not read back (a warning says which; the fold's done
    marker is removed, so an interrupted retraining is not taken for done). A file that
    holds Python objects is an error (``UnsafeFileError``), never loaded."""
    if out is None or not out.fold(fold.index).predictions.is_file():
        return None
    layout = out.fold(fold.index)
    try:
        return _read_fold(layout, fold, ds, networks, models)
    except UnsafeFileError:
        raise
    except (RunDirError, OSError, ValueError, KeyError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        warnings.warn(
            f"{layout.dir} is incomplete ({message}); training fold {fold.index} again",
            stacklevel=4,
        )
        layout.predictions.unlink(missing_ok=True)
        return None


def _read_fold(
    layout: FoldLayout,
    fold: Fold,
    ds: WindowDataset,
    networks: Sequence[str],
    models: Sequence[str],
) -> pd.DataFrame:
    """Every file of a finished fold, read back and checked against the fold."""
    try:
        frame = conform(pd.read_parquet(layout.predictions), ds.n_classes)
    except Exception as exc:  # pyarrow raises many types on a truncated file
        raise RunDirError(f"{layout.predictions} does not read back ({exc})") from None
    expected = ds.end_dates[fold.test_idx]
    for name in models:
        rows = frame[frame["model"] == name]
        if len(rows) != len(expected) or not rows.index.equals(expected):
            raise RunDirError(f"{layout.predictions} lacks the {name!r} rows of the test block")
    states = read_tensors(layout.state)
    for name in networks:
        if not isinstance(states, dict) or name not in states:
            raise RunDirError(f"{layout.state} has no {name!r} weights")
        read_npy(layout.first_layer(name))
    pd.read_csv(layout.curves)
    return frame


def _check_manifest(
    out: RunLayout,
    arch: Architecture,
    splitter: Splitter,
    train: TrainConfig,
    seed: int,
    baselines: Sequence[str],
    ds: WindowDataset,
) -> None:
    manifest = {
        "arch": repr(arch),
        "splitter": repr(splitter),
        "train_config": repr(train),
        "seed": seed,
        "baselines": repr(tuple(baselines)),
        "n_samples": len(ds),
        "first_date": str(ds.end_dates[0]),
    }
    if out.manifest.exists():
        old = read_json(out.manifest)
        diff = [key for key in manifest if key != "n_samples" and old.get(key) != manifest[key]]
        if diff:
            raise RunDirError(
                f"{out.root} holds a run with other settings ({', '.join(diff)}); "
                "use a new output directory"
            )
    write_json(out.manifest, manifest)


def _write_fold(
    out: RunLayout,
    index: int,
    frame: pd.DataFrame,
    results: dict[str, FoldResult],
    solved: dict[str, Solution],
) -> None:
    fold = out.fold(index)
    curves, states = [], {}
    for name, res in results.items():
        states[name] = [m.state for m in res.members]
        curves += [m.curve.assign(model=name, seed=s) for s, m in enumerate(res.members)]
        write_npy(fold.first_layer(name), np.stack([first_layer_of(m.state) for m in res.members]))
    table = pd.concat(curves)[["model", "seed", "epoch", "train_loss", "val_loss"]]
    write_csv(fold.curves, table, index=False)
    for name, solution in solved.items():  # where the next fold's fit starts (resume)
        states[name] = [{key: torch.from_numpy(np.asarray(v)) for key, v in solution.items()}]
    write_tensors(fold.state, states)
    write_parquet(fold.predictions, frame)  # last: marks the fold done


def first_layer_of(state: dict[str, Any]) -> np.ndarray:
    """The first conv's weight: (F, C, k) of a Conv1d, (F, C, kh, kw) of a Conv2d (an image
    network's), the first 3-D or 4-D weight in the state dict."""
    for name, t in state.items():
        if name.endswith(".weight") and t.dim() in (3, 4):
            return np.asarray(t.numpy())
    raise TrainingError("the network has no Conv1d layer (no 3-D weight in its state dict)")
