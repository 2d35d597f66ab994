"""Check an architecture against an input shape before anything is built or trained.

``validate_architecture`` walks the layers once, tracking the tensor shape, and raises a
``SpecError`` whose one-line message names the layer index, its type, the bad field and
value, and what to do, e.g.::

    layer 2 (pool): size 4 exceeds input length 3; use a smaller size or fewer pooling layers

It returns the walk itself (one ``Step`` per layer, with input and output shapes), so
``build_model`` and ``summarize`` use the very shapes that were checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from niftycnn.errors import SpecError
from niftycnn.kernels import gram_basis
from niftycnn.models.checks import (
    Shape,
    Size,
    check_conv2d,
    check_pool2d,
    input_shape,
)
from niftycnn.models.checks import activation as _activation
from niftycnn.models.checks import positive as _positive
from niftycnn.models.formulas import conv_output_length
from niftycnn.models.spec import (
    HEADS,
    LAYER_TYPES,
    POOL_KINDS,
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
    LayerSpec,
    Parallel,
    Pool,
    Pool2d,
    Residual,
    Upsample,
    layer_type,
)


@dataclass(frozen=True)
class Step:
    """One layer of the walk: its spec and the (per-sample) shapes around it.

    ``role`` is "body" for the user's layers, "auto" for the global average pool added
    when the body ends with a length axis, and "head" for the final Linear (a
    segmentation head's out_shape is (length, K): K logits per day). ``inner`` holds the
    walk inside a block (one branch) or a parallel layer (one per branch).
    """

    index: int
    spec: LayerSpec
    in_shape: Shape
    out_shape: Shape
    role: Literal["body", "auto", "head"] = "body"
    inner: tuple[tuple[Step, ...], ...] = field(default=())


def iter_steps(steps: Sequence[Step]) -> Iterator[Step]:
    """Every step of a walk, depth first: a block's own step, then the steps inside it."""
    for step in steps:
        yield step
        for branch in step.inner:
            yield from iter_steps(branch)


def _needs_length(where: str, shape: Shape) -> int:
    if len(shape) == 3:
        raise SpecError(
            f"{where}: a 1D layer on an image ({shape[0]} x {shape[1]} x {shape[2]}); use "
            "conv2d / pool2d layers for images, or gap / flatten before 1D layers"
        )
    if len(shape) != 2:
        raise SpecError(
            f"{where}: input is already flat ({shape[0]} features) after a gap/flatten/dense "
            "layer; put conv, pool and residual layers before it"
        )
    return shape[1]


def _conv_padding(where: str, spec: Conv) -> int | None:
    """The padding as an integer, or None for "same" / "causal" (which keep the length)."""
    p = spec.padding
    if p in ("same", "causal"):
        if spec.stride != 1:
            raise SpecError(
                f"{where}: padding {p!r} needs stride 1, got stride {spec.stride}; "
                "use padding 'valid' or an integer with strides"
            )
        return None
    if p == "valid":
        return 0
    if isinstance(p, bool) or not isinstance(p, int) or p < 0:
        raise SpecError(
            f"{where}: padding {p!r} is not valid; use 'same', 'valid' or an integer >= 0"
        )
    return p


def _check_conv(where: str, spec: Conv, shape: Shape) -> Shape:
    channels = shape[0]
    length = _needs_length(where, shape)
    for name in ("filters", "kernel", "stride", "dilation", "groups"):
        _positive(where, name, getattr(spec, name))
    _activation(where, spec.activation)
    if channels % spec.groups or spec.filters % spec.groups:
        raise SpecError(
            f"{where}: groups {spec.groups} must divide both input channels {channels} "
            f"and filters {spec.filters}"
        )
    padding = _conv_padding(where, spec)
    if padding is None:
        return (spec.filters, length)
    span = spec.dilation * (spec.kernel - 1) + 1
    if span > length + 2 * padding:
        raise SpecError(
            f"{where}: kernel {spec.kernel} (span {span} with dilation {spec.dilation}) exceeds "
            f"padded input length {length + 2 * padding}; use a smaller kernel, padding "
            "'same', or fewer downsampling layers"
        )
    return (
        spec.filters,
        conv_output_length(length, spec.kernel, spec.stride, padding, spec.dilation),
    )


def _check_gram(where: str, spec: GramConv, shape: Shape) -> Shape:
    """C channels in, C * (number of Gram polynomials of ``kernel`` taps) out."""
    channels, length = shape[0], _needs_length(where, shape)
    _positive(where, "kernel", spec.kernel)
    out_channels = channels * gram_basis(spec.kernel).shape[0]
    as_conv = Conv(out_channels, spec.kernel, padding=spec.padding, groups=channels, bias=False)
    return _check_conv(where, as_conv, (channels, length))


def _check_pool(where: str, spec: Pool, shape: Shape) -> Shape:
    length = _needs_length(where, shape)
    if spec.kind not in POOL_KINDS:
        raise SpecError(f"{where}: kind {spec.kind!r} is unknown; valid: {', '.join(POOL_KINDS)}")
    _positive(where, "size", spec.size)
    stride = spec.size if spec.stride is None else spec.stride
    _positive(where, "stride", stride)
    pad = spec.padding
    if isinstance(pad, bool) or not isinstance(pad, int) or not 0 <= pad <= spec.size // 2:
        raise SpecError(
            f"{where}: padding {pad!r} must be an integer from 0 to size // 2 = {spec.size // 2}"
        )
    if spec.size > length + 2 * pad:
        raise SpecError(
            f"{where}: size {spec.size} exceeds input length {length}; "
            "use a smaller size or fewer pooling layers"
        )
    return (shape[0], conv_output_length(length, spec.size, stride, pad))


def _check_upsample(where: str, spec: Upsample, shape: Shape) -> Shape:
    length = _needs_length(where, shape)
    _positive(where, "factor", spec.factor)
    modes = ("transposed", "nearest", "linear")
    if spec.mode not in modes:
        raise SpecError(f"{where}: mode {spec.mode!r} is unknown; valid: {', '.join(modes)}")
    if spec.filters is not None:
        _positive(where, "filters", spec.filters)
        if spec.mode != "transposed":
            raise SpecError(
                f"{where}: filters {spec.filters} needs mode 'transposed' (interpolation "
                "keeps the channels); drop filters or set mode = 'transposed'"
            )
    _activation(where, spec.activation)
    return (spec.filters or shape[0], length * spec.factor)


def _walk(where: str, layers: object, shape: Shape) -> tuple[tuple[Step, ...], Shape]:
    """The walk of a layer list from ``shape`` (``where``: the enclosing location)."""
    if not isinstance(layers, (tuple, list)):
        raise SpecError(f"{where}layers must be a tuple of layer specs, got {layers!r}")
    steps: list[Step] = []
    for i, spec in enumerate(layers):
        kind = layer_type(spec)
        if isinstance(spec, Block | Parallel):
            kind = f"{kind} {spec.name!r}"
        known = isinstance(spec, Block | Parallel) or kind in LAYER_TYPES
        here = f"{where}layer {i} ({kind})" if known else f"{where}layer {i}"
        out, inner = _check_layer(here, spec, shape)
        steps.append(Step(i, spec, shape, out, inner=inner))
        shape = out
    return tuple(steps), shape


def _check_branches(
    where: str, spec: Block | Parallel, shape: Shape
) -> tuple[Shape, tuple[tuple[Step, ...], ...]]:
    """A block's or parallel layer's output shape: every branch keeps the length."""
    length = _needs_length(where, shape)
    if isinstance(spec, Block):
        if spec.skip not in ("add", "concat", "none"):
            raise SpecError(f"{where}: skip {spec.skip!r} is unknown; valid: add, concat, none")
        _activation(where, spec.activation)
        branches: tuple[object, ...] = (spec.layers,)
        inners = [f"{where} > "]
    else:
        branches = spec.branches
        if not isinstance(branches, (tuple, list)) or not branches:
            raise SpecError(f"{where}: branches must be a non-empty list of layer lists")
        inners = [f"{where} > branch {b} > " for b in range(len(branches))]
    walks, outs = [], []
    for inner, layers in zip(inners, branches, strict=True):
        steps, out = _walk(inner, layers, shape)
        if len(out) != 2 or out[1] != length:
            got = f"length {out[1]}" if len(out) == 2 else f"a flat output ({out[0]} features)"
            raise SpecError(
                f"{inner.removesuffix(' > ')}: ends with {got}, but its output is merged with "
                f"its input of length {length}; keep the length (padding 'same', upsample "
                "after pooling) and put gap/flatten/dense layers after the block"
            )
        walks.append(steps)
        outs.append(out)
    if isinstance(spec, Parallel):
        return (sum(c for c, _ in outs), length), tuple(walks)
    channels = outs[0][0]
    if spec.skip == "concat":
        channels += shape[0]
    return (channels, length), tuple(walks)


def _check_layer(
    where: str, spec: object, shape: Shape
) -> tuple[Shape, tuple[tuple[Step, ...], ...]]:
    """The output shape of one layer and the walk inside it (blocks, parallel layers),
    or a SpecError naming what is wrong with it."""
    if isinstance(spec, Block | Parallel):
        return _check_branches(where, spec, shape)
    return _check_plain(where, spec, shape), ()


def _check_plain(where: str, spec: object, shape: Shape) -> Shape:
    """The output shape of one layer without sub-layers."""
    if isinstance(spec, Upsample):
        return _check_upsample(where, spec, shape)
    if isinstance(spec, BatchNorm):
        if len(shape) == 1:
            _needs_length(where, shape)
        _activation(where, spec.activation)
        return shape
    if isinstance(spec, Conv2d):
        return check_conv2d(where, spec, shape)
    if isinstance(spec, Pool2d):
        return check_pool2d(where, spec, shape)
    if isinstance(spec, Conv):
        return _check_conv(where, spec, shape)
    if isinstance(spec, GramConv):
        return _check_gram(where, spec, shape)
    if isinstance(spec, Pool):
        return _check_pool(where, spec, shape)
    if isinstance(spec, Residual):
        _needs_length(where, shape)
        for name in ("filters", "kernel", "n_convs"):
            _positive(where, name, getattr(spec, name))
        _activation(where, spec.activation)
        return (spec.filters, shape[1])
    if isinstance(spec, Dropout):
        rate = spec.rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise SpecError(f"{where}: rate {rate!r} must be in [0, 1)")
        return shape
    if isinstance(spec, GlobalAvgPool):
        if len(shape) == 1:
            _needs_length(where, shape)
        return (shape[0],)
    if isinstance(spec, LastStep):
        _needs_length(where, shape)
        return (shape[0],)
    if isinstance(spec, Flatten):
        if len(shape) == 3:
            return (shape[0] * shape[1] * shape[2],)
        return (shape[0] * _needs_length(where, shape),)
    if isinstance(spec, Dense):
        if len(shape) != 1:
            raise SpecError(
                f"{where}: units {spec.units!r} on an input of shape "
                f"{' x '.join(map(str, shape))}; "
                "put a gap or flatten layer before the first dense layer"
            )
        _positive(where, "units", spec.units)
        _activation(where, spec.activation)
        return (spec.units,)
    raise SpecError(f"{where}: unknown layer type {spec!r}; valid types: {', '.join(LAYER_TYPES)}")


def _per_step_body(shape: Shape, length: int) -> None:
    """A segmentation head needs the body to end with one position per input day."""
    if len(shape) != 2:
        raise SpecError(
            f"architecture: a segmentation head labels every day, but the body ends flat "
            f"({shape[0]} features); drop the gap/flatten/dense layers"
        )
    if shape[1] != length:
        raise SpecError(
            f"architecture: a segmentation head labels every day of the {length}-day "
            f"window, but the body ends with length {shape[1]}; keep the length "
            "(padding 'same') or upsample back after pooling"
        )


def validate_architecture(
    arch: Architecture, in_channels: int = 5, length: Size = 20
) -> tuple[Step, ...]:
    """Check ``arch`` for inputs (batch, in_channels, length), or (batch, in_channels,
    height, width) when ``length`` is an image's (height, width); return the walk of
    shapes.

    The walk ends with the automatic global average pool (when the body keeps a length
    axis, or an image's two) and the head, a ``Dense(n_outputs, "none")``; a segmentation
    head applies that Dense at every step of a body that ends with the input's length,
    (length, K).
    """
    _positive("input", "in_channels", in_channels)
    start = input_shape(in_channels, length)
    if arch.head not in HEADS:
        raise SpecError(f"architecture: head {arch.head!r} is unknown; valid: {', '.join(HEADS)}")
    if arch.head != "regression":
        n = arch.n_classes
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise SpecError(f"architecture: n_classes {n!r} must be an integer >= 2")
    if not isinstance(arch.layers, (tuple, list)):
        raise SpecError(f"architecture: layers must be a tuple of layer specs, got {arch.layers!r}")
    body, shape = _walk("", arch.layers, start)
    steps = list(body)
    if arch.head == "segmentation":
        if not isinstance(length, int):
            raise SpecError("architecture: a segmentation head labels days of a series, not images")
        _per_step_body(shape, length)
        head = Dense(arch.n_outputs, "none")
        steps.append(Step(len(steps), head, shape, (length, arch.n_outputs), "head"))
        return tuple(steps)
    if len(shape) in (2, 3):
        steps.append(Step(len(steps), GlobalAvgPool(), shape, (shape[0],), "auto"))
        shape = (shape[0],)
    head = Dense(arch.n_outputs, "none")
    steps.append(Step(len(steps), head, shape, (arch.n_outputs,), "head"))
    return tuple(steps)
