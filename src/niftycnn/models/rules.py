"""The per-layer rules of the architecture summary, from a validated walk alone: each
layer's parameters, its detail text and its effect on the receptive field.

The receptive field is counted in input days by :class:`niftycnn.models.span.Span`:
the textbook recursion for convs and pools, exact through upsampling and skips.
"""

from __future__ import annotations

from niftycnn.models.formulas import conv2d_params, conv_params, dense_params
from niftycnn.models.span import Span, union
from niftycnn.models.spec import (
    BatchNorm,
    Block,
    Conv,
    Conv2d,
    Dense,
    GramConv,
    LastStep,
    Parallel,
    Pool,
    Pool2d,
    Residual,
    Upsample,
    layer_type,
    pair,
)
from niftycnn.models.validate import Step


def conv_detail(spec: Conv) -> str:
    parts = [f"{spec.filters} @ k{spec.kernel}"]
    if spec.stride != 1:
        parts.append(f"s{spec.stride}")
    if spec.dilation != 1:
        parts.append(f"d{spec.dilation}")
    parts.append(f"pad {spec.padding}")
    if spec.groups != 1:
        parts.append(f"groups {spec.groups}")
    if spec.batch_norm:
        parts.append("bn")
    parts.append(spec.activation)
    return ", ".join(parts)


def _size_text(value: object) -> str:
    h, w = pair(value)
    return f"{h}x{w}"


def conv2d_detail(spec: Conv2d) -> str:
    parts = [f"{spec.filters} @ {_size_text(spec.kernel)}"]
    if pair(spec.stride) != (1, 1):
        parts.append(f"s{_size_text(spec.stride)}")
    if pair(spec.dilation) != (1, 1):
        parts.append(f"d{_size_text(spec.dilation)}")
    padding = spec.padding if isinstance(spec.padding, str) else _size_text(spec.padding)
    parts.append(f"pad {padding}")
    if spec.batch_norm:
        parts.append("bn")
    parts.append(spec.activation)
    return ", ".join(parts)


Span2d = tuple[Span, Span]  # (height, width): the rows and columns one position sees


