"""The stacked networks: one forward pass computes every member of the stack.

Both take the members' parameters stacked on a leading axis, ``{name: (M, ...)}``, keyed
by ``build_model``'s state-dict names, and rows of the prepared dataset gathered per
member, ``(M, B, ...)``; both return ``(M, B, n_outputs)``.

- :class:`StackedNet` is built from the validated spec (``validate_architecture``): each
  layer maps to a stacked op of :mod:`.kernels`, channels-last inside. It covers Conv
  (groups 1, with bias, no batch norm), Pool, GlobalAvgPool, Flatten, Dense, the head and
  the activations; a leading run of frozen layers (GramConv and pooling) is computed once
  per dataset in ``prepare``, as are the first convolution's im2col columns.
- :class:`VmapNet` runs any built module through ``torch.func.functional_call`` under
  ``vmap``: the generic path, for what StackedNet does not cover (Residual, Dropout,
  grouped or bias-free convs, a GramConv after a trainable layer).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from niftycnn.errors import TrainingError
from niftycnn.models.build import gram_weight, parameter_names
from niftycnn.models.spec import Conv, Dense, Flatten, GlobalAvgPool, GramConv, Pool, layer_type
from niftycnn.models.validate import Step
from niftycnn.walkforward.batched.kernels import (
    conv_columns,
    im2col,
    linear,
    pool,
    relu_max_pool,
    relu_mean,
    same_conv,
)

Params = dict[str, Tensor]

_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {  # as build_model's modules compute them
    "relu": torch.relu,
    "gelu": F.gelu,
    "tanh": torch.tanh,
    "elu": F.elu,
    "leaky_relu": F.leaky_relu,
}


class StackedForward(ABC):
    """What the engine needs of a stacked network (see the module docstring)."""

    parameter_names: tuple[str, ...]  # every parameter, in build_model's state-dict order
    training: bool  # False for the validation pass (dropout off)

    @abstractmethod
    def prepare(self, X: Tensor) -> Tensor:
        """The dataset (N, C, L) as the network's first op reads it, computed once."""

    @abstractmethod
    def __call__(self, params: Params, x: Tensor) -> Tensor:
        """Outputs (M, B, n_outputs) of rows x (M, B, ...) of ``prepare(X)``."""

    def train(self, mode: bool = True) -> None:
        self.training = mode

    def eval(self) -> None:
        self.train(False)


# -- the ops of StackedNet ---------------------------------------------------------------
class _Op(ABC):
    """One stacked layer (or fused pair of layers) of StackedNet."""

    @property
    def names(self) -> tuple[str, ...]:
        """The parameters it reads."""
        return ()

    @abstractmethod
    def __call__(self, p: Params, x: Tensor) -> Tensor: ...


@dataclass(frozen=True)
class _Conv(_Op):
    """Conv1d over members; ``prepared``: x already holds its im2col columns."""

    weight: str
    bias: str
    kernel: int
    stride: int
    dilation: int
    pad: tuple[int, int]  # (left, right)
    prepared: bool

    @property
    def names(self) -> tuple[str, ...]:
        return (self.weight, self.bias)

    def columns(self, x: Tensor) -> Tensor:
        return im2col(x, self.kernel, self.stride, self.dilation, self.pad)

    def __call__(self, p: Params, x: Tensor) -> Tensor:
        w, b = p[self.weight], p[self.bias]
        if self.prepared:
            return conv_columns(x, w, b)
        if self.stride == 1 and self.dilation == 1:
            return same_conv(x, w, b, self.pad)
        return conv_columns(self.columns(x), w, b)


@dataclass(frozen=True)
class _Linear(_Op):
    weight: str
    bias: str

    @property
    def names(self) -> tuple[str, ...]:
        return (self.weight, self.bias)

    def __call__(self, p: Params, x: Tensor) -> Tensor:
        return linear(x, p[self.weight], p[self.bias])


@dataclass(frozen=True)
class _Pool(_Op):
    kind: Literal["max", "avg"]
    size: int
    stride: int
    length: int  # of its input

    def fuses_with_relu(self) -> bool:
        return self.kind == "max" and self.stride == self.size and self.length % self.size == 0

    def __call__(self, p: Params, x: Tensor) -> Tensor:
        return pool(x, self.kind, self.size, self.stride)


@dataclass(frozen=True)
class _Activation(_Op):
    name: str

    def __call__(self, p: Params, x: Tensor) -> Tensor:
        return _ACTIVATIONS[self.name](x)


@dataclass(frozen=True)
class _ReluMaxPool(_Op):
    size: int

    def __call__(self, p: Params, x: Tensor) -> Tensor:
        return relu_max_pool(x, self.size)


class _GlobalAvgPool(_Op):
    def __call__(self, p: Params, x: Tensor) -> Tensor:
        return x.mean(dim=2)


class _ReluGlobalAvgPool(_Op):
    def __call__(self, p: Params, x: Tensor) -> Tensor:
        return relu_mean(x)


class _Flatten(_Op):
    """(M, B, L, C) -> (M, B, C * L), channel-major as nn.Flatten on (B, C, L)."""

    def __call__(self, p: Params, x: Tensor) -> Tensor:
        return x.transpose(2, 3).reshape(x.shape[0], x.shape[1], -1)


def _activation(name: str) -> list[_Op]:
    return [] if name == "none" else [_Activation(name)]


