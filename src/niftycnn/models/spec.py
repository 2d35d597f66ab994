"""Layer specs: the plain-data description of a Conv1d network.

An architecture is a tuple of layer specs plus a head. Specs come from an experiment
file's ``[model]`` table (``architecture_from_dict`` / ``parse_layers``) or from Python,
and ``build_model`` turns them into a module. Tensors are channels-first,
(batch, channels, length), as ``torch.nn.Conv1d`` expects.

This module checks the *form* of a spec (known layer types, known fields, values of the
right type). Whether the values make sense for a given input shape (positive sizes,
kernels that fit, Dense after a flatten, ...) is checked by
``niftycnn.models.validate.validate_architecture``, which ``build_model`` and
``summarize`` call before doing anything else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from niftycnn.errors import SpecError

Padding = Literal["same", "valid"] | int
Activation = Literal["relu", "gelu", "tanh", "elu", "leaky_relu", "none"]
Head = Literal["classification", "regression"]

ACTIVATIONS: tuple[str, ...] = ("relu", "gelu", "tanh", "elu", "leaky_relu", "none")
HEADS: tuple[str, ...] = ("classification", "regression")
POOL_KINDS: tuple[str, ...] = ("max", "avg")
# Frozen first-layer kernels a Conv can be initialised to (see ``niftycnn.kernels``).
FIXED_KERNELS: tuple[str, ...] = ("gram",)


@dataclass(frozen=True)
class Conv:
    """Conv1d with ``filters`` output channels; optional batch norm, then the activation.

    ``groups`` > 1 splits input and output channels into groups (``groups`` equal to the
    input channels is a depthwise conv). ``fixed="gram"`` sets the weights to the level /
    momentum / curvature kernels of ``gram_basis(kernel)`` for every group and freezes
    them (``requires_grad=False``); it needs ``bias=False`` and one group per input channel.
    """

    filters: int
    kernel: int
    stride: int = 1
    padding: Padding = "same"
    dilation: int = 1
    activation: Activation = "relu"
    batch_norm: bool = False
    groups: int = 1
    bias: bool = True
    fixed: Literal["gram"] | None = None


@dataclass(frozen=True)
class Pool:
    """Max or average pooling; ``stride`` defaults to ``size``."""

    kind: Literal["max", "avg"] = "max"
    size: int = 2
    stride: int | None = None


@dataclass(frozen=True)
class Dropout:
    """Zero a fraction ``rate`` of activations while training (identity in eval mode)."""

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


@dataclass(frozen=True)
class Residual:
    """A residual block: ``n_convs`` same-padded stride-1 convs, plus a skip connection.

    out = act(convs(x) + skip(x)); the last conv has no activation of its own, and the
    skip is the identity, or a 1x1 conv projection when the channel count changes
    (He et al. 2016; Wang et al. 2017 for time series). Length is preserved.
    """

    filters: int
    kernel: int = 3
    n_convs: int = 2
    activation: Activation = "relu"
    batch_norm: bool = False


LayerSpec = Conv | Pool | Dropout | GlobalAvgPool | Flatten | Dense | Residual

# The ``type`` names of an experiment file's layer tables, one per spec class.
LAYER_TYPES: dict[str, type] = {
    "conv": Conv,
    "pool": Pool,
    "dropout": Dropout,
    "gap": GlobalAvgPool,
    "flatten": Flatten,
    "dense": Dense,
    "residual": Residual,
}
_TYPE_ALIASES = {"global_avg_pool": "gap", "globalavgpool": "gap", "linear": "dense"}


def layer_type(spec: object) -> str:
    """The short type name of a spec (``conv``, ``pool``, ...), as written in experiment files."""
    for name, cls in LAYER_TYPES.items():
        if type(spec) is cls:
            return name
    return type(spec).__name__


@dataclass(frozen=True)
class Architecture:
    """A body (layer specs) plus a head: K class logits or one regression output.

    The same body serves both heads: the head is a final ``Linear`` to ``n_outputs``. A
    body that ends with a length axis (no ``GlobalAvgPool`` / ``Flatten``) gets a global
    average pool before the head.
    """

    layers: tuple[LayerSpec, ...]
    head: Head = "classification"
    n_classes: int = 5
    name: str = field(default="custom")

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.head == "classification" else 1


# --------------------------------------------------------------------------------------
# From an experiment file's [model] table


def _check_value_type(where: str, name: str, value: Any, annotation: str) -> Any:
    """Check one field's value against its annotation (as a string: ``from __future__``)."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    ok = {
        "int": is_int,
        "float": is_int or isinstance(value, float),
        "bool": isinstance(value, bool),
        "int | None": value is None or is_int,
        "Padding": is_int or value in ("same", "valid"),
        "Activation": value in ACTIVATIONS,
        "Literal['max', 'avg']": value in POOL_KINDS,
        "Literal['gram'] | None": value is None or value in FIXED_KERNELS,
    }.get(annotation, True)
    if not ok:
        allowed = {
            "Padding": '"same", "valid" or an integer',
            "Activation": ", ".join(ACTIVATIONS),
            "Literal['max', 'avg']": ", ".join(POOL_KINDS),
            "Literal['gram'] | None": ", ".join(FIXED_KERNELS),
            "int": "an integer",
            "int | None": "an integer",
            "float": "a number",
            "bool": "true or false",
        }.get(annotation, annotation)
        raise SpecError(f"{where}: {name} {value!r} is not valid; expected {allowed}")
    return float(value) if annotation == "float" else value


