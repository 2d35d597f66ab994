"""Run a whole walk-forward: folds, per-fold labels, CNN ensembles, baselines, artefacts.

Per fold, on its training side only (training samples + validation tail): the labeler
is fitted (quantile thresholds), the class mean returns (for ``r_pred``), the balanced
class weights (training samples) and, for regression, the target's mean and std.

Artefacts (``out_dir`` given), written atomically (temp file + ``os.replace``) as each
chunk of folds finishes, under ``out_dir/folds/fold_{i:04d}/``:

- ``predictions.parquet``: the fold's rows of the predictions table (written last: its
  presence marks the fold done; a rerun loads it instead of retraining);
- ``first_layer.npy``: the CNN's first-layer weights per seed, (n_seeds, F, C, k)
  (CNN baselines: ``first_layer_<name>.npy``);
- ``curves.csv``: model, seed, epoch, train_loss, val_loss;
- ``state.pt``: {model name: [state dict per seed]} of plain tensors
  (``torch.load(path, weights_only=True)``).

``out_dir/manifest.json`` records the run's settings; resuming with other settings is an
error. Extra prediction columns: ``best_epoch`` (mean over seeds of the restored epoch,
NaN for baselines).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from niftycnn.errors import ConfigError, RunDirError
from niftycnn.models import Architecture, preset
from niftycnn.walkforward.baselines import CNNBaseline, predict_baseline, resolve
from niftycnn.walkforward.batched import train_batched
from niftycnn.walkforward.predictions import prediction_columns
from niftycnn.walkforward.splits import Fold, WalkForwardSplit
from niftycnn.walkforward.train import (
    FoldResult,
    FoldTask,
    TrainConfig,
    balanced_weights,
    predict_members,
    train_sequential,
)
from niftycnn.windows.dataset import WindowDataset

DEFAULT_BASELINES: tuple[str | CNNBaseline, ...] = (
    "majority",
    "mean",
    "logistic",
    "ridge",
    "momentum",
    "fixed_kernels",
)
CLASSIFICATION_ONLY, REGRESSION_ONLY = {"majority", "logistic"}, {"mean"}
MEMBERS_PER_CHUNK = 100  # smaller stacks stay in cache: 64-128 members measured fastest


class Labeler(Protocol):
    def fit(self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> Any: ...
    def transform(
        self, y_return: np.ndarray, sigma: np.ndarray, horizon: np.ndarray
    ) -> np.ndarray: ...


def _on_fold_written(fold: int) -> None:
    """Called after each fold's artefacts are on disk (a seam for interruption tests)."""


# -- per-fold preparation ----------------------------------------------------------------
class _FoldData:
    def __init__(
        self, ds: WindowDataset, fold: Fold, labeler: Labeler | None, n_classes: int
    ) -> None:
        side = np.concatenate([fold.train_idx, fold.val_idx])
        self.fold, self.side = fold, side
        if labeler is not None:
            labeler = copy.deepcopy(labeler)  # one fitted labeler per fold
            labeler.fit(ds.y_return[side], ds.sigma[side], ds.horizon[side])
            self.labels = np.asarray(
                labeler.transform(ds.y_return, ds.sigma, ds.horizon), dtype=np.int64
            )
            self.labeler: Labeler | None = labeler
        else:
            self.labels, self.labeler = np.asarray(ds.y_class, dtype=np.int64), None
        r = ds.y_return[side]
        y = self.labels[side]
        means = np.array([r[y == k].mean() if (y == k).any() else np.nan for k in range(n_classes)])
        self.class_means = np.where(np.isnan(means), r.mean(), means)
        tr = ds.y_return[fold.train_idx]
        self.t_mean, self.t_std = float(tr.mean()), float(tr.std()) or 1.0

    def classes_of(self, r: np.ndarray, sigma: np.ndarray, horizon: np.ndarray) -> np.ndarray:
        """The class of a predicted return under this fold's thresholds (-1 if unknown),
        for samples with trailing volatility ``sigma`` and ``horizon`` days to expiry
        (volatility-scaled thresholds need both; an unlabelled sample counts 1 day)."""
        if self.labeler is None:
            return np.full(len(r), -1, dtype=np.int64)
        return np.asarray(self.labeler.transform(r, sigma, np.maximum(horizon, 1)), dtype=np.int64)

    def task(
        self, y_return: np.ndarray, regression: bool, class_weights: str, n_classes: int
    ) -> FoldTask:
        f = self.fold
        if regression:
            target = ((np.nan_to_num(y_return) - self.t_mean) / self.t_std).astype(np.float32)
            return FoldTask(f.index, f.train_idx, f.val_idx, target)
        target = np.maximum(self.labels, 0)
        w = (
            balanced_weights(self.labels[f.train_idx], n_classes)
            if class_weights == "balanced"
            else None
        )
        return FoldTask(f.index, f.train_idx, f.val_idx, target, w)


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _normalise(frame: pd.DataFrame, n_classes: int) -> pd.DataFrame:
    """One dtype per column, so fresh and reloaded folds compare equal."""
    frame = frame[[*prediction_columns(n_classes), "best_epoch"]].copy()
    for c in ("train_start", "train_end", "expiry"):
        frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
    frame.index = pd.DatetimeIndex(frame.index).astype("datetime64[ns]").rename("date")
    for c in ("fold", "n_seeds", "horizon", "y_true", "y_pred"):
        frame[c] = frame[c].astype("int64")
    for c in ("model", "task"):
        frame[c] = frame[c].astype(str)
    floats = ["y_return", "r_pred", "best_epoch", *[c for c in frame if c.startswith("proba_")]]
    frame[floats] = frame[floats].astype("float64")
    return frame


