"""The trained null: the CNN trained, fold by fold, on labels shuffled within the training
side, through the very same engine and recipe as the real walk-forward.

What training alone does to a network (towards high-variance input directions, whatever
the labels) is in this null; a learned pattern is only evidence where the real labels
move the network further than shuffled ones do (``niftycnn.filters`` tests against it).

The shuffle is one permutation of the labels over the union of every fold's training
side (training + validation positions), the same for every fold: an expanding walk-forward
then sees nested shuffled sides, as the real one sees nested real sides. The permuted
labels carry no relation to their windows. Member seeds are those of the real run, so a
null member starts from the same initial weights as its real twin.
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

SHUFFLE_STREAM = 7_919  # a fixed offset: the shuffle's seed differs from every member's


def shuffled_tasks(
    ds: WindowDataset,
    folds: list[Fold],
    labeler: Labeler | None,
    regression: bool,
    class_weights: str,
    seed: int,
) -> list[FoldTask]:
    """Each fold's task with its targets permuted by one shuffle of the training sides."""
    data = [prepare_fold(ds, f, labeler) for f in folds]
    tasks = [d.task(ds, regression, class_weights) for d in data]
    sides = np.unique(np.concatenate([d.side for d in data])) if data else np.zeros(0, int)
    rng = np.random.default_rng([seed, SHUFFLE_STREAM])
    source = sides[rng.permutation(len(sides))]
    for task in tasks:
        target = task.target.copy()
        target[sides] = task.target[source]
        task.target = target
    return tasks


def train_shuffled_null(
    ds: WindowDataset,
    arch: Architecture,
    folds: list[Fold],
    train: TrainConfig,
    *,
    seed: int = 0,
    labeler: Labeler | None = None,
) -> dict[int, list[dict[str, torch.Tensor]]]:
    """{fold: [state dict per seed]} of the architecture trained on shuffled labels."""
    engine = train_batched if train.engine == "batched" else train_sequential
    tasks = shuffled_tasks(ds, folds, labeler, arch.head == "regression", train.class_weights, seed)
    X = torch.as_tensor(ds.X, device=torch_device(train.device))
    chunk = train.chunk_folds or max(1, 100 // train.seeds)
    out: dict[int, list[dict[str, torch.Tensor]]] = {}
    for start in range(0, len(tasks), chunk):
        for result in engine(arch, X, tasks[start : start + chunk], train, seed):
            out[result.fold] = [m.state for m in result.members]
    return out
