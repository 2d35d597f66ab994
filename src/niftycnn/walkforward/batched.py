"""The batched engine: all members of a chunk of folds train as one stacked ensemble.

Each member (fold x seed) keeps the recipe of :mod:`niftycnn.walkforward.train` exactly —
same initial weights, same minibatch order, same per-member epochs, early stopping and
AdamW arithmetic — but one training step runs every active member at once:

- parameters live as stacked tensors (M, ...) built from the members' own initial
  state dicts;
- fast path (networks made of Conv1d / MaxPool / AvgPool / GAP / Flatten / Linear and
  activations): each convolution is one batched matmul over members (im2col with
  ``unfold``, then ``baddbmm``), channels-last inside; every other network goes through
  the generic path, ``torch.func.functional_call`` under ``vmap``;
- one fused loss (the sum of the members' mean losses: member gradients stay
  independent) and one hand-written AdamW over the stacked tensors, with torch's
  arithmetic (``torch.optim.AdamW`` single-tensor formula);
- early stopping per member: a member that stops is *removed* from the stack (its best
  weights are saved, the stack is compacted), so finished members cost nothing; this is
  the masking of the brief with the dead rows dropped instead of zeroed.

Every member's arithmetic is independent of the other members in its stack, so a fold's
weights do not depend on which folds share its chunk (on CPU; the truncation test
checks it bit for bit).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from niftycnn.config import TrainConfig
from niftycnn.models import Architecture
from niftycnn.walkforward.train import (
    BatchStream,
    FoldResult,
    FoldTask,
    MemberResult,
    init_member,
    member_loss,
)

StackedForward = Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor]
_ACT: dict[type, Callable[[torch.Tensor], torch.Tensor]] = {
    nn.ReLU: torch.relu,
    nn.GELU: F.gelu,
    nn.Tanh: torch.tanh,
    nn.ELU: F.elu,
    nn.LeakyReLU: F.leaky_relu,
    nn.Identity: lambda x: x,
}
_BETAS, _EPS = (0.9, 0.999), 1e-8  # torch.optim.AdamW defaults


# -- stacked forward: fast path ---------------------------------------------------------
_relu_grad = torch.ops.aten.threshold_backward  # g where x > 0 else 0, in one pass


class _ReluMaxPool(torch.autograd.Function):
    """relu(maxpool(x)) over non-overlapping windows of k on axis 2 of (M, B, L, C).

    The argmax is kept as a one-hot mask (M, B, L/k, k, C) in x's float dtype, so the
    backward is one broadcast multiply (a bool mask would be converted at every step, more
    than doubling its cost); identical values to ReLU -> MaxPool1d (the first maximum
    wins a tie, as torch's max pooling does)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, k: int) -> torch.Tensor:
        m, b, length, c = x.shape
        xv = x.view(m, b, length // k, k, c)
        if k == 2:  # the common case: max, in-place relu, and the mask written in place
            out = torch.maximum(xv[:, :, :, 0], xv[:, :, :, 1]).clamp_min_(0)
            hit = x.new_empty(xv.shape)
            torch.gt(xv[:, :, :, 1], xv[:, :, :, 0], out=hit[:, :, :, 1])
            torch.le(xv[:, :, :, 1], xv[:, :, :, 0], out=hit[:, :, :, 0])
        else:
            out, arg = xv[:, :, :, 0], torch.zeros((m, b, length // k, c), dtype=torch.uint8)
            for j in range(1, k):
                better = xv[:, :, :, j] > out
                out = torch.where(better, xv[:, :, :, j], out)
                arg = torch.where(better, j, arg)
            out = torch.relu(out)
            hit = (arg.unsqueeze(3) == torch.arange(k, dtype=torch.uint8).view(k, 1)).to(x.dtype)
        ctx.save_for_backward(hit, out)
        return out

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        hit, out = ctx.saved_tensors
        m, b, lk, k, c = hit.shape
        return (_relu_grad(g, out, 0.0).unsqueeze(3) * hit).view(m, b, lk * k, c), None


class _ReluMean(torch.autograd.Function):
    """relu(x).mean(axis 2) for (M, B, L, C) -> (M, B, C): ReLU -> global average pool."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.relu(x).mean(dim=2)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        (x,) = ctx.saved_tensors
        return _relu_grad((g / x.shape[2]).unsqueeze(2).expand_as(x), x, 0.0)


class _SameConv(torch.autograd.Function):
    """Stride-1, dilation-1 Conv1d over members on (M, B, L, C) with padding (pl, pr).

    Columns are tap-major, (L_out, k, C): pad + unfold + one copy that reads whole rows
    of C, and the input gradient is k shifted adds of contiguous rows (cheaper than
    autograd's unfold backward, a general scatter). The weight (M, F, C, k) is
    rearranged to match; its gradient is arranged back."""

    @staticmethod
    def forward(ctx, x, w, bias, pl: int, pr: int):
        m, b, length, c = x.shape
        f, k = w.shape[1], w.shape[3]
        lout = length + pl + pr - k + 1
        cols = F.pad(x, (0, 0, pl, pr)).unfold(2, k, 1).transpose(3, 4)
        cols = cols.reshape(m, b * lout, k * c)
        wt = w.transpose(2, 3).reshape(m, f, k * c).transpose(1, 2)  # (M, k*C, F)
        ctx.save_for_backward(cols, wt)
        ctx.meta = (m, b, length, c, f, k, lout, pl)
        return torch.baddbmm(bias.unsqueeze(1), cols, wt).view(m, b, lout, f)

    @staticmethod
    def backward(ctx, g):
        cols, wt = ctx.saved_tensors
        m, b, length, c, f, k, lout, pl = ctx.meta
        g2 = g.reshape(m, b * lout, f)
        gw = torch.bmm(g2.transpose(1, 2), cols).view(m, f, k, c).transpose(2, 3)
        gb = g2.sum(1)
        gc = torch.bmm(g2, wt.transpose(1, 2)).view(m, b, lout, k, c)
        taps = list(range(k))
        if lout == length and pl < k:  # "same": the unshifted tap covers every position
            gx = gc[:, :, :, pl].contiguous()
            taps.remove(pl)
        else:
            gx = g.new_zeros((m, b, length, c))
        for j in taps:
            lo, hi = max(0, pl - j), min(lout, length + pl - j)
            gx[:, :, lo + j - pl : hi + j - pl] += gc[:, :, lo:hi, j]
        return gx, gw.contiguous(), gb, None, None


def _same_pad(mod: nn.Conv1d) -> tuple[int, int] | None:
    """(left, right) padding of a stride-1, dilation-1 conv, else None."""
    if mod.stride[0] != 1 or mod.dilation[0] != 1:
        return None
    k = mod.kernel_size[0]
    if mod.padding == "same":
        return ((k - 1) // 2, k - 1 - (k - 1) // 2)
    p = int(mod.padding[0])
    return (p, p)


def _im2col(x: torch.Tensor, mod: nn.Conv1d) -> torch.Tensor:
    """Channels-last x (..., L, C) -> columns (..., Lout, C * k) of a Conv1d."""
    k, s, d = mod.kernel_size[0], mod.stride[0], mod.dilation[0]
    if mod.padding == "same":
        total = d * (k - 1)
        pad = (total // 2, total - total // 2)
    else:
        pad = (int(mod.padding[0]),) * 2
    if pad != (0, 0):
        x = F.pad(x, (0, 0, *pad))
    cols = x.unfold(-2, d * (k - 1) + 1, s)  # (..., Lout, C, span)
    if d > 1:
        cols = cols[..., ::d]
    return cols.reshape(*cols.shape[:-2], -1)


def _conv_step(name: str, mod: nn.Conv1d, prepared: bool = False):
    """Conv1d over members as one baddbmm; ``prepared``: x already holds the columns."""

    pad = None if prepared else _same_pad(mod)

    def f(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:  # x (M, B, L, C)
        w, b = p[f"{name}.weight"], p[f"{name}.bias"]  # (M, F, C, k), (M, F)
        if pad is not None:
            return _SameConv.apply(x, w, b, *pad)
        cols = x if prepared else _im2col(x, mod)  # (M, B, Lout, C*k)
        m, bsz, lout, ck = cols.shape
        wt = w.reshape(m, w.shape[1], ck).transpose(1, 2)  # (M, C*k, F)
        return torch.baddbmm(b.unsqueeze(1), cols.reshape(m, bsz * lout, ck), wt).view(
            m, bsz, lout, -1
        )

    return f


def _pool_step(mod: nn.MaxPool1d | nn.AvgPool1d):
    k = mod.kernel_size if isinstance(mod.kernel_size, int) else mod.kernel_size[0]
    s = mod.stride if isinstance(mod.stride, int) else mod.stride[0]
    reduce = torch.amax if isinstance(mod, nn.MaxPool1d) else torch.mean

    def f(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        if k == s and x.shape[2] % k == 0:
            if reduce is torch.amax:  # a chain of maximum: cheaper backward than amax
                out = x[:, :, 0::k]
                for j in range(1, k):
                    out = torch.maximum(out, x[:, :, j::k])
                return out
            m, bsz, length, c = x.shape
            return reduce(x.view(m, bsz, length // k, k, c), dim=3)
        return reduce(x.unfold(2, k, s), dim=-1)

    return f


def _linear_step(name: str):
    def f(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:  # x (M, B, D)
        return torch.baddbmm(p[f"{name}.bias"].unsqueeze(1), x, p[f"{name}.weight"].transpose(1, 2))

    return f


def fast_forward(
    model: nn.Module, length: int = 20, shared_frozen: bool = False
) -> StackedForward | None:
    """A stacked forward (params, x (M, B, C, L)) -> (M, B, out) for our layer types,
    or None when the network has a layer the fast path does not know.

    ``shared_frozen``: the frozen parameters are the same in every member, so a leading
    run of frozen layers (fixed_kernels' gram convolution and its pooling) is computed
    once for the whole dataset in ``prepare`` instead of at every step."""
    if not isinstance(model, nn.Sequential):
        return None
    steps: list[Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor]] = []
    shape = "seq"  # "seq": (M, B, L, C) channels-last; "vec": (M, B, D)
    first_conv: nn.Conv1d | None = None
    children = _flat_children(model)
    lengths = _lengths([mod for _, mod in children], length)
    n_const = _constant_prefix([mod for _, mod in children]) if shared_frozen else 0
    const = nn.Sequential(*(mod for _, mod in children[:n_const]))
    skip = 0
    for i, (name, mod) in enumerate(children):
        nxt = children[i + 1][1] if i + 1 < len(children) else None
        if i < n_const:  # computed once, in prepare()
            continue
        if skip:  # fused into the previous step
            skip -= 1
            continue
        if (
            isinstance(mod, nn.ReLU)
            and shape == "seq"
            and isinstance(nxt, nn.MaxPool1d)
            and _simple_pool(nxt)
            and lengths[i] % _k(nxt) == 0
        ):
            pool_k = _k(nxt)
            steps.append(lambda p, x, k=pool_k: _ReluMaxPool.apply(x, k))  # type: ignore[misc]
            skip = 1
        elif (
            isinstance(mod, nn.ReLU) and shape == "seq" and type(nxt).__name__ == "GlobalAvgPool1d"
        ):
            steps.append(lambda p, x: _ReluMean.apply(x))
            shape, skip = "vec", 1
        elif (
            isinstance(mod, nn.Conv1d)
            and shape == "seq"
            and mod.groups == 1
            and mod.bias is not None
            and mod.padding_mode == "zeros"
        ):
            if not steps:  # the first layer's columns come precomputed from prepare()
                first_conv = mod
            steps.append(_conv_step(name, mod, prepared=not steps))
        elif (
            isinstance(mod, nn.MaxPool1d | nn.AvgPool1d)
            and shape == "seq"
            and mod.padding in (0, (0,))
            and not getattr(mod, "ceil_mode", False)
            and getattr(mod, "dilation", 1) in (1, (1,))
            and (isinstance(mod, nn.MaxPool1d) or mod.count_include_pad)
        ):
            steps.append(_pool_step(mod))
        elif type(mod).__name__ == "GlobalAvgPool1d" and shape == "seq":
            steps.append(lambda p, x: x.mean(dim=2))
            shape = "vec"
        elif isinstance(mod, nn.Flatten) and shape == "seq":
            steps.append(lambda p, x: x.transpose(2, 3).reshape(x.shape[0], x.shape[1], -1))
            shape = "vec"
        elif isinstance(mod, nn.Linear) and shape == "vec" and mod.bias is not None:
            steps.append(_linear_step(name))
        elif type(mod) in _ACT:
            act = _ACT[type(mod)]
            if isinstance(mod, nn.LeakyReLU):
                slope = mod.negative_slope
                steps.append(lambda p, x, slope=slope: F.leaky_relu(x, slope))  # type: ignore[misc]
            elif isinstance(mod, nn.ELU):
                alpha = mod.alpha
                steps.append(lambda p, x, alpha=alpha: F.elu(x, alpha))  # type: ignore[misc]
            elif isinstance(mod, nn.GELU):
                approx = mod.approximate
                steps.append(lambda p, x, approx=approx: F.gelu(x, approximate=approx))  # type: ignore[misc]
            else:
                steps.append(lambda p, x, act=act: act(x))  # type: ignore[misc]
        else:
            return None
    if shape != "vec":
        return None

    def prepare(X: torch.Tensor) -> torch.Tensor:
        """Per-sample input once for the whole dataset: channels-last, and the first
        convolution's im2col columns (the windows never change, so neither do they)."""
        if n_const:
            with torch.no_grad():
                X = const(X)
        h = X.transpose(1, 2)
        return (_im2col(h, first_conv) if first_conv is not None else h).contiguous()

    def forward(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """x: rows of prepare(X) gathered per member, (M, B, ...)."""
        h = x
        for step in steps:
            h = step(p, h)
        return h

    forward.prepare = prepare  # type: ignore[attr-defined]
    return forward


def _constant_prefix(modules: list[nn.Module]) -> int:
    """How many leading layers are constant functions of the input: convolutions whose
    parameters are all frozen, and the pooling and activations that follow them (no
    dropout: it draws random numbers). 0 unless a frozen convolution is among them."""
    n, frozen_conv = 0, False
    for mod in modules:
        if isinstance(mod, nn.Conv1d) and not any(p.requires_grad for p in mod.parameters()):
            frozen_conv = True
        elif not isinstance(mod, nn.MaxPool1d | nn.AvgPool1d) and type(mod) not in _ACT:
            break
        n += 1
    return n if frozen_conv else 0


def _k(mod: nn.MaxPool1d | nn.AvgPool1d) -> int:
    return mod.kernel_size if isinstance(mod.kernel_size, int) else mod.kernel_size[0]


def _simple_pool(mod: nn.MaxPool1d) -> bool:
    """Non-overlapping max pooling without padding, dilation or ceil mode."""
    s = mod.stride if isinstance(mod.stride, int) else mod.stride[0]
    return (
        s == _k(mod)
        and mod.padding in (0, (0,))
        and mod.dilation in (1, (1,))
        and not mod.ceil_mode
    )


def _flat_children(model: nn.Sequential) -> list[tuple[str, nn.Module]]:
    """Leaf layers in order with their dotted state-dict prefixes; nested Sequential
    blocks (the builder's conv + norm + activation) are opened up."""
    out: list[tuple[str, nn.Module]] = []
    for name, mod in model.named_children():
        if isinstance(mod, nn.Sequential):
            out.extend((f"{name}.{sub}", leaf) for sub, leaf in _flat_children(mod))
        else:
            out.append((name, mod))
    return out


def _lengths(modules: list[nn.Module], length: int) -> list[int]:
    """The sequence length entering each layer: floor((L + 2p - d(k-1) - 1) / s) + 1."""
    out = []
    for mod in modules:
        out.append(length)
        if isinstance(mod, nn.Conv1d):
            k, s, d = mod.kernel_size[0], mod.stride[0], mod.dilation[0]
            pad = d * (k - 1) if mod.padding == "same" else 2 * int(mod.padding[0])
            length = (length + pad - d * (k - 1) - 1) // s + 1
        elif isinstance(mod, nn.MaxPool1d | nn.AvgPool1d):
            s = mod.stride if isinstance(mod.stride, int) else mod.stride[0]
            length = (length - _k(mod)) // s + 1
    return out


def vmap_forward(model: nn.Module) -> StackedForward:
    """The generic stacked forward: functional_call under vmap (any module)."""
    from torch.func import functional_call, vmap

    def one(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(model, p, (x,))

    batched = vmap(one, in_dims=(0, 0), randomness="different")

    def forward(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return batched(p, x)

    forward.module = model  # type: ignore[attr-defined]  # switched to eval for validation
    forward.prepare = lambda X: X  # type: ignore[attr-defined]
    return forward


# -- the training loop -----------------------------------------------------------------
class _Stack:
    """The active members' stacked state (parameters, AdamW moments, bookkeeping)."""

    def __init__(self, params, frozen, members, streams, spe, val_idx, val_mask, weights):
        self.params = params  # trainable, stacked (M, ...), updated by AdamW
        self.frozen = frozen  # stacked too, never updated (a fixed="gram" layer)
        self.exp_avg = {k: torch.zeros_like(v) for k, v in params.items()}
        self.exp_avg_sq = {k: torch.zeros_like(v) for k, v in params.items()}
        self.best = {k: v.detach().clone() for k, v in params.items()}
        self.members = members  # list of (task position, seed index)
        self.streams = streams
        self.spe = spe  # (M,) int64 steps per epoch
        self.val_idx, self.val_mask = val_idx, val_mask  # (M, V) positions, (M, V) bool
        self.weights = weights  # (M, K) or None
        m = len(members)
        self.best_val = np.full(m, math.inf)
        self.best_epoch = np.full(m, -1)
        self.bad = np.zeros(m, dtype=np.int64)
        self.loss_sum = torch.zeros(m, dtype=torch.float64, device=val_idx.device)
        self.rows: list[list[tuple[int, float, float]]] = [[] for _ in range(m)]
        self.batches: np.ndarray = np.empty((m, 0, 0), dtype=np.int64)
        self.batch_pos = 0

    def keep(self, rows: np.ndarray) -> None:
        """Compact the stack to the members at ``rows``."""
        t = torch.as_tensor(rows, device=self.val_idx.device)
        for d in (self.params, self.frozen, self.exp_avg, self.exp_avg_sq, self.best):
            for k in d:
                d[k] = d[k].detach().index_select(0, t)
        for k in self.params:
            self.params[k].requires_grad_(True)
        self.members = [self.members[i] for i in rows]
        self.streams = [self.streams[i] for i in rows]
        self.rows = [self.rows[i] for i in rows]
        self.spe = self.spe[rows]
        self.val_idx, self.val_mask = self.val_idx[t], self.val_mask[t]
        self.weights = None if self.weights is None else self.weights[t]
        self.best_val, self.best_epoch, self.bad = (
            self.best_val[rows],
            self.best_epoch[rows],
            self.bad[rows],
        )
        self.loss_sum = self.loss_sum[t]
        self.batches = self.batches[rows]

    def all_params(self) -> dict[str, torch.Tensor]:
        """Everything the forward needs: trainable and frozen stacked tensors."""
        return {**self.frozen, **self.params}


def _adamw_(st: _Stack, step: int, cfg: TrainConfig) -> None:
    """torch.optim.AdamW's single-tensor update, on every stacked tensor at once."""
    b1, b2 = _BETAS
    ps = [p.data for p in st.params.values()]
    gs = [p.grad for p in st.params.values()]
    ms, vs = list(st.exp_avg.values()), list(st.exp_avg_sq.values())
    torch._foreach_mul_(ps, 1 - cfg.lr * cfg.weight_decay)
    torch._foreach_lerp_(ms, gs, 1 - b1)
    torch._foreach_mul_(vs, b2)
    torch._foreach_addcmul_(vs, gs, gs, value=1 - b2)
    bc1, bc2 = 1 - b1**step, 1 - b2**step
    denom = torch._foreach_sqrt(vs)
    torch._foreach_div_(denom, bc2**0.5)
    torch._foreach_add_(denom, _EPS)
    torch._foreach_addcdiv_(ps, ms, denom, value=-cfg.lr / bc1)


def _val_losses(st, rows, forward, X, targets, regression) -> np.ndarray:
    t = torch.as_tensor(rows, device=X.device)
    p = {k: v.detach().index_select(0, t) for k, v in st.all_params().items()}
    vi, vm = st.val_idx[t], st.val_mask[t]
    module = getattr(forward, "module", None)
    if module is not None:
        module.eval()
    with torch.no_grad():
        out = forward(p, X[vi])  # (m, V, K)
    if module is not None:
        module.train()
    y = targets[st.fold_of[t].unsqueeze(1), vi]
    if regression:
        err = (out[..., 0] - y) ** 2
        w = vm.to(err.dtype)
    else:
        err = -torch.log_softmax(out, -1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        w = vm.to(err.dtype) if st.weights is None else st.weights[t].gather(1, y) * vm
    return ((err * w).sum(1) / w.sum(1)).double().cpu().numpy()


def train_batched(
    arch: Architecture,
    X: torch.Tensor,
    tasks: list[FoldTask],
    cfg: TrainConfig,
    seed: int,
    fast: bool = True,
) -> list[FoldResult]:
    """Train every (task, seed) member of ``tasks`` as one stack; same results as
    :func:`niftycnn.walkforward.train.train_sequential` (within float rounding)."""
    device = X.device
    regression = arch.head == "regression"
    c, length = X.shape[1], X.shape[2]
    members = [(ti, s) for ti in range(len(tasks)) for s in range(cfg.seeds)]
    inits = [init_member(arch, c, length, seed, tasks[ti].fold, s).to(device) for ti, s in members]
    template = inits[0]
    names = [n for n, _ in template.named_parameters()]
    if len(dict(template.named_buffers())):
        # running statistics (batch norm) cannot be stacked functionally: train one by one
        from niftycnn.walkforward.train import train_sequential

        return train_sequential(arch, X, tasks, cfg, seed)
    per_member = [dict(m.named_parameters()) for m in inits]
    stacked = {n: torch.stack([p[n].detach() for p in per_member]) for n in names}
    trainable = {n for n, p in template.named_parameters() if p.requires_grad}
    params = {n: v.requires_grad_(True) for n, v in stacked.items() if n in trainable}
    frozen = {n: v for n, v in stacked.items() if n not in trainable}
    shared_frozen = all(torch.equal(v, v[:1].expand_as(v)) for v in frozen.values())
    forward = (fast_forward(template, length, shared_frozen) if fast else None) or vmap_forward(
        template
    )
    Xp = forward.prepare(X)  # type: ignore[attr-defined]
    # per-fold targets, stacked: (n_tasks, N); members index their fold's row
    target_dtype = torch.float32 if regression else torch.int64
    targets = torch.stack([torch.as_tensor(t.target, dtype=target_dtype) for t in tasks]).to(device)
    streams = [
        BatchStream(tasks[ti].train_idx, cfg.batch_size, seed, tasks[ti].fold, s)
        for ti, s in members
    ]
    spe = np.array([s.steps_per_epoch for s in streams], dtype=np.int64)
    vmax = max(1, max(len(t.val_idx) for t in tasks))
    val_idx = np.zeros((len(members), vmax), dtype=np.int64)
    val_mask = np.zeros((len(members), vmax), dtype=bool)
    for i, (ti, _) in enumerate(members):
        v = tasks[ti].val_idx
        val_idx[i, : len(v)], val_mask[i, : len(v)] = v, True
    has_val = np.array([len(tasks[ti].val_idx) > 0 for ti, _ in members])
    weights = None
    if not regression and tasks[0].class_weight is not None:
        weights = torch.stack([torch.as_tensor(tasks[ti].class_weight) for ti, _ in members]).to(
            device
        )
    st = _Stack(
        params,
        frozen,
        members,
        streams,
        spe,
        torch.as_tensor(val_idx, device=device),
        torch.as_tensor(val_mask, device=device),
        weights,
    )
    fold_of = torch.as_tensor([ti for ti, _ in members], device=device)
    st.fold_of = fold_of  # type: ignore[attr-defined]
    results: dict[tuple[int, int], MemberResult] = {}
    has_val_of = {m: h for m, h in zip(members, has_val, strict=True)}
    chunk, step = 32, 0
    while st.members:
        if st.batch_pos >= st.batches.shape[1]:
            st.batches = np.stack([s.take(chunk) for s in st.streams])
            st.batch_pos = 0
        bidx = torch.as_tensor(st.batches[:, st.batch_pos], device=device)  # (M, B)
        st.batch_pos += 1
        step += 1
        fo = st.fold_of  # type: ignore[attr-defined]
        y = targets[fo.unsqueeze(1), bidx]
        out = forward(st.all_params(), Xp[bidx])
        losses = member_loss(out, y, st.weights, regression)
        for p in st.params.values():
            p.grad = None
        losses.sum().backward()
        with torch.no_grad():
            _adamw_(st, step, cfg)
        st.loss_sum += losses.detach().double()
        ends = np.flatnonzero(step % st.spe == 0)
        if len(ends) == 0:
            continue
        epochs = step // st.spe[ends] - 1
        train_loss = st.loss_sum[torch.as_tensor(ends, device=device)].cpu().numpy() / st.spe[ends]
        st.loss_sum[torch.as_tensor(ends, device=device)] = 0.0
        val_rows = ends[[has_val_of[st.members[i]] for i in ends]]
        vl = (
            dict(
                zip(
                    val_rows,
                    _val_losses(st, val_rows, forward, Xp, targets, regression),
                    strict=True,
                )
            )
            if len(val_rows)
            else {}
        )
        done, improved = [], []
        for row, e, tl in zip(ends.tolist(), epochs.tolist(), train_loss.tolist(), strict=True):
            v = vl.get(row, math.nan)
            st.rows[row].append((int(e), float(tl), float(v)))
            if row not in vl:
                improved.append(row)
                st.best_epoch[row] = e
            elif v < st.best_val[row] - cfg.min_delta:
                improved.append(row)
                st.best_val[row], st.best_epoch[row], st.bad[row] = v, e, 0
            else:
                st.bad[row] += 1
            if st.bad[row] >= cfg.patience or e + 1 >= cfg.epochs:
                done.append(row)
        if improved:
            t = torch.as_tensor(improved, device=device)
            with torch.no_grad():
                for k, p in st.params.items():
                    st.best[k][t] = p.detach()[t]
        if done:
            for i in done:
                state = {k: st.best[k][i].detach().cpu().clone() for k in st.best}
                state.update({k: v[i].cpu().clone() for k, v in st.frozen.items()})
                state = {k: state[k] for k in names}  # the module's own parameter order
                curve = pd.DataFrame(st.rows[i], columns=["epoch", "train_loss", "val_loss"])
                results[st.members[i]] = MemberResult(
                    state, curve, int(st.best_epoch[i]), len(st.rows[i])
                )
            keep = np.setdiff1d(np.arange(len(st.members)), done)
            st.keep(keep)
            st.fold_of = fo[torch.as_tensor(keep, device=device)]  # type: ignore[attr-defined]
    out_results = []
    for ti, task in enumerate(tasks):
        out_results.append(FoldResult(task.fold, [results[(ti, s)] for s in range(cfg.seeds)]))
    return out_results
