"""Presets build and run for both heads; fixed kernels stay fixed; vmap-safe models."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from niftycnn.kernels import gram_basis
from niftycnn.models import (
    PRESETS,
    Architecture,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Pool,
    build_model,
    describe,
    first_conv,
    preset,
    summarize,
)
from niftycnn.models.presets import IMAGE_INPUTS

# The series presets (the jkx* image presets take images: tests/models/test_model_2d.py).
SERIES_PRESETS = [name for name in PRESETS if name not in IMAGE_INPUTS]

# fcn1d's first kernel is 8 long: torch warns once that "same" padding copies the input.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")


@pytest.mark.parametrize("name", SERIES_PRESETS)
@pytest.mark.parametrize(("head", "width"), [("classification", 5), ("regression", 1)])
def test_every_preset_builds_and_runs_forward_for_both_heads(
    name: str, head: str, width: int
) -> None:
    torch.manual_seed(0)
    model = build_model(preset(name, head=head), in_channels=5, length=20)
    out = model(torch.randn(7, 5, 20))
    assert out.shape == (7, width)
    assert torch.isfinite(out).all()
    assert summarize(preset(name, head=head)).total_params == sum(
        p.numel() for p in model.parameters()
    )
    assert isinstance(first_conv(model), nn.Conv1d)


@pytest.mark.parametrize("name", SERIES_PRESETS)
def test_every_preset_summary_prints(name: str) -> None:
    text = describe(name)
    assert text.startswith(f"{name} (classification, 5 outputs): input 5 x 20")
    assert "total parameters" in text
    assert "head" in text


def test_q10_is_exactly_the_documented_network() -> None:
    model = build_model(preset("q10"))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv1d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.padding) for c in convs] == [
        (5, 16, 3, "same"),
        (16, 32, 3, "same"),
    ]
    assert any(isinstance(m, nn.MaxPool1d) and m.kernel_size == 2 for m in model.modules())
    head = model[-1]
    assert isinstance(head, nn.Linear) and (head.in_features, head.out_features) == (32, 5)
    assert sum(p.numel() for p in model.parameters()) == 256 + 1_568 + 165


def test_the_same_body_serves_both_heads() -> None:
    cls, reg = preset("lenet1d"), preset("lenet1d", head="regression")
    assert cls.layers == reg.layers and (cls.n_outputs, reg.n_outputs) == (5, 1)


def test_unknown_preset_lists_the_valid_names() -> None:
    from niftycnn.errors import SpecError

    with pytest.raises(
        SpecError,
        match="valid presets: q10, q10_flat, q10_last, tcn_last, lenet1d, fcn1d, resnet1d, "
        "fixed_kernels, alexnet1d, inception1d, unet1d",
    ):
        preset("alexnet")


def test_no_lazy_modules_and_explicit_linear_widths() -> None:
    for name in SERIES_PRESETS:
        model = build_model(preset(name))
        assert not any(isinstance(m, nn.modules.lazy.LazyModuleMixin) for m in model.modules())


def test_same_seed_gives_the_same_initialisation() -> None:
    def init(seed: int) -> list[torch.Tensor]:
        torch.manual_seed(seed)
        return list(build_model(preset("resnet1d")).state_dict().values())

    assert all(torch.equal(a, b) for a, b in zip(init(3), init(3), strict=True))


def test_fixed_kernels_first_layer_is_the_gram_basis_and_survives_an_optimizer_step() -> None:
    torch.manual_seed(0)
    model = build_model(preset("fixed_kernels"))
    conv = first_conv(model)
    assert (conv.in_channels, conv.out_channels, conv.groups, conv.bias) == (5, 15, 5, None)
    assert not conv.weight.requires_grad
    expected = np.tile(gram_basis(3), (5, 1))[:, None, :]  # channel c, degree d -> row 3c + d
    np.testing.assert_allclose(conv.weight.detach().numpy(), expected, rtol=0, atol=1e-7)
    # momentum on channel 2 is proportional to [-1, 0, 1]
    np.testing.assert_allclose(
        conv.weight[2 * 3 + 1, 0].numpy() * np.sqrt(2), [-1, 0, 1], atol=1e-6
    )

    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.1)
    loss = nn.functional.cross_entropy(model(torch.randn(16, 5, 20)), torch.randint(0, 5, (16,)))
    loss.backward()
    opt.step()
    assert torch.equal(conv.weight, before["0.weight"])
    changed = [n for n, p in model.named_parameters() if not torch.equal(p, before[n])]
    assert changed and "0.weight" not in changed
    assert summarize(preset("fixed_kernels")).trainable_params == sum(
        p.numel() for p in model.parameters() if p.requires_grad
    )


@pytest.mark.parametrize("name", SERIES_PRESETS)
def test_models_work_with_functional_call_and_vmap_over_stacked_parameters(name: str) -> None:
    torch.manual_seed(1)
    models = [build_model(preset(name)).eval() for _ in range(3)]
    params, buffers = stack_module_state(models)
    x = torch.randn(4, 5, 20)

    def run(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> torch.Tensor:
        return functional_call(models[0], (p, b), (x,))

    batched = torch.vmap(run)(params, buffers)
    for i, model in enumerate(models):
        torch.testing.assert_close(batched[i], model(x))


def test_public_api_keeps_the_trainer_contract() -> None:
    arch = Architecture((Conv(8, 3), GlobalAvgPool()), "regression", 5, "mine")
    assert arch.n_outputs == 1
    assert Conv(8, 3) == Conv(8, 3, 1, "same", 1, "relu", False)
    assert Pool("avg", 3, 1).stride == 1 and Dropout(0.2).rate == 0.2
    assert Dense(10, "tanh").units == 10 and Flatten() == Flatten()
    assert list(inspect.signature(build_model).parameters) == ["arch", "in_channels", "length"]
    assert list(inspect.signature(preset).parameters) == ["name", "head", "n_classes"]
    assert build_model(arch)(torch.zeros(2, 5, 20)).shape == (2, 1)


def test_body_without_gap_or_flatten_gets_a_global_average_pool_before_the_head() -> None:
    model = build_model(Architecture((Conv(4, 3), Pool("avg", 2))))
    assert model(torch.zeros(3, 5, 20)).shape == (3, 5)
    assert summarize(Architecture((Conv(4, 3),))).rows[1].type == "gap (auto)"


def test_causal_convolutions_never_see_later_days() -> None:
    """tcn_last's output for a window depends on its days only through the causal stack:
    changing the input after day t leaves every feature map up to t unchanged."""
    torch.manual_seed(0)
    model = build_model(preset("tcn_last"), 5, 20).eval()
    body = model[:4]  # the four causal convolutions
    x = torch.randn(2, 5, 20)
    later = x.clone()
    later[..., 12:] += torch.randn(2, 5, 8)
    with torch.no_grad():
        a, b = body(x), body(later)
    assert torch.equal(a[..., :12], b[..., :12])
    assert not torch.allclose(a[..., 12:], b[..., 12:])


def test_last_step_readout_reads_only_the_most_recent_days() -> None:
    """q10_last: same-padded k3 convs then the last position, so only the last 3 days
    (receptive field 5, centred, the future side zero-padded) move the output."""
    torch.manual_seed(0)
    model = build_model(preset("q10_last"), 5, 20).eval()
    x = torch.randn(4, 5, 20)
    early = x.clone()
    early[..., :17] = torch.randn(4, 5, 17)
    with torch.no_grad():
        assert torch.equal(model(x), model(early))
        assert not torch.equal(model(x), model(x + torch.eye(20)[-1]))
