"""Blocks, parallel branches, upsampling, batch norm and the per-day head: the summary
against torch for the new presets, receptive fields against autograd, and the messages
for specs that do not fit."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from niftycnn.errors import SpecError
from niftycnn.models import (
    Architecture,
    Conv,
    GlobalAvgPool,
    LayerSpec,
    Pool,
    build_model,
    parse_layers,
    preset,
    summarize,
)
from niftycnn.models.spec import BatchNorm, Block, Parallel, Upsample
from niftycnn.models.validate import validate_architecture

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")

NEW_PRESETS = ("alexnet1d", "inception1d", "unet1d")


def _traced(model: torch.nn.Module, x: torch.Tensor) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    hooks = [
        c.register_forward_hook(lambda _m, _i, o: shapes.append(tuple(o.shape[1:]))) for c in model
    ]
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    return shapes


@pytest.mark.parametrize("name", NEW_PRESETS)
@pytest.mark.parametrize("head", ["classification", "regression", "segmentation"])
def test_new_preset_summaries_match_torch_shapes_and_parameters(name: str, head: str) -> None:
    arch = preset(name, head=head, n_classes=3)
    if head == "segmentation" and name != "unet1d":
        with pytest.raises(SpecError, match="segmentation head labels every day"):
            summarize(arch)
        return
    summary = summarize(arch)
    model = build_model(arch)
    assert _traced(model, torch.randn(4, 5, 20)) == [r.output_shape for r in summary.rows]
    per_child = [sum(p.numel() for p in child.parameters()) for child in model]
    assert per_child == [r.params for r in summary.rows]
    assert summary.total_params == sum(p.numel() for p in model.parameters())


def test_new_preset_parameter_counts_by_hand() -> None:
    # alexnet1d: convs 5*5*24+24, 24*5*64+64, 64*3*96+96, 96*3*96+96, 96*3*64+64;
    # dense 64*128+128, 128*128+128; head 128*5+5
    assert summarize(preset("alexnet1d")).total_params == (
        624 + 7_744 + 18_528 + 27_744 + 18_496 + 8_320 + 16_512 + 645
    )
    # unet1d, one level down: pool, 2 convs (32), [level 2], 2 convs (32), up-conv 32 -> 16
    level_2 = (32 * 3 * 64 + 64) + (64 * 3 * 64 + 64) + (64 * 2 * 32 + 32)
    level_1 = (16 * 3 * 32 + 32) + (32 * 3 * 32 + 32) + level_2
    level_1 += (64 * 3 * 32 + 32) + (32 * 3 * 32 + 32) + (32 * 2 * 16 + 16)
    rows = summarize(preset("unet1d", "segmentation", 3)).rows
    assert rows[2].params == level_1 and rows[2].output_shape == (32, 20)  # 16 skip + 16 up
    assert rows[-1].output_shape == (20, 3) and rows[-1].params == 16 * 3 + 3
    # inception module on 5 channels: bottleneck 5*16, convs 16*16*(9+5+3), pool conv
    # 5*16, batch norm 2*64; the block's 1x1 projection 5*64+64
    first = 5 * 16 + 16 * 16 * 17 + 5 * 16 + 128
    later = 64 * 16 + 16 * 16 * 17 + 64 * 16 + 128
    assert summarize(preset("inception1d")).rows[0].params == first + 2 * later + 5 * 64 + 64


def _tanh(layers: tuple[LayerSpec, ...]) -> tuple[LayerSpec, ...]:
    """The same layers with tanh instead of ReLU (no dead units hide a dependency)."""
    out: list[LayerSpec] = []
    for spec in layers:
        if isinstance(spec, Conv):
            spec = dataclasses.replace(spec, activation="tanh")
        elif isinstance(spec, Block):
            spec = dataclasses.replace(spec, layers=_tanh(spec.layers))
        elif isinstance(spec, Parallel):
            spec = dataclasses.replace(spec, branches=tuple(_tanh(b) for b in spec.branches))
        if not isinstance(spec, GlobalAvgPool):
            out.append(spec)
    return tuple(out)


def _autograd_field(arch: Architecture, channels: int, length: int, days: range) -> int:
    """The most input days one output day depends on, by backpropagation."""
    model, widest = build_model(arch, channels, length).eval(), 0
    for day in days:
        x = torch.randn(1, channels, length, requires_grad=True)
        model(x)[0, day].sum().backward()
        used = (x.grad[0].abs().sum(0) > 0).nonzero().flatten()
        widest = max(widest, int(used.max() - used.min() + 1))
    return widest


UPSAMPLING = [
    (Conv(4, 3), Pool("max", 2), Conv(4, 3), Upsample(2, mode), Conv(4, 3), Conv(4, 2))
    for mode in ("nearest", "linear", "transposed")
]


@pytest.mark.parametrize(
    "layers",
    [preset("unet1d").layers, preset("inception1d").layers, *UPSAMPLING],
    ids=["unet1d", "inception1d", "nearest", "linear", "transposed"],
)
def test_receptive_field_is_the_widest_dependency_autograd_finds(
    layers: tuple[LayerSpec, ...],
) -> None:
    # a long input, so no position near the middle is clipped by the padding
    arch = Architecture(_tanh(layers), "segmentation", 2)
    expected = summarize(arch, 5, 200).rows[-1].receptive_field
    assert _autograd_field(arch, 5, 200, range(96, 104)) == expected


def test_blocks_parse_from_experiment_tables() -> None:
    layers = parse_layers(
        [
            {"type": "conv", "filters": 8, "kernel": 3},
            {
                "type": "block",
                "name": "down",
                "skip": "concat",
                "layers": [
                    {"type": "pool", "size": 2},
                    {"type": "conv", "filters": 8, "kernel": 3},
                    {"type": "upsample", "factor": 2, "filters": 8},
                ],
            },
            {"type": "parallel", "branches": [[{"type": "conv", "filters": 4, "kernel": 1}], []]},
            {"type": "bn", "activation": "relu"},
        ]
    )
    assert layers[1] == Block(
        (Pool("max", 2), Conv(8, 3), Upsample(2, filters=8)), "down", "concat"
    )
    assert layers[2] == Parallel(((Conv(4, 1),), ()))
    assert layers[3] == BatchNorm("relu")
    steps = validate_architecture(Architecture(layers), 5, 20)
    assert [s.out_shape for s in steps[:4]] == [(8, 20), (16, 20), (20, 20), (20, 20)]


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        (
            [{"type": "block", "layers": [{"type": "conv", "filters": 4, "kernal": 3}]}],
            "layer 0 (block) > layer 0 (conv): unknown field 'kernal'",
        ),
        (
            [{"type": "parallel", "branches": [[], [{"type": "pool", "size": "2"}]]}],
            "layer 0 (parallel) > branch 1 > layer 0 (pool): size '2' is not valid",
        ),
        ([{"type": "block", "layers": {"type": "conv"}}], "expected a list of layer tables"),
    ],
)
def test_nested_layer_tables_are_rejected_naming_the_path(tables: list, expected: str) -> None:
    with pytest.raises(SpecError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        parse_layers(tables)


@pytest.mark.parametrize(
    ("layers", "head", "expected"),
    [
        (
            (Block((Pool("max", 2), Conv(4, 3)), "enc", "concat"),),
            "classification",
            "layer 0 (block 'enc'): ends with length 10, but its output is merged with its "
            "input of length 20",
        ),
        (
            (Parallel(((Conv(4, 3),), (GlobalAvgPool(),)), "inc"),),
            "classification",
            "layer 0 (parallel 'inc') > branch 1: ends with a flat output (5 features)",
        ),
        ((Conv(4, 3), Pool("max", 2)), "segmentation", "the body ends with length 10"),
        ((Conv(4, 3), GlobalAvgPool()), "segmentation", "the body ends flat (4 features)"),
        (
            (Upsample(2, "linear", filters=3),),
            "classification",
            "filters 3 needs mode 'transposed'",
        ),
        ((Pool("max", 3, 1, 2),), "classification", "padding 2 must be an integer from 0 to"),
    ],
)
def test_specs_that_do_not_fit_are_one_line_errors(
    layers: tuple[LayerSpec, ...], head: str, expected: str
) -> None:
    with pytest.raises(SpecError, match=expected.replace("(", r"\(").replace(")", r"\)")) as err:
        validate_architecture(Architecture(layers, head, 3), 5, 20)  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


def test_batch_norm_networks_keep_buffers_and_the_per_day_head_gives_one_row_per_day() -> None:
    model = build_model(preset("inception1d", n_classes=3))
    assert any(name.endswith("running_mean") for name, _ in model.named_buffers())
    unet = build_model(preset("unet1d", "segmentation", 4))
    out = unet(torch.randn(2, 5, 20))
    assert out.shape == (2, 20, 4)
    # the head is the same Linear on every day: day 7's logits from day 7's features only
    features = unet[:-1](torch.randn(2, 5, 20))
    head = unet[-1]
    expected = features[:, :, 7] @ head.weight.T + head.bias
    torch.testing.assert_close(head(features)[:, 7], expected)
