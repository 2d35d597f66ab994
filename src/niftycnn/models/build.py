"""Turn an :class:`Architecture` into a ``torch.nn.Module``."""

from __future__ import annotations

import torch
from torch import nn

from niftycnn.models.spec import (
    Architecture,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    LayerSpec,
    Pool,
)

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "none": nn.Identity,
}


class GlobalAvgPool1d(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=-1)


def _layer_modules(spec: LayerSpec, channels: int, flat: int | None) -> tuple[list[nn.Module], int, int | None]:
    """Modules for one spec, plus the channel count and flattened width after it."""
    if isinstance(spec, Conv):
        mods: list[nn.Module] = [
            nn.Conv1d(channels, spec.filters, spec.kernel, stride=spec.stride,
                      padding=spec.padding, dilation=spec.dilation)
        ]
        if spec.batch_norm:
            mods.append(nn.BatchNorm1d(spec.filters))
        mods.append(_ACTIVATIONS[spec.activation]())
        return mods, spec.filters, None
    if isinstance(spec, Pool):
        cls = nn.MaxPool1d if spec.kind == "max" else nn.AvgPool1d
        return [cls(spec.size, stride=spec.stride or spec.size)], channels, None
    if isinstance(spec, Dropout):
        return [nn.Dropout(spec.rate)], channels, flat
    if isinstance(spec, GlobalAvgPool):
        return [GlobalAvgPool1d()], channels, channels
    if isinstance(spec, Flatten):
        return [nn.Flatten()], channels, -1
    if isinstance(spec, Dense):
        return [nn.LazyLinear(spec.units), _ACTIVATIONS[spec.activation]()], channels, spec.units
    raise TypeError(f"unknown layer spec {spec!r}")


def build_model(arch: Architecture, in_channels: int = 5, length: int = 20) -> nn.Module:
    """Build the network for inputs of shape (batch, in_channels, length)."""
    mods: list[nn.Module] = []
    channels, flat = in_channels, None
    for spec in arch.layers:
        new, channels, flat = _layer_modules(spec, channels, flat)
        mods.extend(new)
    if flat is None:
        mods.append(GlobalAvgPool1d())
    mods.append(nn.LazyLinear(arch.n_outputs))
    model = nn.Sequential(*mods)
    with torch.no_grad():  # materialise lazy layers
        model.eval()(torch.zeros(1, in_channels, length))
    return model.train()


def first_conv(model: nn.Module) -> nn.Conv1d:
    """The first Conv1d of a model: the layer whose filters the analysis inspects."""
    for module in model.modules():
        if isinstance(module, nn.Conv1d):
            return module
    raise TypeError("model has no Conv1d layer")