def step_span2d(step: Step, spans: Span2d) -> Span2d:
    """The image rows and columns each position depends on after one layer, axis by
    axis (a 2D conv or pool is a window on each axis; other layers keep positions)."""
    spec = step.spec
    if isinstance(spec, Conv2d):
        k, s, d = pair(spec.kernel), pair(spec.stride), pair(spec.dilation)
        if spec.padding == "same":
            left = (d[0] * (k[0] - 1) // 2, d[1] * (k[1] - 1) // 2)
        else:
            left = (0, 0) if spec.padding == "valid" else pair(spec.padding)
        return spans[0].window(k[0], s[0], d[0], left[0]), spans[1].window(
            k[1], s[1], d[1], left[1]
        )
    if isinstance(spec, Pool2d):
        k = pair(spec.size)
        s = k if spec.stride is None else pair(spec.stride)
        return spans[0].window(k[0], s[0]), spans[1].window(k[1], s[1])
    return spans


def _left(padding: object, k: int, dilation: int = 1) -> int:
    """Left padding of a conv: torch's "same" puts the smaller half on the left."""
    if padding == "same":
        return dilation * (k - 1) // 2
    if padding == "causal":
        return dilation * (k - 1)
    return 0 if padding == "valid" else int(padding)  # type: ignore[call-overload]


def step_span(step: Step, span: Span) -> Span:
    """The input days each position depends on after one layer (``niftycnn.models.span``);
    a block or parallel layer merges its branches (and its skip) position by position."""
    spec = step.spec
    if isinstance(spec, Conv):
        left = _left(spec.padding, spec.kernel, spec.dilation)
        return span.window(spec.kernel, spec.stride, spec.dilation, left)
    if isinstance(spec, GramConv):
        return span.window(spec.kernel, 1, 1, _left(spec.padding, spec.kernel))
    if isinstance(spec, Residual):
        body = span
        for _ in range(spec.n_convs):
            body = body.window(spec.kernel, 1, 1, _left("same", spec.kernel))
        return union([span, body])
    if isinstance(spec, Pool):
        return span.window(spec.size, spec.stride or spec.size, 1, spec.padding)
    if isinstance(spec, Upsample):
        return span.upsampled(spec.factor, spec.mode)
    if isinstance(spec, Block | Parallel):
        ends = [span] if isinstance(spec, Block) and spec.skip != "none" else []
        for walk in step.inner:
            end = span
            for inner in walk:
                end = step_span(inner, end)
            ends.append(end)
        return union(ends)
    return span


def step_params(step: Step) -> tuple[int, int]:
    """(parameters, trainable parameters) of one layer, its sub-layers included."""
    spec, c_in = step.spec, step.in_shape[0]
    if isinstance(spec, Conv):
        params = conv_params(c_in, spec.filters, spec.kernel, spec.bias, spec.groups)
        return (p := params + (2 * spec.filters if spec.batch_norm else 0)), p
    if isinstance(spec, Conv2d):
        params = conv2d_params(c_in, spec.filters, pair(spec.kernel), spec.bias)
        return (p := params + (2 * spec.filters if spec.batch_norm else 0)), p
    if isinstance(spec, GramConv):
        return conv_params(c_in, step.out_shape[0], spec.kernel, False, c_in), 0
    if isinstance(spec, Residual):
        params, channels = 0, c_in
        for _ in range(spec.n_convs):
            params += conv_params(channels, spec.filters, spec.kernel)
            params += 2 * spec.filters if spec.batch_norm else 0
            channels = spec.filters
        params += conv_params(c_in, spec.filters, 1) if c_in != spec.filters else 0
        return params, params
    if isinstance(spec, Dense):
        units = step.out_shape[-1] if step.role == "head" else spec.units
        return (p := dense_params(c_in, units)), p
    if isinstance(spec, BatchNorm):
        return 2 * c_in, 2 * c_in
    if isinstance(spec, Upsample) and spec.mode == "transposed":
        return (p := conv_params(c_in, step.out_shape[0], spec.factor)), p
    if isinstance(spec, Block | Parallel):
        sums = [step_params(s) for walk in step.inner for s in walk]
        params, trainable = sum(p for p, _ in sums), sum(t for _, t in sums)
        body = step.inner[0][-1].out_shape[0] if step.inner[0] else c_in
        if isinstance(spec, Block) and spec.skip == "add" and body != c_in:
            params += (p := conv_params(c_in, body, 1))
            trainable += p
        return params, trainable
    return 0, 0


def detail(step: Step) -> str:
    spec, c_in = step.spec, step.in_shape[0]
    if isinstance(spec, Conv):
        return conv_detail(spec)
    if isinstance(spec, Conv2d):
        return conv2d_detail(spec)
    if isinstance(spec, Pool2d):
        stride = spec.size if spec.stride is None else spec.stride
        text = f"{spec.kind} {_size_text(spec.size)}"
        return text + (f", s{_size_text(stride)}" if pair(stride) != pair(spec.size) else "")
    if isinstance(spec, GramConv):
        out = step.out_shape[0]
        return f"{out // c_in} per channel @ k{spec.kernel}, pad {spec.padding}, frozen"
    if isinstance(spec, Residual):
        detail = f"{spec.n_convs} x ({spec.filters} @ k{spec.kernel}), {spec.activation}"
        return detail + (", 1x1 projection skip" if c_in != spec.filters else "")
    if isinstance(spec, Pool):
        stride = spec.stride or spec.size
        detail = f"{spec.kind} {spec.size}" + (f", s{stride}" if stride != spec.size else "")
        return detail + (f", pad {spec.padding}" if spec.padding else "")
    if isinstance(spec, Dense):
        if step.role == "head":
            per_day = "per day: " if len(step.out_shape) == 2 else ""
            return f"{per_day}{c_in} -> {step.out_shape[-1]}"
        return f"{c_in} -> {spec.units}, {spec.activation}"
    if isinstance(spec, BatchNorm):
        return spec.activation
    if isinstance(spec, Upsample):
        how = f"x{spec.factor} {spec.mode}"
        if spec.mode == "transposed":
            how += f", {step.out_shape[0]} filters, {spec.activation}"
        return how
    if isinstance(spec, Block):
        body = step.inner[0][-1].out_shape[0] if step.inner[0] else c_in
        skip = {"add": "add skip", "concat": "concat skip", "none": "no skip"}[spec.skip]
        if spec.skip == "add" and body != c_in:
            skip += " (1x1 projection)"
        return f"{spec.name}: {len(spec.layers)} layers, {skip}, {spec.activation}"
    if isinstance(spec, Parallel):
        widths = " + ".join(str(w[-1].out_shape[0] if w else c_in) for w in step.inner)
        return f"{spec.name}: {len(step.inner)} branches, {widths} channels"
    if layer_type(spec) == "dropout":
        return f"rate {spec.rate:g}"  # type: ignore[union-attr]
    if isinstance(spec, LastStep):
        return "the last position (the most recent day)"
    return ""
