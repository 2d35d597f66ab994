"""Layer specs: the plain-data description of a Conv1d network, or of a Conv2d network
on chart images (``Conv2d``, ``Pool2d``).

An architecture is a tuple of layer specs plus a head. Specs come from an experiment
file's ``[model]`` table (``parse_layers``) or from Python, and ``build_model`` turns
them into a module. Tensors are channels-first, (batch, channels, length), as
``torch.nn.Conv1d`` expects; images (batch, channels, height, width).

Each spec is a plain frozen dataclass; a table from a file is validated into one by a
pydantic ``TypeAdapter`` (``niftycnn.models.parse``: known fields, values of the right
type, strictly: ``true`` is not an integer). Whether the values make sense for a given
input shape (positive sizes, kernels that fit, Dense after a flatten, ...) is checked by
``niftycnn.models.validate.validate_architecture``, which ``build_model`` and
``summarize`` call before doing anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, SkipValidation, Strict

# Strict scalars: a TOML ``true`` is not an integer, ``"3"`` is not a number.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]
Padding = Literal["same", "valid", "causal"] | Int
Pair = Int | tuple[Int, Int]  # one size for both axes of an image, or (height, width)
Padding2d = Literal["same", "valid"] | Pair
Activation = Literal["relu", "gelu", "tanh", "elu", "leaky_relu", "none"]
Head = Literal["classification", "regression", "segmentation"]

ACTIVATIONS: tuple[str, ...] = ("relu", "gelu", "tanh", "elu", "leaky_relu", "none")
HEADS: tuple[str, ...] = ("classification", "regression", "segmentation")
POOL_KINDS: tuple[str, ...] = ("max", "avg")
_FORBID = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Conv:
    """Conv1d with ``filters`` output channels; optional batch norm, then the activation.

    ``groups`` > 1 splits input and output channels into groups (``groups`` equal to the
    input channels is a depthwise conv). ``padding``: "same" (zeros on both sides, length
    kept), "valid" (none), an integer (both sides), or "causal" (dilation * (kernel - 1)
    zeros on the left only: output t sees inputs <= t, length kept).
    """

    __pydantic_config__ = _FORBID
    filters: Int
    kernel: Int
    stride: Int = 1
    padding: Padding = "same"
    dilation: Int = 1
    activation: Activation = "relu"
    batch_norm: Bool = False
    groups: Int = 1
    bias: Bool = True


@dataclass(frozen=True)
class GramConv:
    """Frozen reference kernels on every input channel: the degree 0-2 discrete Gram
    polynomials of ``kernel`` taps (level, momentum, curvature; ``niftycnn.kernels``),
    applied depthwise, no bias, no activation (so a slope's sign survives). C input
    channels give C * min(3, kernel) outputs, so the layer fits any feature set."""

    __pydantic_config__ = _FORBID
    kernel: Int = 3
    padding: Padding = "same"


@dataclass(frozen=True)
class Pool:
    """Max or average pooling; ``stride`` defaults to ``size``. ``padding`` (at most
    size // 2) pads both ends: ``size 3, stride 1, padding 1`` keeps the length, as in
    the inception module's pooling branch (padded positions never win a max and count
    as zeros in an average)."""

    __pydantic_config__ = _FORBID
    kind: Literal["max", "avg"] = "max"
    size: Int = 2
    stride: Int | None = None
    padding: Int = 0


@dataclass(frozen=True)
class Dropout:
    """Zero a fraction ``rate`` of activations while training (identity in eval mode)."""

    __pydantic_config__ = _FORBID
    rate: Float = 0.5


@dataclass(frozen=True)
class GlobalAvgPool:
    """Average over the length axis: (B, C, L) -> (B, C)."""

    __pydantic_config__ = _FORBID


@dataclass(frozen=True)
class LastStep:
    """The last position of the length axis: (B, C, L) -> (B, C). The readout of the
    window's most recent day; with causal convolutions before it, each feature sees the
    last receptive-field days and nothing is averaged away."""

    __pydantic_config__ = _FORBID


@dataclass(frozen=True)
class Flatten:
    """(B, C, L) -> (B, C * L)."""

    __pydantic_config__ = _FORBID


@dataclass(frozen=True)
class Dense:
    """Fully connected layer on a flattened / pooled vector."""

    __pydantic_config__ = _FORBID
    units: Int
    activation: Activation = "relu"


@dataclass(frozen=True)
class Residual:
    """A residual block: ``n_convs`` same-padded stride-1 convs, plus a skip connection.

    out = act(convs(x) + skip(x)); the last conv has no activation of its own, and the
    skip is the identity, or a 1x1 conv projection when the channel count changes
    (He et al. 2016; Wang et al. 2017 for time series). Length is preserved.
    """

    __pydantic_config__ = _FORBID
    filters: Int
    kernel: Int = 3
    n_convs: Int = 2
    activation: Activation = "relu"
    batch_norm: Bool = False


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalisation over the channels (``BatchNorm1d``: a scale and a shift per
    channel, running statistics in buffers, so networks with it train one by one), then
    ``activation``."""

    __pydantic_config__ = _FORBID
    activation: Activation = "none"


@dataclass(frozen=True)
class Upsample:
    """Lengthen by ``factor``: a transposed conv (``mode = "transposed"``: kernel = stride =
    ``factor``, ``filters`` outputs, default the input's channels, then ``activation``) or
    parameter-free interpolation (``"nearest"``, ``"linear"``). The decoder half of U-Net."""

    __pydantic_config__ = _FORBID
    factor: Int = 2
    mode: Literal["transposed", "nearest", "linear"] = "transposed"
    filters: Int | None = None
    activation: Activation = "none"


def pair(value: Any) -> tuple[int, int]:
    """(height, width) of a 2D size: an integer stands for both axes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    return (value[0], value[1])


def _pairs(spec: object, names: tuple[str, ...]) -> None:
    """Lists (a TOML ``[5, 3]``, or Python) stored as tuples, so specs stay hashable."""
    for name in names:
        value = getattr(spec, name)
        if isinstance(value, list):
            object.__setattr__(spec, name, tuple(value))


@dataclass(frozen=True)
class Conv2d:
    """Conv2d on images (channels, height, width), then optional batch norm
    (``BatchNorm2d``) and the activation. Sizes are an integer (both axes) or
    [height, width]; ``padding``: "same" (stride 1 only), "valid", or zeros per axis."""

    __pydantic_config__ = _FORBID
    filters: Int
    kernel: Pair
    stride: Pair = 1
    padding: Padding2d = "same"
    dilation: Pair = 1
    activation: Activation = "relu"
    batch_norm: Bool = False
    bias: Bool = True

    def __post_init__(self) -> None:
        _pairs(self, ("kernel", "stride", "padding", "dilation"))


@dataclass(frozen=True)
class Pool2d:
    """2D max or average pooling; ``stride`` defaults to ``size`` ([2, 1]: halve the
    height, keep the width, as Jiang, Kelly & Xiu pool)."""

    __pydantic_config__ = _FORBID
    kind: Literal["max", "avg"] = "max"
    size: Pair = 2
    stride: Pair | None = None

    def __post_init__(self) -> None:
        _pairs(self, ("size", "stride"))


def _as_tuples(value: Any) -> Any:
    """Nested lists of specs as tuples (specs are hashable, like the architecture)."""
    if isinstance(value, list | tuple):
        return tuple(_as_tuples(v) for v in value)
    return value


@dataclass(frozen=True)
class Block:
    """A named sub-network with a skip connection around it, out = merge(layers(x), x):

    - ``skip = "add"``: layers(x) + x, x through a 1x1 conv projection when the channel
      count changes (residual learning, He et al. 2016), then ``activation``;
    - ``"concat"``: [x, layers(x)] stacked on the channels (U-Net's skip connections,
      Ronneberger et al. 2015: nest one block per resolution), then ``activation``;
    - ``"none"``: layers(x) alone, a named group.

    The layers must end with the input's length (pool, then upsample back); the
    validation says which layer breaks that.
    """

    __pydantic_config__ = _FORBID
    layers: Annotated[tuple[Any, ...], SkipValidation]
    name: str = "block"
    skip: Literal["add", "concat", "none"] = "add"
    activation: Activation = "none"

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", _as_tuples(self.layers))


@dataclass(frozen=True)
class Parallel:
    """Branches on the same input, their outputs stacked on the channels (the inception
    module, Szegedy et al. 2015; InceptionTime, Ismail Fawaz et al. 2020). Each branch is
    a list of layers that must keep the input's length; an empty branch is the input."""

    __pydantic_config__ = _FORBID
    branches: Annotated[tuple[Any, ...], SkipValidation]
    name: str = "parallel"

    def __post_init__(self) -> None:
        object.__setattr__(self, "branches", _as_tuples(self.branches))


LayerSpec = (
    Conv
    | GramConv
    | Pool
    | Dropout
    | GlobalAvgPool
    | LastStep
    | Flatten
    | Dense
    | Residual
    | BatchNorm
    | Upsample
    | Block
    | Parallel
    | Conv2d
    | Pool2d
)

# The ``type`` names of an experiment file's layer tables, one per spec class.
LAYER_TYPES: dict[str, type] = {
    "conv": Conv,
    "gram": GramConv,
    "pool": Pool,
    "dropout": Dropout,
    "gap": GlobalAvgPool,
    "last": LastStep,
    "flatten": Flatten,
    "dense": Dense,
    "residual": Residual,
    "batch_norm": BatchNorm,
    "upsample": Upsample,
    "block": Block,
    "parallel": Parallel,
    "conv2d": Conv2d,
    "pool2d": Pool2d,
}


def layer_type(spec: object) -> str:
    """The short type name of a spec (``conv``, ``pool``, ...), as written in experiment files."""
    for name, cls in LAYER_TYPES.items():
        if type(spec) is cls:
            return name
    return type(spec).__name__


@dataclass(frozen=True)
class Architecture:
    """A body (layer specs) plus a head: K class logits, one regression output, or K
    class logits for every day of the window (``segmentation``, a per-step head).

    The same body serves every head: the head is a final ``Linear`` to ``n_outputs``. A
    body that ends with a length axis (no ``GlobalAvgPool`` / ``LastStep`` / ``Flatten``)
    gets a global average pool before a classification or regression head; a segmentation
    head applies its ``Linear`` at every step instead, so the body must end with the
    input's length.
    """

    layers: tuple[LayerSpec, ...]
    head: Head = "classification"
    n_classes: int = 5
    name: str = field(default="custom")

    @property
    def n_outputs(self) -> int:
        return 1 if self.head == "regression" else self.n_classes