# -- the run -------------------------------------------------------------------------------
def run_walkforward(
    dataset: WindowDataset,
    arch: Architecture,
    splitter: WalkForwardSplit,
    train_config: TrainConfig,
    labeler: Labeler | None = None,
    baselines: tuple[str | CNNBaseline, ...] = DEFAULT_BASELINES,
    out_dir: str | Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Out-of-sample predictions of the CNN (seeds averaged) and the baselines, per fold.

    Returns the predictions table (:mod:`niftycnn.walkforward.predictions`), indexed by
    the window end date, rows ordered by fold then model.
    """
    cfg = train_config
    cfg.validate()
    regression = arch.head == "regression"
    task_name = arch.head
    k = arch.n_classes
    folds = splitter.folds(dataset)
    simple, cnn_baselines = resolve(baselines)
    simple = [
        b for b in simple if b not in (REGRESSION_ONLY if not regression else CLASSIFICATION_ONLY)
    ]
    cnn_models: list[tuple[str, Architecture]] = [("cnn", arch)]
    for b in cnn_baselines:
        try:
            cnn_models.append((b.name, preset(b.preset, head=arch.head, n_classes=k)))
        except KeyError as err:
            raise ConfigError(
                f"CNN baseline {b.name!r} needs preset {b.preset!r}, which is unknown"
            ) from err
    root = Path(out_dir) if out_dir is not None else None
    if root is not None:
        _check_manifest(root, arch, splitter, cfg, baselines, dataset)
    device = cfg.torch_device()
    X = torch.as_tensor(dataset.X, device=device)
    engine = (
        functools.partial(train_batched, seed=cfg.seed)
        if cfg.engine == "batched"
        else train_sequential
    )

    frames: dict[int, pd.DataFrame] = {}
    todo: list[Fold] = []
    for f in folds:
        p = _fold_dir(root, f.index) / "predictions.parquet" if root is not None else None
        if p is not None and p.exists():
            frames[f.index] = _normalise(pd.read_parquet(p), k)
        else:
            todo.append(f)
    chunk = cfg.chunk_folds or max(1, MEMBERS_PER_CHUNK // cfg.n_seeds)
    bar = tqdm(
        total=len(folds),
        initial=len(frames),
        unit="fold",
        disable=not progress,
        desc="walk-forward",
    )
    try:
        for start in range(0, len(todo), chunk):
            part = todo[start : start + chunk]
            data = [_FoldData(dataset, f, labeler, k) for f in part]
            tasks = [d.task(dataset.y_return, regression, cfg.class_weights, k) for d in data]
            trained = {name: engine(a, X, tasks, cfg) for name, a in cnn_models}
            for i, d in enumerate(data):
                fold_results = {name: res[i] for name, res in trained.items()}
                frame = _fold_frame(
                    dataset, d, X, cnn_models, fold_results, simple, cfg, task_name, k
                )
                frames[d.fold.index] = frame
                if root is not None:
                    _write_fold(root, d.fold.index, frame, cnn_models, fold_results)
                    _on_fold_written(d.fold.index)
                bar.update(1)
    finally:
        bar.close()
    out = pd.concat([frames[f.index] for f in folds]) if frames else None
    if out is None:
        raise ConfigError("the walk-forward produced no fold")
    return out


def _fold_dir(root: Path | None, i: int) -> Path:
    assert root is not None
    return root / "folds" / f"fold_{i:04d}"


def _check_manifest(root: Path, arch, splitter, cfg, baselines, ds: WindowDataset) -> None:
    manifest = {
        "arch": repr(arch),
        "splitter": repr(splitter),
        "train_config": repr(cfg),
        "baselines": repr(tuple(baselines)),
        "n_samples": len(ds),
        "first_date": str(ds.end_dates[0]),
    }
    root.mkdir(parents=True, exist_ok=True)
    path = root / "manifest.json"
    if path.exists():
        old = json.loads(path.read_text())
        diff = [key for key in manifest if key != "n_samples" and old.get(key) != manifest[key]]
        if diff:
            raise RunDirError(
                f"{root} holds a run with other settings ({', '.join(diff)}); use a new out_dir"
            )
    text = json.dumps(manifest, indent=1)

    def write(tmp: str) -> None:
        Path(tmp).write_text(text)

    _atomic_write(path, write)


def _fold_frame(
    ds, d: _FoldData, X, cnn_models, fold_results, simple, cfg, task_name, k
) -> pd.DataFrame:
    f = d.fold
    test = f.test_idx
    rows: list[pd.DataFrame] = []

    def frame(
        model: str, task: str, proba, r_pred, n_seeds: int, best_epoch: float
    ) -> pd.DataFrame:
        n = len(test)
        if proba is not None:
            # float32 softmax averaged over seeds: renormalise so each row sums to 1 exactly
            proba = np.asarray(proba, dtype=np.float64)
            proba = proba / proba.sum(1, keepdims=True)
            y_pred = proba.argmax(1)
            if np.isnan(r_pred).all():
                r_pred = (proba * d.class_means).sum(1)  # row-wise: no shape-dependent BLAS
        else:
            y_pred = d.classes_of(r_pred, ds.sigma[test], ds.horizon[test])
        fr = pd.DataFrame(
            {
                "model": model,
                "task": task,
                "fold": f.index,
                "n_seeds": n_seeds,
                "train_start": f.train_start,
                "train_end": f.train_end,
                "expiry": ds.expiry_dates[test],
                "horizon": ds.horizon[test],
                "y_true": d.labels[test],
                "y_return": ds.y_return[test],
                "y_pred": y_pred,
                "r_pred": r_pred,
            },
            index=pd.DatetimeIndex(ds.end_dates[test], name="date"),
        )
        p = np.full((n, k), np.nan) if proba is None else proba
        for j in range(k):
            fr[f"proba_{j}"] = p[:, j]
        fr["best_epoch"] = best_epoch
        return fr

    Xt = X[torch.as_tensor(test, device=X.device)]
    for name, arch in cnn_models:
        res: FoldResult = fold_results[name]
        out = predict_members(arch, Xt, [m.state for m in res.members]).mean(0)
        be = float(np.mean([m.best_epoch for m in res.members]))
        if arch.head == "classification":
            rows.append(frame(name, task_name, out, np.full(len(test), np.nan), cfg.n_seeds, be))
        else:
            rows.append(
                frame(name, task_name, None, d.t_mean + d.t_std * out[:, 0], cfg.n_seeds, be)
            )
    side = d.side
    lab = d.labels[side]
    for b in simple:
        proba, r_pred, task = predict_baseline(
            b, ds.X[side], lab, ds.y_return[side], ds.X[test], k, _close_channel(ds)
        )
        rows.append(frame(b, task, proba, r_pred, 1, np.nan))
    return _normalise(pd.concat(rows), k)


def _close_channel(ds: WindowDataset) -> int:
    return ds.features.index("close") if "close" in ds.features else 0


def _write_fold(root: Path, i: int, frame: pd.DataFrame, cnn_models, fold_results) -> None:
    d = _fold_dir(root, i)
    d.mkdir(parents=True, exist_ok=True)
    curves, states = [], {}
    for name, _arch in cnn_models:
        res: FoldResult = fold_results[name]
        states[name] = [m.state for m in res.members]
        for s, m in enumerate(res.members):
            curves.append(m.curve.assign(model=name, seed=s))
        w = np.stack([_first_layer(m.state) for m in res.members])
        fname = "first_layer.npy" if name == "cnn" else f"first_layer_{name}.npy"
        _atomic_write(d / fname, functools.partial(_save_npy, array=w))
    cur = pd.concat(curves)[["model", "seed", "epoch", "train_loss", "val_loss"]]
    _atomic_write(d / "curves.csv", lambda tmp: cur.to_csv(tmp, index=False))
    _atomic_write(d / "state.pt", lambda tmp: torch.save(states, tmp))
    _atomic_write(d / "predictions.parquet", lambda tmp: frame.to_parquet(tmp))


def _save_npy(path: str, array: np.ndarray) -> None:
    with open(path, "wb") as fh:  # a file handle: np.save would append ".npy" to a name
        np.save(fh, array)


def _first_layer(state: dict[str, torch.Tensor]) -> np.ndarray:
    """The first Conv1d's weight (F, C, k): the first 3-D weight in the state dict."""
    for name, t in state.items():
        if name.endswith(".weight") and t.dim() == 3:
            return t.numpy()
    raise ConfigError("the network has no Conv1d layer (no 3-D weight in its state dict)")
