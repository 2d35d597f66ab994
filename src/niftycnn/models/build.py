"""Turn an :class:`Architecture` into a ``torch.nn.Module``.

The network is an ``nn.Sequential`` with one child per layer of the validated walk
(``validate_architecture``): child ``i`` is layer ``i`` of the summary table, then an
automatic global average pool when the body keeps a length axis, then the head, a plain
``nn.Linear`` to K logits (classification) or 1 output (regression).

Every ``Linear`` gets its ``in_features`` from the spec (no lazy modules), modules are
created in layer order (so one seed gives one initialisation), and no forward does
anything in place, so the model works with ``torch.func.functional_call`` and ``vmap``
over stacked parameters, as the batched walk-forward engine uses it. BatchNorm
(``batch_norm=True`` or a ``batch_norm`` layer) keeps running statistics in buffers
that it updates in place while training: the batched engine trains such networks one by
one. Blocks (:class:`SkipBlock`), parallel layers (:class:`Branches`) and upsampling are
modules the batched engine's fast path does not know; it stacks them through vmap.
"""

from __future__ import annotations

import torch
from torch import nn

from niftycnn.kernels import gram_basis
from niftycnn.models.checks import Size
from niftycnn.models.spec import (
    Architecture,
    BatchNorm,
    Block,
    Conv,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GramConv,
    LastStep,
    Parallel,
    Pool,
    Pool2d,
    Residual,
    Upsample,
    pair,
)
from niftycnn.models.validate import Step, validate_architecture

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "none": nn.Identity,
}


class GlobalAvgPool1d(nn.Module):
    """Average over the length axis: (B, C, L) -> (B, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=-1)


class GlobalAvgPool2d(nn.Module):
    """Average over an image's height and width: (B, C, H, W) -> (B, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(-2, -1))


class LastStep1d(nn.Module):
    """The last position of the length axis: (B, C, L) -> (B, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., -1]


class CausalConv1d(nn.Conv1d):
    """A Conv1d that pads dilation * (kernel - 1) zeros on the left only: output t sees
    inputs <= t. A subclass, not a pad module before the conv, so its parameters keep
    the names ``parameter_names`` gives a conv (the batched engine reads them)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = self.dilation[0] * (self.kernel_size[0] - 1)
        return super().forward(nn.functional.pad(x, (left, 0)))


class ResidualBlock(nn.Module):
    """act(convs(x) + skip(x)): ``n_convs`` same-padded convs, identity or 1x1 projection skip."""

    def __init__(self, in_channels: int, spec: Residual) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for j in range(spec.n_convs):
            layers.append(nn.Conv1d(channels, spec.filters, spec.kernel, padding="same"))
            if spec.batch_norm:
                layers.append(nn.BatchNorm1d(spec.filters))
            if j < spec.n_convs - 1:  # the last activation comes after the addition
                layers.append(_ACTIVATIONS[spec.activation]())
            channels = spec.filters
        self.convs = nn.Sequential(*layers)
        self.skip: nn.Module = (
            nn.Identity()
            if in_channels == spec.filters
            else nn.Conv1d(in_channels, spec.filters, 1)
        )
        self.act = _ACTIVATIONS[spec.activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.convs(x) + self.skip(x))


class SkipBlock(nn.Module):
    """A named block: act(body(x) + skip(x)), act([x, body(x)]) or act(body(x))."""

    def __init__(self, body: nn.Sequential, merge: str, skip: nn.Module, act: nn.Module) -> None:
        super().__init__()
        self.body, self.skip, self.act = body, skip, act
        self.merge = merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        if self.merge == "add":
            return self.act(y + self.skip(x))
        if self.merge == "concat":
            return self.act(torch.cat([x, y], dim=1))
        return self.act(y)


