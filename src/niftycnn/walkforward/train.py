"""Training one walk-forward fold's ensemble: config, member seeds, the sequential engine.

A *member* is one (fold, seed index) network. Everything random about a member — its
initial weights and its minibatch order — is derived from (config seed, fold index, seed
index) alone, so the sequential engine here and the batched engine
(:mod:`niftycnn.walkforward.batched`) reproduce each other, and a fold's result does not
depend on which other folds were trained with it (the truncation and resume invariants).

Training recipe (both engines; the knobs are ``niftycnn.config.TrainConfig``):

- AdamW (torch defaults for betas/eps), ``lr``, ``weight_decay``.
- Classification: cross-entropy, optionally with balanced class weights
  n_train / (K * count_k) from the fold's training side (0 for an absent class); the
  loss is the weighted mean, as ``F.cross_entropy(weight=)`` defines it.
- Regression: MSE on the target standardised with the training side's mean and std
  (z = (r - mean) / std); predictions are mapped back, r = mean + std * z.
- An *epoch* is per member: ceil(n_train / batch_size) steps over a fresh permutation of
  that member's own training samples; the permutation is extended cyclically to fill the
  last batch, so every step sees exactly ``batch_size`` samples.
- After each epoch the validation loss (same criterion, whole validation tail) is
  computed; training stops after ``patience`` epochs without an improvement larger than
  ``min_delta``, and the best weights are restored. Without a validation tail the member
  trains for ``epochs`` epochs and keeps its final weights.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from niftycnn.config import TrainConfig
from niftycnn.errors import TrainingError
from niftycnn.models import Architecture, build_model
from niftycnn.models.checks import Size, sample_shape


def torch_device(requested: str) -> torch.device:
    """The device of ``[train] device``: "auto" is CUDA where one is present, else CPU."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise TrainingError("[train] device = 'cuda' but no CUDA device is available; use 'auto'")
    return torch.device(requested)


@dataclass
class FoldTask:
    """What a fold's members train on: positions into X and the fold's own targets.

    ``target`` has one entry per sample of the dataset (classes as int64, or standardised
    returns as float32); only the training and validation positions are read.
    """

    fold: int
    train_idx: np.ndarray
    val_idx: np.ndarray
    target: np.ndarray
    class_weight: np.ndarray | None = None


@dataclass
class MemberResult:
    state: dict[str, torch.Tensor]
    curve: pd.DataFrame
    best_epoch: int
    epochs_run: int


@dataclass
class FoldResult:
    fold: int
    members: list[MemberResult] = field(default_factory=list)


# -- seeds ----------------------------------------------------------------------------
DROPOUT_STREAM = 2  # member_seed streams: 0 initial weights, 1 minibatches, 2 dropout


def member_seed(seed: int, fold: int, seed_index: int, stream: int) -> int:
    """A 63-bit seed for (config seed, fold, seed index, stream: 0 init, 1 batches, 2
    dropout masks: per member in the sequential engine, per stack in the batched one)."""
    state = np.random.SeedSequence([seed, fold, seed_index, stream]).generate_state(
        2, dtype=np.uint32
    )
    return int((int(state[0]) << 31) ^ int(state[1]))


def init_member(
    arch: Architecture, in_channels: int, length: Size, seed: int, fold: int, seed_index: int
) -> nn.Module:
    """The member's initial network (global torch RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(member_seed(seed, fold, seed_index, 0))
        return build_model(arch, in_channels, length)


class BatchStream:
    """A member's minibatch order: per-epoch permutations of its own training positions."""

    def __init__(
        self, train_idx: np.ndarray, batch_size: int, seed: int, fold: int, seed_index: int
    ) -> None:
        self.train_idx = np.asarray(train_idx, dtype=np.int64)
        self.batch_size = batch_size
        self.steps_per_epoch = max(1, math.ceil(len(self.train_idx) / batch_size))
        self.rng = np.random.default_rng(member_seed(seed, fold, seed_index, 1))
        self._buf = np.empty(0, dtype=np.int64)

    def epoch(self) -> np.ndarray:
        """(steps_per_epoch, batch_size) dataset positions for the next epoch."""
        perm = self.rng.permutation(len(self.train_idx))
        perm = np.resize(perm, self.steps_per_epoch * self.batch_size)  # cyclic fill
        return self.train_idx[perm].reshape(self.steps_per_epoch, self.batch_size)

    def take(self, steps: int) -> np.ndarray:
        """(steps, batch_size) positions for the next ``steps`` steps, across epochs."""
        need = steps * self.batch_size
        parts = [self._buf]
        have = len(self._buf)
        while have < need:
            e = self.epoch().ravel()
            parts.append(e)
            have += len(e)
        flat = np.concatenate(parts)
        self._buf = flat[need:]
        return flat[:need].reshape(steps, self.batch_size)


