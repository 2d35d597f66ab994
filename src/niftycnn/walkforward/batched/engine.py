"""The batched engine: all members of a chunk of folds train as one stacked ensemble.

Each member (fold x seed) keeps the recipe of :mod:`niftycnn.walkforward.train` exactly —
same initial weights, same minibatch order, same per-member epochs, early stopping and
AdamW arithmetic — but one training step runs every active member at once:

- parameters live as stacked tensors (M, ...) built from the members' own initial
  state dicts, and one stacked network (:mod:`.net`) computes every member's output;
- one fused loss (the sum of the members' mean losses: member gradients stay
  independent) and one ``torch.optim.AdamW(foreach=True)`` over the stacked tensors (its
  arithmetic is the sequential engine's single-tensor AdamW, element by element);
- early stopping per member: a member that stops is *removed* from the stack (its best
  weights are saved; the parameters, the optimizer's moments and the bookkeeping are
  compacted), so finished members cost nothing.

Every member's arithmetic is independent of the other members in its stack, so a fold's
weights do not depend on which folds share its chunk (on CPU; the truncation test
checks it bit for bit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from niftycnn.config import TrainConfig
from niftycnn.models import Architecture, validate_architecture
from niftycnn.walkforward.batched.net import Params, StackedForward, StackedNet, VmapNet
from niftycnn.walkforward.train import (
    DROPOUT_STREAM,
    BatchStream,
    FoldResult,
    FoldTask,
    MemberResult,
    init_member,
    member_loss,
    member_seed,
    train_sequential,
)

Key = tuple[int, int]  # a member: (task position, seed index)
_PREFETCH = 32  # minibatches drawn per member at a time


@dataclass(frozen=True)
class _Data:
    """What every step reads: the network, the prepared dataset, every task's targets."""

    net: StackedForward
    X: Tensor  # net.prepare(X)
    targets: Tensor  # (n_tasks, N) classes (int64) or standardised returns (float32)
    regression: bool


@dataclass
class _Members:
    """The active members' bookkeeping, one row per member; rows are dropped (``keep``)
    as members finish, never added."""

    keys: list[Key]
    task_row: Tensor  # (M,) the member's task: its row of the stacked targets
    streams: list[BatchStream]
    steps_per_epoch: np.ndarray  # (M,) int64
    val_idx: Tensor  # (M, V) validation positions, zero-padded to the longest tail
    val_mask: Tensor  # (M, V) bool: False on the padding
    has_val: np.ndarray  # (M,) bool: the member's task has a validation tail
    class_weight: Tensor | None  # (M, K)
    best_val: np.ndarray  # (M,) float64, the best validation loss so far
    best_epoch: np.ndarray  # (M,) int64, the epoch whose weights are kept
    bad: np.ndarray  # (M,) int64, epochs since the last improvement
    loss_sum: Tensor  # (M,) float64, this epoch's training losses so far
    curves: list[list[tuple[int, float, float]]]  # (epoch, train loss, val loss) rows
    batches: np.ndarray  # (M, steps, B) upcoming minibatches
    batch_pos: int = 0

    @classmethod
    def start(
        cls,
        keys: list[Key],
        tasks: list[FoldTask],
        cfg: TrainConfig,
        seed: int,
        device: torch.device,
    ) -> _Members:
        streams = [
            BatchStream(tasks[ti].train_idx, cfg.batch_size, seed, tasks[ti].fold, s)
            for ti, s in keys
        ]
        vals = [tasks[ti].val_idx for ti, _ in keys]
        val_idx = np.zeros((len(keys), max(1, *map(len, vals))), dtype=np.int64)
        val_mask = np.zeros(val_idx.shape, dtype=bool)
        for i, v in enumerate(vals):
            val_idx[i, : len(v)], val_mask[i, : len(v)] = v, True
        weights = [tasks[ti].class_weight for ti, _ in keys]
        m = len(keys)
        return cls(
            keys=keys,
            task_row=torch.as_tensor([ti for ti, _ in keys], device=device),
            streams=streams,
            steps_per_epoch=np.array([s.steps_per_epoch for s in streams], dtype=np.int64),
            val_idx=torch.as_tensor(val_idx, device=device),
            val_mask=torch.as_tensor(val_mask, device=device),
            has_val=np.array([len(v) > 0 for v in vals]),
            class_weight=None
            if weights[0] is None
            else torch.stack([torch.as_tensor(w) for w in weights]).to(device),
            best_val=np.full(m, math.inf),
            best_epoch=np.full(m, -1),
            bad=np.zeros(m, dtype=np.int64),
            loss_sum=torch.zeros(m, dtype=torch.float64, device=device),
            curves=[[] for _ in range(m)],
            batches=np.empty((m, 0, 0), dtype=np.int64),
        )

    def next_batch(self) -> np.ndarray:
        """(M, B) dataset positions of every member's next minibatch."""
        if self.batch_pos >= self.batches.shape[1]:
            self.batches = np.stack([s.take(_PREFETCH) for s in self.streams])
            self.batch_pos = 0
        self.batch_pos += 1
        return self.batches[:, self.batch_pos - 1]

    def keep(self, rows: np.ndarray) -> None:
        """Drop every member but those at ``rows``."""
        t = torch.as_tensor(rows, device=self.val_idx.device)
        self.keys = [self.keys[i] for i in rows]
        self.streams = [self.streams[i] for i in rows]
        self.curves = [self.curves[i] for i in rows]
        self.task_row, self.val_idx, self.val_mask = (
            self.task_row[t],
            self.val_idx[t],
            self.val_mask[t],
        )
        self.class_weight = None if self.class_weight is None else self.class_weight[t]
        self.loss_sum = self.loss_sum[t]
        self.steps_per_epoch, self.has_val = self.steps_per_epoch[rows], self.has_val[rows]
        self.best_val, self.best_epoch = self.best_val[rows], self.best_epoch[rows]
        self.bad, self.batches = self.bad[rows], self.batches[rows]


