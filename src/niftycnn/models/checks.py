"""Shape helpers of the architecture check, and the checks of the 2D (image) layers.

``niftycnn.models.validate`` walks an architecture; the pieces here are what it shares
with any caller that needs an input's shape: (C, L) for series, (C, H, W) for chart
images (``input_shape``, ``sample_shape``), and the one-line ``SpecError`` checks of
``conv2d`` and ``pool2d`` layers.
"""

from __future__ import annotations

from collections.abc import Sequence

from niftycnn.errors import SpecError
from niftycnn.models.formulas import conv2d_output_shape
from niftycnn.models.spec import ACTIVATIONS, POOL_KINDS, Conv2d, Pool2d, pair

# (channels, length) for series, (channels, height, width) for images, before GAP /
# Flatten; (features,) after.
Shape = tuple[int, ...]
# An input's extent: a window length (series) or (height, width) (images).
Size = int | tuple[int, int]


def positive(where: str, name: str, value: object, hint: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"{where}: {name} {value!r} must be a positive integer{hint}")


def activation(where: str, value: object) -> None:
    if value not in ACTIVATIONS:
        raise SpecError(
            f"{where}: activation {value!r} is unknown; valid: {', '.join(ACTIVATIONS)}"
        )


def needs_image(where: str, shape: Shape) -> tuple[int, int]:
    if len(shape) != 3:
        what = "a flat input" if len(shape) == 1 else "a series (channels x length)"
        raise SpecError(
            f"{where}: a 2D layer on {what}; conv2d / pool2d need images "
            "([windows] inputs = 'image'), use conv / pool on series"
        )
    return shape[1], shape[2]


def _pair_field(where: str, name: str, value: object, low: int = 1) -> tuple[int, int]:
    """A 2D size as (height, width): positive integers (``low`` 0 for padding)."""
    ok = isinstance(value, int) or (isinstance(value, tuple | list) and len(value) == 2)
    values = pair(value) if ok else ()
    if not ok or any(isinstance(v, bool) or not isinstance(v, int) or v < low for v in values):
        kind = "positive integers" if low else "integers >= 0"
        raise SpecError(
            f"{where}: {name} {value!r} must be an integer or [height, width] of {kind}"
        )
    return values  # type: ignore[return-value]


def check_conv2d(where: str, spec: Conv2d, shape: Shape) -> Shape:
    h, w = needs_image(where, shape)
    positive(where, "filters", spec.filters)
    kernel = _pair_field(where, "kernel", spec.kernel)
    stride = _pair_field(where, "stride", spec.stride)
    dilation = _pair_field(where, "dilation", spec.dilation)
    activation(where, spec.activation)
    if spec.padding == "same":
        if stride != (1, 1):
            raise SpecError(
                f"{where}: padding 'same' needs stride 1, got stride {spec.stride}; "
                "give the padding per axis, e.g. padding = [12, 1]"
            )
        return (spec.filters, h, w)
    padding = (0, 0) if spec.padding == "valid" else _pair_field(where, "padding", spec.padding, 0)
    for axis, size, k, d, p in zip(
        ("height", "width"), (h, w), kernel, dilation, padding, strict=True
    ):
        if d * (k - 1) + 1 > size + 2 * p:
            raise SpecError(
                f"{where}: kernel {spec.kernel} (span {d * (k - 1) + 1} with dilation "
                f"{spec.dilation}) exceeds the padded input {axis} {size + 2 * p}; use a "
                "smaller kernel, more padding, or fewer pooling layers"
            )
    return (spec.filters, *conv2d_output_shape(h, w, kernel, stride, padding, dilation))


def check_pool2d(where: str, spec: Pool2d, shape: Shape) -> Shape:
    h, w = needs_image(where, shape)
    if spec.kind not in POOL_KINDS:
        raise SpecError(f"{where}: kind {spec.kind!r} is unknown; valid: {', '.join(POOL_KINDS)}")
    size = _pair_field(where, "size", spec.size)
    stride = size if spec.stride is None else _pair_field(where, "stride", spec.stride)
    if size[0] > h or size[1] > w:
        raise SpecError(
            f"{where}: size {spec.size} exceeds the input's {h} x {w}; use a smaller size "
            "or fewer pooling layers"
        )
    return (shape[0], *conv2d_output_shape(h, w, size, stride, 0))


def input_shape(in_channels: int, length: Size) -> Shape:
    """The per-sample input shape: (C, L) for a window length, (C, H, W) for an image's
    (height, width)."""
    if isinstance(length, tuple | list):
        if len(length) != 2:
            raise SpecError(f"input: an image size is (height, width), got {length!r}")
        positive("input", "height", length[0])
        positive("input", "width", length[1])
        return (in_channels, int(length[0]), int(length[1]))
    positive("input", "length", length)
    return (in_channels, length)


def sample_shape(shape: Sequence[int]) -> tuple[int, Size]:
    """(channels, extent) of an input batch's samples (batch, C, ...): the extent is L, or
    (H, W) for images; what ``summary_table``, ``build_model`` and the engines take."""
    extent = int(shape[2]) if len(shape) == 3 else (int(shape[2]), int(shape[3]))
    return int(shape[1]), extent
