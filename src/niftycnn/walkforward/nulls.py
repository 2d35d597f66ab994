"""The trained null: the CNN trained on labels shuffled within the training side, through
the very same engine and recipe as the real walk-forward, ``draws`` times independently.

What training alone does to a network (towards high-variance input directions, whatever
the labels) is in this null; a learned pattern is only evidence where the real labels
move the network further than shuffled ones do (``niftycnn.filters`` tests against it).

Why several draws: every real network of a run fits the *same* labels, so whatever those
labels' noise does to the networks is shared by all of them (folds overlap, seeds share
data); many networks trained on one shuffle cannot tell that shared part from a pattern
(measured: one shuffle, 16 pairs, a pattern-free market named momentum at p < 0.01). Each
draw is one permutation of the labels over the union of the chosen folds' training sides
(training + validation positions), the same for those folds, so a draw is a replicate of
the whole run; its members use the real run's seed index 0, so every draw starts from the
real seed-0 members' initial weights.
"""

from __future__ import annotations

import numpy as np
import torch

from niftycnn.config import TrainConfig
from niftycnn.models import Architecture
from niftycnn.walkforward.batched import train_batched
from niftycnn.walkforward.folds import prepare_fold
from niftycnn.walkforward.splits import Fold
from niftycnn.walkforward.train import FoldTask, torch_device, train_sequential
from niftycnn.windows import Labeler, WindowDataset

SHUFFLE_STREAM = 7_919  # a fixed offset: the shuffles' seeds differ from every member's
States = dict[int, dict[int, dict[str, torch.Tensor]]]  # {draw: {fold: state dict}}


def null_folds(folds: list[Fold], n: int) -> list[Fold]:
    """``n`` folds spread evenly over the walk-forward, always with the last one."""
    if n >= len(folds):
        return list(folds)
    picks = np.unique(np.round(np.linspace(len(folds) - 1, 0, n)).astype(int))
    return [folds[i] for i in sorted(picks)]


def shuffled_tasks(
    ds: WindowDataset,
    folds: list[Fold],
    labeler: Labeler | None,
    regression: bool,
    class_weights: str,
    seed: int,
    draw: int,
) -> list[FoldTask]:
    """Each fold's task with its targets permuted by draw ``draw``'s shuffle."""
    data = [prepare_fold(ds, f, labeler) for f in folds]
    tasks = [d.task(ds, regression, class_weights) for d in data]
    sides = np.unique(np.concatenate([d.side for d in data])) if data else np.zeros(0, int)
    rng = np.random.default_rng([seed, SHUFFLE_STREAM, draw])
    source = sides[rng.permutation(len(sides))]
    for task in tasks:
        target = task.target.copy()
        target[sides] = task.target[source]
        task.target = target
    return tasks


def train_shuffled_nulls(
    ds: WindowDataset,
    arch: Architecture,
    folds: list[Fold],
    train: TrainConfig,
    draws: int,
    *,
    seed: int = 0,
    labeler: Labeler | None = None,
) -> States:
    """{draw: {fold: state dict}}: one network per fold and draw, shuffled labels."""
    engine = train_batched if train.engine == "batched" else train_sequential
    one = train.model_copy(update={"seeds": 1})
    regression = arch.head == "regression"
    tasks = [
        (k, t)
        for k in range(draws)
        for t in shuffled_tasks(ds, folds, labeler, regression, train.class_weights, seed, k)
    ]
    X = torch.as_tensor(ds.X, device=torch_device(train.device))
    chunk = train.chunk_folds or 100
    out: States = {k: {} for k in range(draws)}
    for start in range(0, len(tasks), chunk):
        part = tasks[start : start + chunk]
        results = engine(arch, X, [t for _, t in part], one, seed)
        for (k, task), result in zip(part, results, strict=True):
            out[k][task.fold] = result.members[0].state
    return out