class Branches(nn.Module):
    """Parallel branches on one input, outputs stacked on the channels (an empty branch
    is the input itself)."""

    def __init__(self, branches: list[nn.Sequential]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class PerStepLinear(nn.Linear):
    """The segmentation head: the same Linear at every step, (B, C, L) -> (B, L, K)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2))


def _block(step: Step) -> nn.Module:
    spec = step.spec
    branches = [nn.Sequential(*(_module(s) for s in walk)) for walk in step.inner]
    if isinstance(spec, Parallel):
        return Branches(branches)
    assert isinstance(spec, Block)
    c_in = step.in_shape[0]
    c_body = step.inner[0][-1].out_shape[0] if step.inner[0] else c_in
    project = spec.skip == "add" and c_in != c_body
    skip: nn.Module = nn.Conv1d(c_in, c_body, 1) if project else nn.Identity()
    return SkipBlock(branches[0], spec.skip, skip, _ACTIVATIONS[spec.activation]())


def _upsample(spec: Upsample, in_channels: int) -> nn.Module:
    if spec.mode == "transposed":
        filters = spec.filters or in_channels
        conv = nn.ConvTranspose1d(in_channels, filters, spec.factor, stride=spec.factor)
        return nn.Sequential(conv, _ACTIVATIONS[spec.activation]())
    return nn.Upsample(scale_factor=float(spec.factor), mode=spec.mode)


def gram_weight(spec: GramConv, in_channels: int) -> torch.Tensor:
    """The frozen weight (C * n, 1, kernel) of a GramConv layer on ``in_channels`` inputs.

    Output channel ``c * n + d`` is the degree-``d`` polynomial (level, momentum,
    curvature) applied to input channel ``c``: torch orders grouped outputs group by group.
    """
    basis = torch.as_tensor(gram_basis(spec.kernel), dtype=torch.float32)
    return basis.repeat(in_channels, 1).unsqueeze(1)


def gram_conv(spec: GramConv, in_channels: int) -> nn.Conv1d:
    """A depthwise conv whose weights are the Gram basis on every input channel, frozen
    (a causal layer pads on the left only)."""
    weight = gram_weight(spec, in_channels)
    causal = spec.padding == "causal"
    conv = (CausalConv1d if causal else nn.Conv1d)(
        in_channels,
        weight.shape[0],
        spec.kernel,
        padding=0 if causal else spec.padding,
        groups=in_channels,
        bias=False,
    )
    with torch.no_grad():
        conv.weight.copy_(weight)
    conv.weight.requires_grad_(False)
    return conv


def _conv_block(spec: Conv, in_channels: int) -> nn.Sequential:
    causal = spec.padding == "causal"
    conv = (CausalConv1d if causal else nn.Conv1d)(
        in_channels,
        spec.filters,
        spec.kernel,
        stride=spec.stride,
        padding=0 if causal or spec.padding == "valid" else spec.padding,
        dilation=spec.dilation,
        groups=spec.groups,
        bias=spec.bias,
    )
    norm = [nn.BatchNorm1d(spec.filters)] if spec.batch_norm else []
    return nn.Sequential(conv, *norm, _ACTIVATIONS[spec.activation]())


def _conv2d_block(spec: Conv2d, in_channels: int) -> nn.Sequential:
    padding = spec.padding if isinstance(spec.padding, str) else pair(spec.padding)
    conv = nn.Conv2d(
        in_channels,
        spec.filters,
        pair(spec.kernel),
        stride=pair(spec.stride),
        padding=padding,
        dilation=pair(spec.dilation),
        bias=spec.bias,
    )
    norm = [nn.BatchNorm2d(spec.filters)] if spec.batch_norm else []
    return nn.Sequential(conv, *norm, _ACTIVATIONS[spec.activation]())


def _module(step: Step) -> nn.Module:
    """The module for one validated layer, given the shape that reaches it."""
    spec, n_in = step.spec, step.in_shape[0]
    if step.role == "head":
        if len(step.out_shape) == 2:  # (length, K): a segmentation head
            return PerStepLinear(n_in, step.out_shape[1])
        return nn.Linear(n_in, step.out_shape[0])
    if isinstance(spec, Block | Parallel):
        return _block(step)
    if isinstance(spec, Upsample):
        return _upsample(spec, n_in)
    image = len(step.in_shape) == 3
    if isinstance(spec, BatchNorm):
        norm = nn.BatchNorm2d(n_in) if image else nn.BatchNorm1d(n_in)
        return nn.Sequential(norm, _ACTIVATIONS[spec.activation]())
    if isinstance(spec, Conv2d):
        return _conv2d_block(spec, n_in)
    if isinstance(spec, Pool2d):
        pool2d = nn.MaxPool2d if spec.kind == "max" else nn.AvgPool2d
        size = pair(spec.size)
        return pool2d(size, stride=size if spec.stride is None else pair(spec.stride))
    if isinstance(spec, Conv):
        return _conv_block(spec, n_in)
    if isinstance(spec, GramConv):
        return gram_conv(spec, n_in)
    if isinstance(spec, Residual):
        return ResidualBlock(n_in, spec)
    if isinstance(spec, Pool):
        pool = nn.MaxPool1d if spec.kind == "max" else nn.AvgPool1d
        return pool(spec.size, stride=spec.stride or spec.size, padding=spec.padding)
    if isinstance(spec, Dropout):
        return nn.Dropout(spec.rate)
    if isinstance(spec, GlobalAvgPool):
        return GlobalAvgPool2d() if image else GlobalAvgPool1d()
    if isinstance(spec, LastStep):
        return LastStep1d()
    if isinstance(spec, Flatten):
        return nn.Flatten()
    if isinstance(spec, Dense):
        return nn.Sequential(nn.Linear(n_in, spec.units), _ACTIVATIONS[spec.activation]())
    raise TypeError(f"no module for layer spec {spec!r}")  # unreachable after validation


def layer_prefix(step: Step) -> str:
    """Where a layer's own Conv1d / Linear sits in ``build_model``'s network: ``"i.0"``
    inside a Conv or Dense block (conv or linear, [norm], activation), ``"i"`` for a bare
    module (GramConv, the head; Residual's parts are under ``"i.convs"`` / ``"i.skip"``)."""
    blocked = step.role != "head" and isinstance(step.spec, Conv | Conv2d | Dense)
    return f"{step.index}.0" if blocked else f"{step.index}"


def parameter_names(step: Step) -> tuple[str, ...]:
    """The state-dict keys of one layer's parameters in ``build_model``'s network, in
    order (buffers, batch norm's running statistics, excluded). The one home of the
    naming: ``build_model`` checks its modules against it, and the batched engine's
    stacked network reads its parameters by these names."""
    spec, prefix = step.spec, layer_prefix(step)
    if step.role == "head" or isinstance(spec, Dense):
        return (f"{prefix}.weight", f"{prefix}.bias")
    if isinstance(spec, GramConv):
        return (f"{prefix}.weight",)
    if isinstance(spec, Conv | Conv2d):
        names = [f"{prefix}.weight", *([f"{prefix}.bias"] if spec.bias else [])]
        norm = [f"{step.index}.1.weight", f"{step.index}.1.bias"] if spec.batch_norm else []
        return (*names, *norm)
    if isinstance(spec, Residual):
        return _residual_names(prefix, spec, step.in_shape[0])
    if isinstance(spec, BatchNorm) or (isinstance(spec, Upsample) and spec.mode == "transposed"):
        return (f"{prefix}.0.weight", f"{prefix}.0.bias")  # Sequential(module, activation)
    if isinstance(spec, Block | Parallel):
        return _nested_names(step)
    return ()


def _nested_names(step: Step) -> tuple[str, ...]:
    """A block's body (``i.body.*``, then a projection ``i.skip``) or a parallel layer's
    branches (``i.branches.b.*``): the inner layers' own names under that prefix."""
    where = "body" if isinstance(step.spec, Block) else "branches"
    names = []
    for b, walk in enumerate(step.inner):
        inner = f"{step.index}.{where}." if where == "body" else f"{step.index}.{where}.{b}."
        names += [inner + name for s in walk for name in parameter_names(s)]
    if isinstance(step.spec, Block) and step.spec.skip == "add":
        c_body = step.inner[0][-1].out_shape[0] if step.inner[0] else step.in_shape[0]
        if c_body != step.in_shape[0]:
            names += [f"{step.index}.skip.weight", f"{step.index}.skip.bias"]
    return tuple(names)


def _residual_names(prefix: str, spec: Residual, in_channels: int) -> tuple[str, ...]:
    """ResidualBlock's parameters: each conv (and norm) of ``convs``, then a projection skip."""
    names, j = [], 0
    for n in range(spec.n_convs):
        names += [f"{prefix}.convs.{j}.weight", f"{prefix}.convs.{j}.bias"]
        if spec.batch_norm:
            j += 1
            names += [f"{prefix}.convs.{j}.weight", f"{prefix}.convs.{j}.bias"]
        j += 2 if n < spec.n_convs - 1 else 1  # the conv (or norm) and an activation
    if in_channels != spec.filters:
        names += [f"{prefix}.skip.weight", f"{prefix}.skip.bias"]
    return tuple(names)


def build_model(arch: Architecture, in_channels: int = 5, length: Size = 20) -> nn.Module:
    """Build the network for inputs (batch, in_channels, length), or (batch, in_channels,
    height, width) when ``length`` is an image's (height, width); outputs (batch,
    n_outputs), or (batch, length, K) for a segmentation head.

    Raises ``SpecError`` (before building anything) when the spec does not fit the input.
    """
    steps = validate_architecture(arch, in_channels, length)
    model = nn.Sequential(*(_module(step) for step in steps))
    names = [name for step in steps for name in parameter_names(step)]
    if [name for name, _ in model.named_parameters()] != names:  # a bug, not a user error
        raise RuntimeError(f"build_model's parameters disagree with parameter_names {names}")
    return model


def first_conv(model: nn.Module) -> nn.Conv1d:
    """The first Conv1d of a model: the layer whose filters the analysis inspects."""
    for module in model.modules():
        if isinstance(module, nn.Conv1d):
            return module
    raise TypeError("model has no Conv1d layer")
