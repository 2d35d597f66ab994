"""Training a per-step network on per-day masks, its predictions, and the per-day
logistic baseline it must beat.

The recipe is the walk-forward trainer's (``niftycnn.config.TrainConfig``: AdamW, ``lr``,
``weight_decay``, ``batch_size``, ``epochs``, early stopping with ``patience`` on a
chronological validation tail, the best weights restored; member seeds from
``niftycnn.walkforward.train``), with the cross-entropy taken over every day.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits
from torch import nn

from niftycnn.config import TrainConfig
from niftycnn.errors import SegmentationError
from niftycnn.files import atomic_write
from niftycnn.models import Architecture
from niftycnn.walkforward.train import BatchStream, init_member


def _check(arch: Architecture, X: np.ndarray, mask: np.ndarray) -> None:
    if arch.head != "segmentation":
        raise SegmentationError(
            f"{arch.name} has a {arch.head} head; a per-day task needs head = 'segmentation'"
        )
    if X.ndim != 3 or mask.shape != (X.shape[0], X.shape[2]):
        raise SegmentationError(
            f"windows {X.shape} and masks {mask.shape} do not match; give X as (N, C, L) "
            "and one class per day, (N, L)"
        )
    if mask.min() < 0 or mask.max() >= arch.n_classes:
        raise SegmentationError(
            f"mask classes run from {mask.min()} to {mask.max()} but {arch.name} predicts "
            f"{arch.n_classes}; set n_classes to the number of day classes"
        )


def _loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = model(X)  # (B, L, K)
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def train_segmenter(
    arch: Architecture,
    X: np.ndarray,
    mask: np.ndarray,
    cfg: TrainConfig,
    seed: int = 0,
    validation: float = 0.15,
    member: int = 0,
) -> nn.Module:
    """A network with a segmentation head trained on windows X (N, C, L) and their masks
    (N, L); the last ``validation`` share of the rows (they are in time order) is the
    early-stopping tail. ``member``: which of a run's seeds (its initialisation and
    minibatch order). Returned in eval mode."""
    _check(arch, X, mask)
    n = X.shape[0]
    n_val = round(validation * n)
    model = init_member(arch, X.shape[1], X.shape[2], seed, 0, member)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(mask, dtype=torch.int64)
    stream = BatchStream(np.arange(n - n_val), cfg.batch_size, seed, 0, member)
    best, bad = math.inf, 0
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    for _ in range(cfg.epochs):
        model.train()
        for batch in stream.epoch():
            b = torch.as_tensor(batch)
            loss = _loss(model, Xt[b], yt[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if n_val == 0:
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
            continue
        model.eval()
        with torch.no_grad():
            val = float(_loss(model, Xt[n - n_val :], yt[n - n_val :]))
        if val < best - cfg.min_delta:
            best, bad = val, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    model.load_state_dict(best_state)
    return model.eval()


def predict_segments(model: nn.Module, X: np.ndarray, batch: int = 1024) -> np.ndarray:
    """The most probable class of every day, (N, C, L) -> (N, L)."""
    model.eval()
    Xt = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        outs = [model(Xt[i : i + batch]).argmax(-1) for i in range(0, len(Xt), batch)]
    return torch.cat(outs).numpy().astype(np.int64)


def segment_probabilities(model: nn.Module, X: np.ndarray, batch: int = 1024) -> np.ndarray:
    """Every day's class probabilities, (N, C, L) -> (N, L, K)."""
    model.eval()
    Xt = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        outs = [model(Xt[i : i + batch]).softmax(-1) for i in range(0, len(Xt), batch)]
    return torch.cat(outs).double().numpy()


def day_features(X: np.ndarray) -> np.ndarray:
    """Each day's own channel values as one row: (N, C, L) -> (N * L, C)."""
    return np.asarray(X).transpose(0, 2, 1).reshape(-1, X.shape[1])


def fit_per_day_logistic(
    X_train: np.ndarray, mask_train: np.ndarray, X_test: np.ndarray
) -> np.ndarray:
    """The per-day baseline: logistic regression of a day's class on that day's own
    features (``day_features``), fitted on the training windows; test masks (N, L)."""
    n_classes = int(np.asarray(mask_train).max()) + 1
    return per_day_logistic_proba(X_train, mask_train, X_test, n_classes).argmax(-1)


def per_day_logistic_proba(
    X_train: np.ndarray, mask_train: np.ndarray, X_test: np.ndarray, n_classes: int
) -> np.ndarray:
    """The per-day baseline's class probabilities (N, L, ``n_classes``); a class absent
    from the training days gets 0."""
    with threadpool_limits(1):  # lbfgs on a small problem: one thread
        model = LogisticRegression(max_iter=1000)
        model.fit(day_features(X_train), np.asarray(mask_train).reshape(-1))
        seen = model.predict_proba(day_features(X_test))
    proba = np.zeros((len(seen), n_classes))
    proba[:, model.classes_] = seen
    return proba.reshape(X_test.shape[0], X_test.shape[2], n_classes)


def mask_figure(
    X: np.ndarray,
    true: np.ndarray,
    pred: np.ndarray,
    path: Path,
    n: int = 4,
    names: tuple[str, ...] = ("outside", "shape"),
) -> None:
    """A PNG of the first ``n`` windows' channel 0 with their true day classes (shaded
    bands) and predicted ones (dots), for the report; written atomically. With two
    classes only class 1 is drawn (shaded: true, red dots: predicted)."""
    from niftycnn.report.figures import plt, to_png

    n = min(n, len(X))
    binary = len(names) == 2
    colours = (
        ["tab:red", "tab:gray", "tab:green"]
        if len(names) == 3
        else [f"C{k % 10}" for k in range(len(names))]
    )
    fig, axes = plt.subplots(n, 1, figsize=(7, 1.6 * n), sharex=True, squeeze=False)
    days = np.arange(X.shape[2])
    for i, ax in enumerate(axes[:, 0]):
        ax.plot(days, X[i, 0], color="black", lw=1)
        for k in range(1, 2) if binary else range(len(names)):
            colour = "tab:blue" if binary else colours[k]
            for d in np.flatnonzero(true[i] == k):
                ax.axvspan(d - 0.5, d + 0.5, color=colour, alpha=0.2, lw=0)
            hits = np.flatnonzero(pred[i] == k)
            dot = "tab:red" if binary else colour
            ax.scatter(hits, X[i, 0, hits], color=dot, s=12, zorder=3, label=names[k])
        ax.set_ylabel(f"window {i}", fontsize=7)
    what = (
        "true days shaded, predicted days in red"
        if binary
        else ("true classes shaded, predicted as dots: " + " / ".join(names))
    )
    axes[0, 0].set_title(what, fontsize=8)
    axes[-1, 0].set_xlabel("day of window")
    png = to_png(fig)
    atomic_write(Path(path), lambda tmp: tmp.write_bytes(png))