def _conv_pad(spec: Conv) -> tuple[int, int]:
    total = spec.dilation * (spec.kernel - 1)
    if spec.padding == "same":  # torch's split of the total: the extra column on the right
        return (total // 2, total - total // 2)
    if spec.padding == "causal":  # all of it on the left (models.build.CausalConv1d)
        return (total, 0)
    p = 0 if spec.padding == "valid" else spec.padding
    return (p, p)


def _layer_ops(step: Step, first: bool) -> list[_Op] | None:
    """The stacked ops of one validated layer, or None when StackedNet has none for it."""
    spec = step.spec
    if isinstance(spec, Dense):  # the head is a Dense(n_outputs, "none") step too
        weight, bias = parameter_names(step)
        return [_Linear(weight, bias), *_activation(spec.activation)]
    if isinstance(spec, Conv):
        if spec.groups != 1 or not spec.bias or spec.batch_norm:
            return None
        weight, bias = parameter_names(step)
        conv = _Conv(weight, bias, spec.kernel, spec.stride, spec.dilation, _conv_pad(spec), first)
        return [conv, *_activation(spec.activation)]
    if isinstance(spec, Pool):
        return [_Pool(spec.kind, spec.size, spec.stride or spec.size, step.in_shape[1])]
    if isinstance(spec, GlobalAvgPool):
        return [_GlobalAvgPool()]
    if isinstance(spec, Flatten):
        return [_Flatten()]
    return None  # Residual, Dropout, a GramConv after a trainable layer


def _fuse(ops: list[_Op]) -> list[_Op]:
    """ReLU -> max pool and ReLU -> global average pool, each as one fused pass."""
    out: list[_Op] = []
    for op in ops:
        after_relu = bool(out) and out[-1] == _Activation("relu")
        if after_relu and isinstance(op, _Pool) and op.fuses_with_relu():
            out[-1] = _ReluMaxPool(op.size)
        elif after_relu and isinstance(op, _GlobalAvgPool):
            out[-1] = _ReluGlobalAvgPool()
        else:
            out.append(op)
    return out


def _frozen_prefix(steps: Sequence[Step]) -> int:
    """How many leading layers are constant functions of the input: GramConv (its weights
    come from the spec, the same in every member) and pooling, if a GramConv is among them."""
    n = 0
    while n < len(steps) and isinstance(steps[n].spec, GramConv | Pool):
        n += 1
    return n if any(isinstance(s.spec, GramConv) for s in steps[:n]) else 0


def _frozen_layer(step: Step, x: Tensor) -> Tensor:
    """One layer of the frozen prefix on (N, C, L), the same call as build_model's module."""
    spec = step.spec
    if isinstance(spec, GramConv):
        w = gram_weight(spec, x.shape[1]).to(x.device)
        if spec.padding == "causal":  # left only, as models.build.CausalConv1d
            return F.conv1d(F.pad(x, (spec.kernel - 1, 0)), w, None, 1, 0, 1, x.shape[1])
        return F.conv1d(x, w, None, 1, spec.padding, 1, x.shape[1])
    assert isinstance(spec, Pool)
    pooling = F.max_pool1d if spec.kind == "max" else F.avg_pool1d
    return pooling(x, spec.size, spec.stride or spec.size)


def _plan(steps: Sequence[Step]) -> tuple[int, list[_Op]] | str:
    """(frozen prefix length, ops), or the first layer StackedNet cannot run."""
    n_frozen = _frozen_prefix(steps)
    ops: list[_Op] = []
    for step in steps[n_frozen:]:
        layer = _layer_ops(step, first=not ops)
        if layer is None:
            return f"layer {step.index} ({layer_type(step.spec)})"
        ops += layer
    return n_frozen, _fuse(ops)


class StackedNet(StackedForward):
    """The fast path: the validated spec as stacked ops (see the module docstring)."""

    frozen: tuple[Step, ...]  # computed once per dataset in prepare
    ops: tuple[_Op, ...]

    def __init__(self, steps: Sequence[Step]) -> None:
        plan = _plan(steps)
        if isinstance(plan, str):
            raise TrainingError(f"{plan} has no stacked op; train this network with VmapNet")
        n_frozen, ops = plan
        self.frozen, self.ops = tuple(steps[:n_frozen]), tuple(ops)
        frozen_names = [name for step in self.frozen for name in parameter_names(step)]
        self.parameter_names = (*frozen_names, *(name for op in ops for name in op.names))
        self.training = True

    @staticmethod
    def supports(steps: Sequence[Step]) -> bool:
        return not isinstance(_plan(steps), str)

    def prepare(self, X: Tensor) -> Tensor:
        """Channels-last rows after the frozen prefix; the first conv's columns if it
        comes first (the windows never change, so neither do they)."""
        with torch.no_grad():
            for step in self.frozen:
                X = _frozen_layer(step, X)
        h = X.transpose(1, 2)
        first = self.ops[0] if self.ops else None
        return (first.columns(h) if isinstance(first, _Conv) and first.prepared else h).contiguous()

    def __call__(self, params: Params, x: Tensor) -> Tensor:
        for op in self.ops:
            x = op(params, x)
        return x


class VmapNet(StackedForward):
    """The generic path: ``functional_call`` of a built module under ``vmap`` over members
    (each member draws its own dropout masks)."""

    module: nn.Module  # a member's network; functional_call swaps in the stacked parameters
    _batched: Callable[[Params, Tensor], Tensor]  # _one under vmap over the members

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.parameter_names = tuple(name for name, _ in module.named_parameters())
        self.training = True
        self._batched = torch.func.vmap(self._one, in_dims=(0, 0), randomness="different")

    def _one(self, params: Params, x: Tensor) -> Tensor:
        out: Tensor = torch.func.functional_call(self.module, params, (x,))
        return out

    def prepare(self, X: Tensor) -> Tensor:
        return X

    def __call__(self, params: Params, x: Tensor) -> Tensor:
        out: Tensor = self._batched(params, x)
        return out

    def train(self, mode: bool = True) -> None:
        self.training = mode
        self.module.train(mode)