@dataclass
class _Weights:
    """The active members' stacked tensors: the trainable ones (owned by ``opt``), the
    frozen ones and the best weights so far, rows in the order of ``_Members``."""

    params: dict[str, Tensor]
    frozen: dict[str, Tensor]
    best: dict[str, Tensor]
    opt: torch.optim.AdamW

    @classmethod
    def stack(cls, inits: list[nn.Module], cfg: TrainConfig) -> _Weights:
        per_member = [dict(m.named_parameters()) for m in inits]
        stacked = {n: torch.stack([p[n].detach() for p in per_member]) for n in per_member[0]}
        trainable = {n for n, p in per_member[0].items() if p.requires_grad}
        params = {n: v.requires_grad_(True) for n, v in stacked.items() if n in trainable}
        opt = torch.optim.AdamW(
            params.values(), lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True
        )
        return cls(
            params=params,
            frozen={n: v for n, v in stacked.items() if n not in trainable},
            best={n: v.detach().clone() for n, v in params.items()},
            opt=opt,
        )

    def all(self) -> Params:
        """Everything the network reads: trainable and frozen stacked tensors."""
        return {**self.frozen, **self.params}

    def zero_grad(self) -> None:
        """Forget the last step's gradients (what ``opt.zero_grad()`` does, without its
        profiler bookkeeping: ~100 us a step)."""
        for p in self.params.values():
            p.grad = None

    def keep(self, rows: Tensor) -> None:
        """Drop every member but those at ``rows``: parameters, optimizer state, best."""
        old = list(self.params.values())
        self.params = {n: p.detach()[rows].requires_grad_(True) for n, p in self.params.items()}
        self.frozen = {n: v[rows] for n, v in self.frozen.items()}
        self.best = {n: v[rows] for n, v in self.best.items()}
        for p_old, p_new in zip(old, self.params.values(), strict=True):
            state = self.opt.state.pop(p_old)
            self.opt.state[p_new] = {
                k: v if k == "step" else v[rows] for k, v in state.items()
            }  # "step": the count of steps, one for the whole stack
        self.opt.param_groups[0]["params"] = list(self.params.values())


def train_batched(
    arch: Architecture,
    X: torch.Tensor,
    tasks: list[FoldTask],
    cfg: TrainConfig,
    seed: int,
    fast: bool = True,
) -> list[FoldResult]:
    """Train every (task, seed index) member of ``tasks`` as one stack; the same results as
    :func:`niftycnn.walkforward.train.train_sequential` (within float rounding).

    ``seed`` seeds every member's initial weights and minibatch order, and the stack's
    dropout masks (drawn from (seed, the chunk's first fold), with the global torch RNG
    left as it was, so a process's history does not change them); ``fast=False`` forces
    the generic path (VmapNet) where the spec would take StackedNet. A network with
    buffers (batch norm's running statistics) is trained by the sequential engine.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(member_seed(seed, tasks[0].fold if tasks else 0, 0, DROPOUT_STREAM))
        return _train_stack(arch, X, tasks, cfg, seed, fast)


def _train_stack(
    arch: Architecture,
    X: torch.Tensor,
    tasks: list[FoldTask],
    cfg: TrainConfig,
    seed: int,
    fast: bool,
) -> list[FoldResult]:
    c, length = X.shape[1], X.shape[2]
    keys = [(ti, s) for ti in range(len(tasks)) for s in range(cfg.seeds)]
    inits = [init_member(arch, c, length, seed, tasks[ti].fold, s).to(X.device) for ti, s in keys]
    if any(True for _ in inits[0].buffers()):
        # running statistics (batch norm) cannot be stacked functionally: one by one
        return train_sequential(arch, X, tasks, cfg, seed)
    steps = validate_architecture(arch, c, length)
    net = StackedNet(steps) if fast and StackedNet.supports(steps) else VmapNet(inits[0])
    regression = arch.head == "regression"
    data = _Data(net, net.prepare(X), _targets(tasks, regression, X.device), regression)
    members = _Members.start(keys, tasks, cfg, seed, X.device)
    weights = _Weights.stack(inits, cfg)
    results: dict[Key, MemberResult] = {}
    step = 0
    while members.keys:
        step += 1
        _train_step(data, members, weights)
        ends = np.flatnonzero(step % members.steps_per_epoch == 0)
        if len(ends) == 0:
            continue
        done = _end_epochs(data, members, weights, cfg, ends, step)
        for row in done:
            results[members.keys[row]] = _result(members, weights, row, net.parameter_names)
        if done:
            keep = np.setdiff1d(np.arange(len(members.keys)), done)
            members.keep(keep)
            weights.keep(torch.as_tensor(keep, device=X.device))
    return [
        FoldResult(task.fold, [results[(ti, s)] for s in range(cfg.seeds)])
        for ti, task in enumerate(tasks)
    ]


def _targets(tasks: list[FoldTask], regression: bool, device: torch.device) -> Tensor:
    dtype = torch.float32 if regression else torch.int64
    return torch.stack([torch.as_tensor(t.target, dtype=dtype) for t in tasks]).to(device)


def _rows(X: Tensor, idx: Tensor) -> Tensor:
    """X's rows at idx (M, B): (M, B, ...); ``index_select`` copies whole rows, about 3x
    faster than ``X[idx]``'s generic gather on CPU."""
    return X.index_select(0, idx.reshape(-1)).view(*idx.shape, *X.shape[1:])


