"""2D layers (chart images): the summary agrees with torch; the paper's presets' counts."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from niftycnn.errors import SpecError
from niftycnn.models import (
    Architecture,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    LayerSpec,
    build_model,
    describe,
    parse_layers,
    preset,
    summarize,
    summarize_module,
)
from niftycnn.models.formulas import conv_output_length
from niftycnn.models.presets import IMAGE_INPUTS
from niftycnn.models.spec import Conv2d, Pool2d

ACTS = ["relu", "leaky_relu", "none"]
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")


@st.composite
def image_architectures(draw: st.DrawFn) -> tuple[Architecture, int, tuple[int, int]]:
    """A random valid 2D network on a random image: convs (stride, dilation, padding per
    axis, batch norm), pools, batch norm and dropout layers, then gap or flatten + dense."""
    channels, h, w = draw(st.integers(1, 3)), draw(st.integers(4, 24)), draw(st.integers(3, 18))
    size = (h, w)
    layers: list[LayerSpec] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "bn", "dropout"]))
        if kind == "conv":
            k = (draw(st.integers(1, min(h, 5))), draw(st.integers(1, min(w, 3))))
            if draw(st.booleans()):
                spec = Conv2d(
                    draw(st.integers(1, 6)), k, activation=draw(st.sampled_from(ACTS)),
                    batch_norm=draw(st.booleans()), bias=draw(st.booleans()),
                )  # fmt: skip
            else:
                s = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
                d = (draw(st.integers(1, 2)), 1)
                p = (draw(st.integers(0, 3)), draw(st.integers(0, 1)))
                if d[0] * (k[0] - 1) + 1 > h + 2 * p[0] or k[1] > w + 2 * p[1]:
                    continue
                spec = Conv2d(draw(st.integers(1, 6)), k, s, p, d, batch_norm=draw(st.booleans()))
                h = conv_output_length(h, k[0], s[0], p[0], d[0])
                w = conv_output_length(w, k[1], s[1], p[1])
        elif kind == "pool":
            k = (draw(st.integers(1, min(h, 3))), draw(st.integers(1, min(w, 2))))
            stride = draw(st.one_of(st.none(), st.just((1, 1))))
            spec = Pool2d(draw(st.sampled_from(["max", "avg"])), k, stride)  # type: ignore[assignment]
            s = stride or k
            h, w = conv_output_length(h, k[0], s[0]), conv_output_length(w, k[1], s[1])
        elif kind == "bn":
            spec = BatchNorm(draw(st.sampled_from(ACTS)))  # type: ignore[assignment]
        else:
            spec = Dropout(0.5)  # type: ignore[assignment]
        layers.append(spec)
    end = draw(st.sampled_from(["none", "gap", "flatten"]))
    if end != "none":
        layers.append(GlobalAvgPool() if end == "gap" else Flatten())
        if draw(st.booleans()):
            layers.append(Dense(draw(st.integers(1, 8)), "leaky_relu"))
    return Architecture(tuple(layers), n_classes=draw(st.integers(2, 4))), channels, size


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image_architectures())
def test_2d_summary_shapes_parameters_and_receptive_fields_match_torch(case) -> None:  # type: ignore[no-untyped-def]
    arch, channels, size = case
    summary = summarize(arch, channels, size)
    model = build_model(arch, channels, size).eval()
    shapes: list[tuple[int, ...]] = []
    for child in model:
        child.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
    with torch.no_grad():
        out = model(torch.randn(2, channels, *size))
    assert out.shape == (2, arch.n_outputs)
    assert shapes == [row.output_shape for row in summary.rows]
    assert [sum(p.numel() for p in child.parameters()) for child in model] == [
        row.params for row in summary.rows
    ]
    traced = summarize_module(model, (channels, *size))
    assert traced.total_params == summary.total_params
    assert traced.output_shape == summary.output_shape
    rf = [r.receptive_field for r in summary.rows if r.receptive_field is not None]
    traced_rf = [r.receptive_field for r in traced.rows if r.receptive_field is not None]
    assert rf[-1:] == traced_rf[-1:]


def test_2d_receptive_field_is_hand_computed() -> None:
    # rows: conv 5 dilated 2 stride 3 -> 9; pool 2 (jump 3) -> 12; conv 5 (jump 6) -> 36
    arch = preset("jkx20", n_classes=2)
    rfs = [r.receptive_field for r in summarize(arch, 1, (64, 60)).rows[:3]]
    assert rfs == [(9, 3), (12, 3), (36, 5)]


@pytest.mark.parametrize(
    ("name", "params"), [("jkx5", 155_138), ("jkx20", 708_866), ("jkx20_small", 8_306)]
)
def test_image_presets_have_the_parameter_counts_their_docstrings_state(name, params) -> None:  # type: ignore[no-untyped-def]
    channels, size = IMAGE_INPUTS[name]
    arch = preset(name, n_classes=2)
    model = build_model(arch, channels, size)
    assert summarize(arch, channels, size).total_params == params
    assert sum(p.numel() for p in model.parameters()) == params
    assert model(torch.zeros(2, channels, *size)).shape == (2, 2)


def test_jkx20_flattens_the_papers_256_x_3_x_60_features() -> None:
    rows = summarize(preset("jkx20", n_classes=2), 1, (64, 60)).rows
    assert [r.output_shape for r in rows if r.type == "flatten"] == [(46_080,)]
    assert "708,866" in describe("jkx20")


def test_layer_tables_give_2d_specs_with_pairs_as_tuples() -> None:
    layers = parse_layers(
        [
            {"type": "conv2d", "filters": 8, "kernel": [5, 3], "padding": [2, 1]},
            {"type": "pool2d", "size": [2, 1]},
            {"type": "batch_norm", "activation": "leaky_relu"},
        ]
    )
    assert layers[0] == Conv2d(8, (5, 3), padding=(2, 1))
    assert layers[1] == Pool2d("max", (2, 1))
    hash(layers)  # specs stay hashable (the engines cache on them)


def test_1d_and_2d_layers_refuse_the_wrong_input_kind() -> None:
    with pytest.raises(SpecError, match=r"layer 0 \(conv\): a 1D layer on an image"):
        summarize(Architecture((Conv(4, 3),)), 1, (32, 15))
    with pytest.raises(SpecError, match=r"layer 0 \(conv2d\): a 2D layer on a series"):
        summarize(Architecture((Conv2d(4, 3),)), 5, 20)
    with pytest.raises(SpecError, match=r"padding 'same' needs stride 1"):
        summarize(Architecture((Conv2d(4, 3, stride=(2, 1)),)), 1, (32, 15))
    with pytest.raises(
        SpecError, match=r"kernel \(5, 3, 1\) must be an integer or \[height, width\]"
    ):
        summarize(Architecture((Conv2d(4, [5, 3, 1]),)), 1, (32, 15))  # type: ignore[arg-type]