# -- losses ---------------------------------------------------------------------------
def balanced_weights(y_train: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.bincount(y_train, minlength=n_classes).astype(np.float64)
    w = np.where(counts > 0, len(y_train) / (n_classes * np.maximum(counts, 1)), 0.0)
    return w.astype(np.float32)


def member_loss(
    out: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None, regression: bool
) -> torch.Tensor:
    """Mean loss over the last-but-one axis: out (..., B, K) or (..., B, 1), y (..., B)."""
    if regression:
        return ((out[..., 0] - y) ** 2).mean(-1)
    nll = -torch.log_softmax(out, dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
    if weight is None:
        return nll.mean(-1)
    w = weight.gather(-1, y) if weight.dim() == y.dim() else weight[y]
    return (w * nll).sum(-1) / w.sum(-1)


# -- the sequential engine ------------------------------------------------------------
def as_input(x: torch.Tensor) -> torch.Tensor:
    """A batch as the network's float32 input: chart images are stored as uint8 0 / 1
    (4x smaller than float32) and cast one batch at a time."""
    return x if x.is_floating_point() else x.to(torch.float32)


def train_member(
    arch: Architecture,
    X: torch.Tensor,
    task: FoldTask,
    seed_index: int,
    cfg: TrainConfig,
    seed: int,
) -> MemberResult:
    """Train one member with a plain minibatch loop (the reference implementation);
    ``seed`` is the experiment's seed. Dropout masks come from the member's own torch
    stream (stream 2 of :func:`member_seed`; the global RNG is left as it was), so a
    member with dropout trains to the same bits whatever ran before it (truncation and
    resume hold for it too)."""
    devices = [X.device.index or 0] if X.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(member_seed(seed, task.fold, seed_index, DROPOUT_STREAM))
        return _train_member(arch, X, task, seed_index, cfg, seed)


def _train_member(
    arch: Architecture,
    X: torch.Tensor,
    task: FoldTask,
    seed_index: int,
    cfg: TrainConfig,
    seed: int,
) -> MemberResult:
    regression = arch.head == "regression"
    device = X.device
    model = init_member(arch, *sample_shape(X.shape), seed, task.fold, seed_index).to(device)
    opt = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=False
    )
    target = torch.as_tensor(task.target, device=device)
    weight = (
        None if task.class_weight is None else torch.as_tensor(task.class_weight, device=device)
    )
    stream = BatchStream(task.train_idx, cfg.batch_size, seed, task.fold, seed_index)
    val_idx = torch.as_tensor(task.val_idx, device=device)
    best = math.inf
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    best_epoch, bad, rows = -1, 0, []
    for epoch in range(cfg.epochs):
        model.train()
        total = 0.0
        for batch in stream.epoch():
            b = torch.as_tensor(batch, device=device)
            loss = member_loss(model(as_input(X[b])), target[b], weight, regression)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
        train_loss = total / stream.steps_per_epoch
        if len(val_idx) == 0:
            rows.append((epoch, train_loss, math.nan))
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best_epoch = epoch
            continue
        model.eval()
        with torch.no_grad():
            out = model(as_input(X[val_idx]))
            val_loss = float(member_loss(out, target[val_idx], weight, regression))
        rows.append((epoch, train_loss, val_loss))
        if val_loss < best - cfg.min_delta:
            best, best_epoch, bad = val_loss, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    curve = pd.DataFrame(rows, columns=["epoch", "train_loss", "val_loss"])
    return MemberResult({k: v.cpu() for k, v in best_state.items()}, curve, best_epoch, len(rows))


def train_sequential(
    arch: Architecture, X: torch.Tensor, tasks: list[FoldTask], cfg: TrainConfig, seed: int
) -> list[FoldResult]:
    """Every (task, seed index) member, one after another."""
    return [
        FoldResult(t.fold, [train_member(arch, X, t, s, cfg, seed) for s in range(cfg.seeds)])
        for t in tasks
    ]


_PREDICT_ROWS = 64


@functools.lru_cache(maxsize=16)
def _template(arch: Architecture, in_channels: int, length: Size) -> nn.Module:
    return build_model(arch, in_channels, length).eval()


def sequential_reason(arch: Architecture, in_channels: int, length: Size) -> str | None:
    """Why ``arch`` must be trained one network at a time, or None when the batched
    engine can stack it. Batch norm keeps running statistics in buffers that every
    training step updates in place: a stacked (functional) forward has nowhere to keep
    them per member, so such networks go to the sequential engine (same recipe, same
    results, slower). The batched engine stacks 1D networks only: image networks
    (``length`` an image's (height, width)) train sequentially."""
    if not isinstance(length, int):
        return "it takes chart images, and the batched engine stacks 1D networks only"
    if any(True for _ in _template(arch, in_channels, length).buffers()):
        return "it has batch norm, whose running statistics are updated in place"
    return None


def engine_for(arch: Architecture, X: torch.Tensor, cfg: TrainConfig) -> str:
    """The engine that trains ``arch``: ``[train] engine``, except that networks the
    batched engine cannot stack (:func:`sequential_reason`) train sequentially."""
    if cfg.engine == "batched" and sequential_reason(arch, *sample_shape(X.shape)) is None:
        return "batched"
    return "sequential"


def predict_members(
    arch: Architecture, X: torch.Tensor, states: list[dict[str, torch.Tensor]]
) -> np.ndarray:
    """Per-member outputs on X: class probabilities (S, N, K) or raw outputs (S, N, 1).

    X is zero-padded to a multiple of 64 rows, so a sample's output does not depend on
    how many samples are predicted with it (a test block cut by truncated data gives the
    same bits: BLAS kernels may change with the matrix shape).
    """
    n = X.shape[0]
    pad = (-n) % _PREDICT_ROWS
    if pad:
        X = torch.cat([X, X.new_zeros((pad, *X.shape[1:]))])
    model = _template(arch, *sample_shape(X.shape)).to(X.device)
    outs = []
    with torch.no_grad():
        for state in states:
            out = torch.func.functional_call(
                model, {k: v.to(X.device) for k, v in state.items()}, (as_input(X),)
            )
            outs.append(out.softmax(-1) if arch.head == "classification" else out)
    return torch.stack(outs)[:, :n].cpu().numpy().astype(np.float64)
