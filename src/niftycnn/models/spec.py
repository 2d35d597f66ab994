"""Layer specs: the plain-data description of a Conv1d network.

An architecture is a tuple of layer specs plus a head. Specs come from an experiment
file (``parse_layers``) or from Python, and ``build_model`` turns them into a module.
Tensors are channels-first, (batch, channels, length), as ``torch.nn.Conv1d`` expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Padding = Literal["same", "valid"] | int
Activation = Literal["relu", "gelu", "tanh", "elu", "leaky_relu", "none"]


@dataclass(frozen=True)
class Conv:
    """Conv1d with ``filters`` output channels; optional batch norm, then the activation."""

    filters: int
    kernel: int
    stride: int = 1
    padding: Padding = "same"
    dilation: int = 1
    activation: Activation = "relu"
    batch_norm: bool = False


@dataclass(frozen=True)
class Pool:
    """Max or average pooling; ``stride`` defaults to ``size``."""

    kind: Literal["max", "avg"] = "max"
    size: int = 2
    stride: int | None = None


@dataclass(frozen=True)
class Dropout:
    rate: float = 0.5


@dataclass(frozen=True)
class GlobalAvgPool:
    """Average over the length axis: (B, C, L) -> (B, C)."""


@dataclass(frozen=True)
class Flatten:
    """(B, C, L) -> (B, C * L)."""


@dataclass(frozen=True)
class Dense:
    """Fully connected layer on a flattened / pooled vector."""

    units: int
    activation: Activation = "relu"


LayerSpec = Conv | Pool | Dropout | GlobalAvgPool | Flatten | Dense


@dataclass(frozen=True)
class Architecture:
    """A body (layer specs) plus a head: K class logits or one regression output."""

    layers: tuple[LayerSpec, ...]
    head: Literal["classification", "regression"] = "classification"
    n_classes: int = 5
    name: str = field(default="custom")

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.head == "classification" else 1
