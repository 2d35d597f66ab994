"""Hand-computed checks of the summary formulas (the chapter's worked examples)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from niftycnn.models import Architecture, Conv, summarize
from niftycnn.models.summary import (
    conv2d_output_shape,
    conv2d_params,
    conv_output_length,
    conv_params,
    dense_params,
    pool2d_output_shape,
    receptive_field_step,
)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_conv1d_5_to_16_kernel_3_has_256_parameters() -> None:
    assert conv_params(5, 16, 3) == 16 * (3 * 5 + 1) == 256
    assert n_params(nn.Conv1d(5, 16, 3)) == 256


def test_worked_example_32x32x1_two_convs_two_pools_dense_10() -> None:
    h, w = conv2d_output_shape(32, 32, 5)
    assert (h, w) == (28, 28)  # 28 x 28 x 8
    p1 = conv2d_params(1, 8, 5)
    h, w = pool2d_output_shape(h, w, 2)
    assert (h, w) == (14, 14)  # 14 x 14 x 8
    h, w = conv2d_output_shape(h, w, 3)
    assert (h, w) == (12, 12)  # 12 x 12 x 16
    p2 = conv2d_params(8, 16, 3)
    h, w = pool2d_output_shape(h, w, 2)
    assert (h, w) == (6, 6)  # 6 x 6 x 16
    p3 = dense_params(h * w * 16, 10)
    assert (p1, p2, p3) == (208, 1_168, 5_770)
    assert p1 + p2 + p3 == 7_146

    net = nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(576, 10),
    )  # fmt: skip
    shapes = []
    x = torch.zeros(1, 1, 32, 32)
    for layer in net:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes[:4] == [(8, 28, 28), (8, 14, 14), (16, 12, 12), (16, 6, 6)]
    assert n_params(net) == 7_146


def test_64x64x3_with_32_same_padded_5x5_filters_gives_64x64x32_and_2432_parameters() -> None:
    assert conv2d_output_shape(64, 64, 5, padding="same") == (64, 64)
    assert conv2d_output_shape(64, 64, 5, padding=2) == (64, 64)
    assert conv2d_params(3, 32, 5) == 2_432
    conv = nn.Conv2d(3, 32, 5, padding="same")
    assert conv(torch.zeros(1, 3, 64, 64)).shape == (1, 32, 64, 64)
    assert n_params(conv) == 2_432


def test_length_7_kernel_3_stride_2_no_padding_gives_length_3() -> None:
    assert conv_output_length(7, 3, s=2, p=0) == 3
    assert nn.Conv1d(1, 1, 3, stride=2)(torch.zeros(1, 1, 7)).shape[-1] == 3
    summary = summarize(Architecture((Conv(2, 3, stride=2, padding="valid"),)), 1, 7)
    assert summary.rows[0].output_shape == (2, 3)


@pytest.mark.parametrize(
    ("L", "k", "s", "p", "d"),
    [(20, 3, 1, 1, 1), (20, 5, 2, 0, 1), (20, 3, 1, 0, 4), (9, 2, 3, 2, 2)],
)
def test_output_length_formula_matches_torch(L: int, k: int, s: int, p: int, d: int) -> None:
    conv = nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)
    assert conv(torch.zeros(1, 1, L)).shape[-1] == conv_output_length(L, k, s, p, d)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
def test_receptive_field_of_stacked_stride_1_convs_is_L_times_k_minus_1_plus_1(
    n_layers: int, k: int
) -> None:
    rf, jump = 1, 1
    for _ in range(n_layers):
        rf, jump = receptive_field_step(rf, jump, k)
    assert rf == n_layers * (k - 1) + 1
    summary = summarize(Architecture((Conv(4, k),) * n_layers), 5, 20)
    assert summary.rows[n_layers - 1].receptive_field == n_layers * (k - 1) + 1


def test_receptive_field_grows_with_the_jump_after_a_stride() -> None:
    # conv k3 (rf 3), pool 2 (rf 4, jump 2), conv k3 (rf 4 + 2 * 2 = 8)
    rf, jump = receptive_field_step(1, 1, 3)
    rf, jump = receptive_field_step(rf, jump, 2, 2)
    rf, jump = receptive_field_step(rf, jump, 3)
    assert (rf, jump) == (8, 2)