def parse_layer(index: int, table: Mapping[str, Any]) -> LayerSpec:
    """One layer spec from one ``{type = "conv", filters = 16, ...}`` table."""
    if not isinstance(table, Mapping):
        raise SpecError(
            f"layer {index}: expected a table like {{type = 'conv', ...}}, got {table!r}"
        )
    if "type" not in table:
        raise SpecError(f"layer {index}: missing 'type'; valid types: {', '.join(LAYER_TYPES)}")
    raw_type = str(table["type"]).lower()
    kind = _TYPE_ALIASES.get(raw_type, raw_type)
    if kind not in LAYER_TYPES:
        raise SpecError(
            f"layer {index}: unknown layer type {table['type']!r}; "
            f"valid types: {', '.join(LAYER_TYPES)}"
        )
    cls = LAYER_TYPES[kind]
    where = f"layer {index} ({kind})"
    known = {f.name: f for f in fields(cls)}
    values = {k: v for k, v in table.items() if k != "type"}
    for key in values:
        if key not in known:
            valid = ", ".join(known) or "none"
            raise SpecError(f"{where}: unknown field {key!r}; valid fields: {valid}")
    for name, f in known.items():
        if name in values:
            values[name] = _check_value_type(where, name, values[name], str(f.type))
        elif f.default is f.default_factory:  # both MISSING: a required field
            raise SpecError(f"{where}: missing required field {name!r}")
    return cls(**values)


def parse_layers(tables: Sequence[Mapping[str, Any]]) -> tuple[LayerSpec, ...]:
    """Layer specs from an experiment file's ``layers = [{type = ...}, ...]`` list."""
    if isinstance(tables, (str, bytes, Mapping)) or not isinstance(tables, Sequence):
        raise SpecError(f"layers must be a list of tables, got {type(tables).__name__}")
    return tuple(parse_layer(i, t) for i, t in enumerate(tables))


_MODEL_KEYS = ("preset", "layers", "head", "n_classes", "name")


def architecture_from_dict(d: Mapping[str, Any]) -> Architecture:
    """The architecture of an experiment file's ``[model]`` table.

    Either ``preset = "q10"`` or an explicit ``layers = [...]`` list (not both), plus
    optional ``head`` ("classification" or "regression"), ``n_classes`` and ``name``.
    """
    from niftycnn.models.presets import preset  # presets import this module

    unknown = sorted(set(d) - set(_MODEL_KEYS))
    if unknown:
        raise SpecError(
            f"[model]: unknown key {unknown[0]!r}; valid keys: {', '.join(_MODEL_KEYS)}"
        )
    if ("preset" in d) == ("layers" in d):
        raise SpecError("[model]: give exactly one of 'preset' (a name) or 'layers' (a list)")
    head = d.get("head", "classification")
    if head not in HEADS:
        raise SpecError(f"[model]: head {head!r} is not valid; expected one of {', '.join(HEADS)}")
    n_classes = d.get("n_classes", 5)
    bad_type = isinstance(n_classes, bool) or not isinstance(n_classes, int)
    if bad_type or (head == "classification" and n_classes < 2):
        raise SpecError(f"[model]: n_classes {n_classes!r} is not valid; expected an integer >= 2")
    if "preset" in d:
        arch = preset(str(d["preset"]), head=head, n_classes=n_classes)
        return Architecture(arch.layers, head, n_classes, str(d.get("name", arch.name)))
    return Architecture(parse_layers(d["layers"]), head, n_classes, str(d.get("name", "custom")))
