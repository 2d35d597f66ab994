"""The summary agrees with torch: shapes per layer (via hooks) and parameter totals."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from niftycnn.errors import SpecError
from niftycnn.kernels import gram_basis
from niftycnn.models import (
    Architecture,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GramConv,
    LastStep,
    LayerSpec,
    Pool,
    Residual,
    build_model,
    describe,
    format_summary,
    preset,
    summarize,
    summarize_module,
)
from niftycnn.models.formulas import conv_output_length
from niftycnn.models.spec import BatchNorm, Block, Parallel, Upsample

ACTS = ["relu", "tanh", "none"]


def _same_conv(draw: st.DrawFn) -> Conv:
    return Conv(
        draw(st.integers(1, 6)), draw(st.integers(1, 5)), dilation=draw(st.integers(1, 2)),
        activation=draw(st.sampled_from(ACTS)), batch_norm=draw(st.booleans()),
    )  # fmt: skip


def _keeping(draw: st.DrawFn, c: int, L: int, depth: int) -> tuple[list[LayerSpec], int]:
    """Layers that keep the length L (a block body or a branch), and their out channels."""
    layers: list[LayerSpec] = []
    factor = draw(st.sampled_from([f for f in (1, 2, 3) if L % f == 0 and L // f >= 1]))
    if factor > 1:  # down, then back up
        layers.append(Pool(draw(st.sampled_from(["max", "avg"])), factor))
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["conv", "bn", "pool", "nested"] if depth else ["conv"]))
        if kind == "conv":
            layers.append(conv := _same_conv(draw))
            c = conv.filters
        elif kind == "bn":
            layers.append(BatchNorm(draw(st.sampled_from(ACTS))))
        elif kind == "pool":  # stride 1, padded: keeps the length
            layers.append(Pool(draw(st.sampled_from(["max", "avg"])), 3, 1, 1))
        else:
            spec, c = _nested(draw, c, L // factor, depth - 1)
            layers.append(spec)
    if factor > 1:
        mode = draw(st.sampled_from(["transposed", "nearest", "linear"]))
        filters = draw(st.integers(1, 6)) if mode == "transposed" else None
        layers.append(Upsample(factor, mode, filters, draw(st.sampled_from(ACTS))))
        c = filters or c
    return layers, c


def _nested(draw: st.DrawFn, c: int, L: int, depth: int) -> tuple[LayerSpec, int]:
    """A block (add / concat / no skip) or a parallel layer, and its out channels."""
    if draw(st.booleans()):
        branches = [_keeping(draw, c, L, depth) for _ in range(draw(st.integers(1, 3)))]
        return Parallel(tuple(tuple(b) for b, _ in branches)), sum(w for _, w in branches)
    body, out = _keeping(draw, c, L, depth)
    skip = draw(st.sampled_from(["add", "concat", "none"]))
    block = Block(
        tuple(body), draw(st.sampled_from(["b", "enc"])), skip, draw(st.sampled_from(ACTS))
    )
    return block, out + c if skip == "concat" else out


pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")


@st.composite
def valid_architectures(draw: st.DrawFn) -> tuple[Architecture, int, int]:
    """A random valid spec for a random input (channels, length), built layer by layer."""
    channels = draw(st.integers(1, 6))
    length = draw(st.integers(1, 40))
    layers: list[LayerSpec] = []
    c, L = channels, length
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(
            st.sampled_from(["conv", "conv", "pool", "residual", "dropout", "nested", "up", "bn"])
        )
        if kind == "nested" and len(layers) < 3:
            spec, c = _nested(draw, c, L, depth=2)
            layers.append(spec)
            continue
        if kind == "up":
            factor, mode = (
                draw(st.integers(1, 3)),
                draw(st.sampled_from(["transposed", "nearest", "linear"])),
            )
            filters = (
                draw(st.one_of(st.none(), st.integers(1, 6))) if mode == "transposed" else None
            )
            layers.append(Upsample(factor, mode, filters))
            c, L = filters or c, L * factor
            continue
        if kind == "bn":
            layers.append(BatchNorm(draw(st.sampled_from(ACTS))))
            continue
        if kind == "conv":
            if draw(st.booleans()) and draw(st.booleans()):  # frozen depthwise Gram kernels
                k = draw(st.integers(1, 4))
                layers.append(GramConv(k))
                c *= gram_basis(k).shape[0]
                continue
            filters = draw(st.integers(1, 8))
            groups = draw(st.sampled_from([1, c])) if filters % c == 0 else 1
            padding = draw(st.sampled_from(["same", "causal", "valid", 0, 1, 2]))
            keeps = padding in ("same", "causal")
            stride = 1 if keeps else draw(st.integers(1, 3))
            p = 0 if padding == "valid" else padding
            dilation = draw(st.integers(1, 2))
            max_k = L if keeps else (L + 2 * p - 1) // dilation + 1  # type: ignore[operator]
            if max_k < 1:
                continue
            k = draw(st.integers(1, min(max_k, 6)))
            spec = Conv(
                filters, k, stride, padding, dilation,  # type: ignore[arg-type]
                activation=draw(st.sampled_from(["relu", "tanh", "none"])),
                batch_norm=draw(st.booleans()), groups=groups, bias=draw(st.booleans()),
            )  # fmt: skip
            if not keeps:
                L = conv_output_length(L, k, stride, p, dilation)  # type: ignore[arg-type]
            c = filters
        elif kind == "pool":
            size = draw(st.integers(1, min(L, 4)))
            stride = draw(st.one_of(st.none(), st.integers(1, 3)))
            spec = Pool(draw(st.sampled_from(["max", "avg"])), size, stride)
            L = conv_output_length(L, size, stride or size)
        elif kind == "residual":
            spec = Residual(
                draw(st.integers(1, 8)), draw(st.integers(1, 5)), draw(st.integers(1, 3)),
                batch_norm=draw(st.booleans()),
            )  # fmt: skip
            c = spec.filters
        else:
            spec = Dropout(draw(st.floats(0, 0.9)))
        layers.append(spec)
    if L == length and draw(st.booleans()) and draw(st.booleans()):  # one label per day
        return (
            Architecture(tuple(layers), "segmentation", draw(st.integers(2, 7))),
            channels,
            length,
        )
    end = draw(st.sampled_from(["none", "gap", "last", "flatten"]))
    if end != "none":
        layers.append({"gap": GlobalAvgPool(), "last": LastStep(), "flatten": Flatten()}[end])
        for _ in range(draw(st.integers(0, 2))):
            layers.append(Dense(draw(st.integers(1, 16)), draw(st.sampled_from(["relu", "none"]))))
            if draw(st.booleans()):
                layers.append(Dropout(0.2))
    head = draw(st.sampled_from(["classification", "regression"]))
    arch = Architecture(tuple(layers), head, draw(st.integers(2, 7)))  # type: ignore[arg-type]
    return arch, channels, length


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_architectures())
def test_summary_shapes_and_parameters_match_torch(case: tuple[Architecture, int, int]) -> None:
    arch, channels, length = case
    summary = summarize(arch, channels, length)
    model = build_model(arch, channels, length).eval()
    assert len(model) == len(summary.rows)

    shapes: list[tuple[int, ...]] = []
    for child in model:
        child.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
    with torch.no_grad():
        out = model(torch.randn(3, channels, length))
    per_day = (length,) if arch.head == "segmentation" else ()
    assert out.shape == (3, *per_day, arch.n_outputs)
    assert shapes == [row.output_shape for row in summary.rows]
    assert [sum(p.numel() for p in child.parameters()) for child in model] == [
        row.params for row in summary.rows
    ]
    assert summary.total_params == sum(p.numel() for p in model.parameters())
    assert summary.trainable_params == sum(p.numel() for p in model.parameters() if p.requires_grad)

    traced = summarize_module(model, (channels, length))
    assert traced.total_params == summary.total_params
    assert traced.output_shape == summary.output_shape
    last_rf = [r.receptive_field for r in summary.rows if r.receptive_field is not None]
    traced_rf = [r.receptive_field for r in traced.rows if r.receptive_field is not None]
    assert last_rf[-1:] == traced_rf[-1:]


def test_summarize_module_traces_any_supported_module_with_hooks() -> None:
    net = nn.Sequential(
        nn.Conv1d(5, 8, 3, padding=1), nn.BatchNorm1d(8), nn.GELU(), nn.AvgPool1d(2),
        nn.Dropout(0.1), nn.Flatten(), nn.Linear(80, 4),
    )  # fmt: skip
    summary = summarize_module(net, (5, 20))
    assert [r.type for r in summary.rows] == [
        "Conv1d", "BatchNorm1d", "GELU", "AvgPool1d", "Dropout", "Flatten", "Linear",
    ]  # fmt: skip
    assert [r.output_shape for r in summary.rows] == [
        (8, 20), (8, 20), (8, 20), (8, 10), (8, 10), (80,), (4,),
    ]  # fmt: skip
    assert [r.params for r in summary.rows] == [128, 16, 0, 0, 0, 0, 324]
    assert [r.receptive_field for r in summary.rows][:5] == [3, 3, 3, 4, 4]
    assert net.training  # the training flag is restored


def test_summarize_module_keeps_residual_blocks_whole() -> None:
    model = build_model(preset("resnet1d"))
    traced = summarize_module(model, (5, 20))
    assert [r.type for r in traced.rows[:3]] == ["ResidualBlock"] * 3
    assert [r.params for r in traced.rows] == [r.params for r in summarize(preset("resnet1d")).rows]


Q10_TABLE = """\
q10 (classification, 5 outputs): input 5 x 20 (channels x length)
--------------------------------------------------------------------------
#  layer  detail                   output (C x L)  params  receptive field
--------------------------------------------------------------------------
0  conv   16 @ k3, pad same, relu  16 x 20            256                3
1  pool   max 2                    16 x 10              0                4
2  conv   32 @ k3, pad same, relu  32 x 10          1,568                8
3  gap                             32                   0              all
4  head   32 -> 5                  5                  165              all
--------------------------------------------------------------------------
total parameters: 1,989 (trainable 1,989)
"""


def test_q10_summary_table_is_the_documented_one() -> None:
    assert describe("q10") == Q10_TABLE
    assert format_summary(summarize(preset("q10"))) == Q10_TABLE


def test_markdown_summary_is_a_table_with_one_row_per_layer() -> None:
    md = format_summary(summarize(preset("q10")), style="markdown")
    lines = [line for line in md.splitlines() if line.startswith("|")]
    assert lines[0] == "| # | layer | detail | output (C x L) | params | receptive field |"
    assert len(lines) == 2 + 5
    assert "| 2 | conv | 32 @ k3, pad same, relu | 32 x 10 | 1,568 | 8 |" in lines
    assert md.rstrip().endswith("total parameters: 1,989 (trainable 1,989)")


def test_describe_rejects_unknown_presets() -> None:
    expected = "unknown preset 'alexnet'; valid presets: q10, q10_flat, q10_last, tcn_last, lenet1d"
    with pytest.raises(SpecError, match=expected):
        describe("alexnet")


def test_describe_has_a_markdown_variant() -> None:
    assert describe("q10", style="markdown") == format_summary(summarize(preset("q10")), "markdown")


def test_summarize_module_accepts_a_bare_layer() -> None:
    summary = summarize_module(nn.Conv1d(5, 16, 3), (5, 20))
    assert [(r.output_shape, r.params, r.receptive_field) for r in summary.rows] == [
        ((16, 18), 256, 3)
    ]
