"""Stacked layer arithmetic: every member of the stack at once, channels-last.

Tensors carry the members on axis 0: sequences are (M, B, L, C), vectors (M, B, D),
weights (M, ...) as in the members' state dicts. Convolutions are batched matmuls over
members (im2col columns, then ``baddbmm``). Three autograd functions fuse what autograd
would run as several passes: ReLU + non-overlapping max pooling, ReLU + global average
pooling, and the stride-1 convolution (whose input gradient is cheaper as shifted adds
than as ``unfold``'s generic scatter). Every tensor they create is made on the input's
device (``new_empty`` / ``new_zeros`` / ``device=``), so the same code runs on CPU, CUDA
and the ``meta`` device.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import torch
import torch.nn.functional as F
from torch import Tensor

_relu_grad = torch.ops.aten.threshold_backward  # g where x > 0 else 0, in one pass


class _ReluMaxPool(torch.autograd.Function):
    """relu(maxpool(x)) over non-overlapping windows of k on axis 2 of (M, B, L, C).

    The argmax is kept as a one-hot mask (M, B, L/k, k, C) in x's float dtype, so the
    backward is one broadcast multiply (a bool mask would be converted at every step, more
    than doubling its cost); identical values to ReLU -> MaxPool1d (the first maximum
    wins a tie, as torch's max pooling does)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, k: int) -> Tensor:
        m, b, length, c = x.shape
        xv = x.view(m, b, length // k, k, c)
        if k == 2:  # the common case: max, in-place relu, and the mask written in place
            out = torch.maximum(xv[:, :, :, 0], xv[:, :, :, 1]).clamp_min_(0)
            hit = x.new_empty(xv.shape)
            torch.gt(xv[:, :, :, 1], xv[:, :, :, 0], out=hit[:, :, :, 1])
            torch.le(xv[:, :, :, 1], xv[:, :, :, 0], out=hit[:, :, :, 0])
        else:
            out = xv[:, :, :, 0]
            arg = x.new_zeros((m, b, length // k, c), dtype=torch.uint8)
            for j in range(1, k):
                better = xv[:, :, :, j] > out
                out = torch.where(better, xv[:, :, :, j], out)
                arg = torch.where(better, j, arg)
            out = torch.relu(out)
            taps = torch.arange(k, dtype=torch.uint8, device=x.device).view(k, 1)
            hit = (arg.unsqueeze(3) == taps).to(x.dtype)
        ctx.save_for_backward(hit, out)
        return out

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None]:
        hit, out = ctx.saved_tensors
        m, b, lk, k, c = hit.shape
        return (_relu_grad(g, out, 0.0).unsqueeze(3) * hit).view(m, b, lk * k, c), None


class _ReluMean(torch.autograd.Function):
    """relu(x).mean(axis 2) for (M, B, L, C) -> (M, B, C): ReLU -> global average pool."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return torch.relu(x).mean(dim=2)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return _relu_grad((g / x.shape[2]).unsqueeze(2).expand_as(x), x, 0.0)


class _SameConv(torch.autograd.Function):
    """Stride-1, dilation-1 Conv1d over members on (M, B, L, C) with padding (pl, pr).

    Columns are tap-major, (L_out, k, C): pad + unfold + one copy that reads whole rows
    of C, and the input gradient is k shifted adds of contiguous rows (cheaper than
    autograd's unfold backward, a general scatter). The weight (M, F, C, k) is
    rearranged to match; its gradient is arranged back."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, w: Tensor, bias: Tensor, pl: int, pr: int) -> Tensor:
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
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, Tensor, Tensor, None, None]:
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


def relu_max_pool(x: Tensor, k: int) -> Tensor:
    """ReLU then max pooling of size and stride ``k`` on (M, B, L, C); L divisible by k."""
    return cast(Tensor, _ReluMaxPool.apply(x, k))


def relu_mean(x: Tensor) -> Tensor:
    """ReLU then the mean over the length axis: (M, B, L, C) -> (M, B, C)."""
    return cast(Tensor, _ReluMean.apply(x))


def same_conv(x: Tensor, w: Tensor, bias: Tensor, pad: tuple[int, int]) -> Tensor:
    """Stride-1 Conv1d of (M, B, L, C) with weights (M, F, C, k), zero padding (left, right)."""
    return cast(Tensor, _SameConv.apply(x, w, bias, *pad))


def im2col(x: Tensor, kernel: int, stride: int, dilation: int, pad: tuple[int, int]) -> Tensor:
    """Channels-last x (..., L, C) -> the Conv1d columns (..., L_out, C * kernel)."""
    if pad != (0, 0):
        x = F.pad(x, (0, 0, *pad))
    cols = x.unfold(-2, dilation * (kernel - 1) + 1, stride)  # (..., L_out, C, span)
    if dilation > 1:
        cols = cols[..., ::dilation]
    return cols.reshape(*cols.shape[:-2], -1)


def conv_columns(cols: Tensor, w: Tensor, bias: Tensor) -> Tensor:
    """A Conv1d from its columns (M, B, L_out, C * k) and weights (M, F, C, k)."""
    m, b, lout, ck = cols.shape
    wt = w.reshape(m, w.shape[1], ck).transpose(1, 2)  # (M, C*k, F)
    return torch.baddbmm(bias.unsqueeze(1), cols.reshape(m, b * lout, ck), wt).view(m, b, lout, -1)


def linear(x: Tensor, w: Tensor, bias: Tensor) -> Tensor:
    """x (M, B, D) times each member's weight (M, F, D), plus its bias (M, F)."""
    return torch.baddbmm(bias.unsqueeze(1), x, w.transpose(1, 2))


def pool(x: Tensor, kind: Literal["max", "avg"], size: int, stride: int) -> Tensor:
    """Max or average pooling on axis 2 of (M, B, L, C), no padding (as MaxPool1d /
    AvgPool1d with their defaults)."""
    if size == stride and x.shape[2] % size == 0:
        if kind == "max":  # a chain of maximum: cheaper backward than amax
            out = x[:, :, 0::size]
            for j in range(1, size):
                out = torch.maximum(out, x[:, :, j::size])
            return out
        m, b, length, c = x.shape
        return x.view(m, b, length // size, size, c).mean(dim=3)
    windows = x.unfold(2, size, stride)
    return windows.amax(dim=-1) if kind == "max" else windows.mean(dim=-1)