def _train_step(data: _Data, members: _Members, weights: _Weights) -> None:
    """One minibatch for every active member, one AdamW step on the stack."""
    idx = torch.as_tensor(members.next_batch(), device=data.X.device)  # (M, B)
    y = data.targets[members.task_row.unsqueeze(1), idx]
    out = data.net(weights.all(), _rows(data.X, idx))
    losses = member_loss(out, y, members.class_weight, data.regression)
    weights.zero_grad()
    losses.sum().backward()
    weights.opt.step()
    members.loss_sum += losses.detach().double()


def _end_epochs(
    data: _Data,
    members: _Members,
    weights: _Weights,
    cfg: TrainConfig,
    ends: np.ndarray,
    step: int,
) -> list[int]:
    """Close the epoch of the members at rows ``ends``: log their losses, keep improved
    weights, and return the rows whose training is over (patience or epochs exhausted)."""
    t = torch.as_tensor(ends, device=data.X.device)
    epochs = step // members.steps_per_epoch[ends] - 1
    train_loss = members.loss_sum[t].cpu().numpy() / members.steps_per_epoch[ends]
    members.loss_sum[t] = 0.0
    with_val = ends[members.has_val[ends]]
    val = dict(zip(with_val.tolist(), _val_losses(data, members, weights, with_val), strict=True))
    done, improved = [], []
    for row, e, tl in zip(ends.tolist(), epochs.tolist(), train_loss.tolist(), strict=True):
        v = val.get(row, math.nan)
        members.curves[row].append((int(e), float(tl), float(v)))
        if row not in val:  # no validation tail: the last epoch's weights are kept
            improved.append(row)
            members.best_epoch[row] = e
        elif v < members.best_val[row] - cfg.min_delta:
            improved.append(row)
            members.best_val[row], members.best_epoch[row], members.bad[row] = v, e, 0
        else:
            members.bad[row] += 1
        if members.bad[row] >= cfg.patience or e + 1 >= cfg.epochs:
            done.append(row)
    if improved:
        rows = torch.as_tensor(improved, device=data.X.device)
        with torch.no_grad():
            for name, p in weights.params.items():
                weights.best[name][rows] = p.detach()[rows]
    return done


def _val_losses(data: _Data, members: _Members, weights: _Weights, rows: np.ndarray) -> np.ndarray:
    """Validation losses (same criterion as training, whole tail) of the members at rows."""
    if len(rows) == 0:
        return np.empty(0)
    t = torch.as_tensor(rows, device=data.X.device)
    params = {n: v.detach().index_select(0, t) for n, v in weights.all().items()}
    vi, vm = members.val_idx[t], members.val_mask[t]
    data.net.eval()
    with torch.no_grad():
        out = data.net(params, _rows(data.X, vi))  # (m, V, K)
    data.net.train()
    y = data.targets[members.task_row[t].unsqueeze(1), vi]
    if data.regression:
        err = (out[..., 0] - y) ** 2
        w = vm.to(err.dtype)
    else:
        err = -torch.log_softmax(out, -1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        cw = members.class_weight
        w = vm.to(err.dtype) if cw is None else cw[t].gather(1, y) * vm
    return ((err * w).sum(1) / w.sum(1)).double().cpu().numpy()


def _result(members: _Members, weights: _Weights, row: int, names: tuple[str, ...]) -> MemberResult:
    """A finished member: its best weights (and frozen ones, in the module's parameter
    order, on the CPU) and its curve."""
    state = {
        n: v[row].detach().cpu().clone() for n, v in {**weights.frozen, **weights.best}.items()
    }
    curve = pd.DataFrame(members.curves[row], columns=["epoch", "train_loss", "val_loss"])
    rows = len(members.curves[row])
    return MemberResult({n: state[n] for n in names}, curve, int(members.best_epoch[row]), rows)
