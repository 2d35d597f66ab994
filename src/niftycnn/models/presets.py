"""Named architectures: one table of plain specs, sized for 20-day x 5-feature windows,
and the chart-image CNNs of Jiang, Kelly & Xiu (2023), sized for their images
(:data:`IMAGE_INPUTS`: one channel, height x width).

Each preset is a body; the head (K logits or one regression output) is chosen when the
preset is asked for. Bodies that end with a length axis get a global average pool
before the head (see ``Architecture``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from niftycnn.config import ModelConfig
from niftycnn.errors import SpecError
from niftycnn.models.parse import parse_layers
from niftycnn.models.spec import (
    HEADS,
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
)

# q10: Conv(16,3,same)->ReLU->MaxPool(2)->Conv(32,3,same)->ReLU->GAP->Linear(32,K).
# Keep exactly this: the performance notes are measured on it.
Q10: tuple[LayerSpec, ...] = (Conv(16, 3), Pool("max", 2), Conv(32, 3), GlobalAvgPool())


def _inception_module(filters: int = 16, kernels: tuple[int, ...] = (9, 5, 3)) -> LayerSpec:
    """InceptionTime's module (Ismail Fawaz et al. 2020): a 1x1 bottleneck feeding three
    convs of different lengths, beside max pooling (3, stride 1) then a 1x1 conv; the four
    outputs stacked, batch norm, ReLU. Convs without bias or activation, as in tsai."""
    convs = tuple((Conv(filters, k, activation="none", bias=False),) for k in kernels)
    return Block(
        (
            Parallel(
                (
                    (Conv(filters, 1, activation="none", bias=False), Parallel(convs, "convs")),
                    (Pool("max", 3, 1, 1), Conv(filters, 1, activation="none", bias=False)),
                ),
                "inception",
            ),
            BatchNorm("relu"),
        ),
        "module",
        "none",
    )


def _unet_level(width: int, inner: tuple[LayerSpec, ...], name: str) -> LayerSpec:
    """One U-Net resolution below the top: pool, two convs, the deeper levels, two convs,
    an up-convolution back to the level above (half the width); its input is stacked
    beside its output (the skip connection)."""
    down = (Pool("max", 2), Conv(width, 3), Conv(width, 3))
    if not inner:  # the bottom: no second pair of convs
        return Block((*down, Upsample(2, filters=width // 2)), name, "concat")
    up = (Conv(width, 3), Conv(width, 3), Upsample(2, filters=width // 2))
    return Block((*down, *inner, *up), name, "concat")


def _jkx_block(filters: int, first: Conv2d | None = None) -> tuple[LayerSpec, ...]:
    """One block of Jiang, Kelly & Xiu's CNN: a 5x3 conv (same padding, (2, 1) zeros),
    batch norm, leaky ReLU (slope 0.01), then 2x1 max pooling (halve the height)."""
    conv = first or Conv2d(filters, (5, 3), padding=(2, 1))
    conv = Conv2d(
        conv.filters, conv.kernel, conv.stride, conv.padding, conv.dilation, "leaky_relu", True
    )
    return (conv, Pool2d("max", (2, 1)))


def _jkx(widths: tuple[int, ...], first: Conv2d | None = None) -> tuple[LayerSpec, ...]:
    """Blocks of ``widths`` channels (the first conv replaced by ``first`` when given),
    then flatten and dropout 0.5 before the dense head, as in the paper."""
    head = _jkx_block(widths[0], first)
    rest = [layer for w in widths[1:] for layer in _jkx_block(w)]
    return (*head, *rest, Flatten(), Dropout(0.5))


# The paper's 20-day first layer: stride (3, 1) and dilation (2, 1) on the height, with
# (12, 1) zeros (64 rows -> 27); width kept (one column per pixel of the 20 days).
_JKX20_FIRST = Conv2d(64, (5, 3), stride=(3, 1), padding=(12, 1), dilation=(2, 1))

# Input (channels, (height, width)) of each image preset: the paper's image sizes.
IMAGE_INPUTS: dict[str, tuple[int, tuple[int, int]]] = {
    "jkx5": (1, (32, 15)),
    "jkx20": (1, (64, 60)),
    "jkx60": (1, (96, 180)),
    "jkx20_small": (1, (64, 60)),
}

PRESETS: dict[str, tuple[tuple[LayerSpec, ...], str]] = {
    # q10 is also the offline default's network: measured by bench/power.py and
    # bench/heads.py (README "Power and size"), with inputs in percent it recovers planted
    # momentum and curvature over the last 5 days and over the whole window.
    "q10": (
        Q10,
        "two small conv blocks, max pooling, global average pooling; the chapter's reference "
        "design. GAP averages away *where* a pattern sits: it sees the last days only through "
        "the zero padding at the window's edge and the last-close anchor of the prices. That "
        "is enough for a momentum or a curvature ending on the window's last day; it cannot "
        "tell a pattern in the middle of the window from the same pattern a few days earlier",
    ),
    # q10's convolutions with a flatten head instead of GAP: the head has one weight per
    # (channel, position), so it can read the most recent days apart from the rest of the
    # window. All fast-path layers.
    "q10_flat": (
        (Conv(16, 3), Pool("max", 2), Conv(32, 3), Flatten()),
        "q10's two conv blocks with a flatten head: sees where in the window a pattern sits",
    ),
    # A last-step readout: same-padded convs, then the last position only.
    "q10_last": (
        (Conv(16, 3), Conv(32, 3), LastStep()),
        "two conv blocks and a last-step readout (sees the last few days only)",
    ),
    # Causal, dilated convolutions (a small TCN, Bai et al. 2018) and a last-step readout:
    # output t sees inputs <= t; receptive field 1 + 2 (1 + 2 + 4 + 8) = 31 >= 20 days.
    "tcn_last": (
        (
            Conv(16, 3, padding="causal"),
            Conv(16, 3, padding="causal", dilation=2),
            Conv(32, 3, padding="causal", dilation=4),
            Conv(32, 3, padding="causal", dilation=8),
            LastStep(),
        ),
        "causal dilated convs (receptive field 31 days) and a last-step readout",
    ),
    # LeCun et al. (1998), transposed to 1D: conv 6@5 -> avg pool -> conv 16@5 -> avg pool
    # -> dense 120 -> dense 84 -> head (the third dense layer). ReLU instead of the scaled
    # tanh, as modern re-implementations do. 20 -> 16 -> 8 -> 4 -> 2 steps.
    "lenet1d": (
        (
            Conv(6, 5, padding="valid"),
            Pool("avg", 2),
            Conv(16, 5, padding="valid"),
            Pool("avg", 2),
            Flatten(),
            Dense(120),
            Dense(84),
        ),
        "LeNet-5 in 1D: two conv layers with average pooling, three dense layers",
    ),
    # Wang, Yan & Oates (2017) FCN: three conv blocks (kernels 8, 5, 3) and GAP. Widths
    # scaled from 128/256/128 to 32/64/32 for 20 x 5 inputs; their batch norm is off so
    # the batched (vmap) engine can train it (set batch_norm=True for the original).
    "fcn1d": (
        (Conv(32, 8), Conv(64, 5), Conv(32, 3), GlobalAvgPool()),
        "fully convolutional: three conv blocks (kernels 8, 5, 3), global average pooling",
    ),
    # Wang et al. (2017) ResNet, scaled down: three residual blocks of two convs each; the
    # first two change the channel count, so their skips are 1x1 projections.
    "resnet1d": (
        (Residual(16, 3), Residual(32, 3), Residual(32, 3), GlobalAvgPool()),
        "three residual blocks (two convs each, 1x1 projection skips), global average pooling",
    ),
    # The hand-designed feature map the learned CNN must beat: q10 with its first layer
    # replaced by frozen level / momentum / curvature kernels (gram_basis(3)) applied to
    # each input channel separately (depthwise: C x 3 maps, no bias, no activation so the
    # sign of a slope survives); the rest trains as in q10. Fits any channel count.
    "fixed_kernels": (
        (
            GramConv(3),
            Pool("max", 2),
            Conv(32, 3),
            GlobalAvgPool(),
        ),
        "frozen level/momentum/curvature kernels per input channel, then q10's trainable rest",
    ),
    # Krizhevsky, Sutskever & Hinton (2012), transposed to 1D and scaled to 20-day windows:
    # five convs (kernels 11/5/3/3/3 -> 5/5/3/3/3, stride 4 -> 1, widths 96/256/384/384/256
    # -> 24/64/96/96/64), overlapping max pools 3/2 after conv 1, 2 and 5 (20 -> 9 -> 4 ->
    # 1), dropout 0.5 before the two hidden dense layers (4096 -> 128 each), the head the
    # third. Local response normalisation is left out, as later re-implementations do.
    "alexnet1d": (
        (
            Conv(24, 5),
            Pool("max", 3, 2),
            Conv(64, 5),
            Pool("max", 3, 2),
            Conv(96, 3),
            Conv(96, 3),
            Conv(64, 3),
            Pool("max", 3, 2),
            Flatten(),
            Dropout(0.5),
            Dense(128),
            Dropout(0.5),
            Dense(128),
        ),
        "AlexNet in 1D, scaled to 20-day windows: five convs, three overlapping max pools, "
        "two dense layers of 128 with dropout 0.5, the head the third",
    ),
    # InceptionTime (Ismail Fawaz et al. 2020): six inception modules, a residual shortcut
    # around every three (a 1x1 conv where the channels change; theirs adds batch norm),
    # global average pooling. Kernels 40/20/10 -> 9/5/3 and 32 -> 16 filters per branch
    # for 20-day windows. Batch norm: trained one network at a time.
    "inception1d": (
        (
            Block(tuple(_inception_module() for _ in range(3)), "residual_1", "add", "relu"),
            Block(tuple(_inception_module() for _ in range(3)), "residual_2", "add", "relu"),
            GlobalAvgPool(),
        ),
        "InceptionTime: six inception modules (kernels 9, 5, 3 and max pooling beside a "
        "bottleneck), residual shortcuts every three, global average pooling",
    ),
    # Ronneberger, Fischer & Brox (2015) U-Net in 1D: two convs per resolution, max pool 2
    # down, an up-convolution (transposed conv 2, half the width) back up, the encoder's
    # features stacked beside the decoder's at each resolution (20 -> 10 -> 5 -> 10 -> 20).
    # Widths 16/32/64 (theirs 64 ... 1024, four levels). With a segmentation head it labels
    # every day of the window; with the others a global average pool comes first.
    "unet1d": (
        (
            Conv(16, 3),
            Conv(16, 3),
            _unet_level(32, (_unet_level(64, (), "level_2"),), "level_1"),
            Conv(16, 3),
            Conv(16, 3),
        ),
        "U-Net: an encoder-decoder over 20 -> 10 -> 5 days and back, with skip connections "
        "at each resolution; a per-day (segmentation) head or global average pooling",
    ),
    # Jiang, Kelly & Xiu (2023), Figure 3, for 5-day images (32 x 15): two blocks of 5x3
    # conv (64, 128 channels), batch norm, leaky ReLU, 2x1 max pool; flatten (128 x 8 x
    # 15), dropout 0.5, dense to the classes. All from the paper; 155,138 parameters with
    # 2 classes (the paper's count; tested against torch).
    "jkx5": (
        _jkx((64, 128)),
        "Jiang-Kelly-Xiu 5-day image CNN (32 x 15), as in the paper: 2 blocks of 5x3 conv, "
        "batch norm, leaky ReLU, 2x1 max pool (64, 128 channels), dropout 0.5, dense",
    ),
    # For 20-day images (64 x 60): three blocks (64, 128, 256), the first conv with stride
    # (3, 1), dilation (2, 1) and (12, 1) zeros; flatten 256 x 3 x 60 = 46,080, dropout 0.5,
    # dense. All from the paper; 708,866 parameters with 2 classes (tested against torch).
    "jkx20": (
        _jkx((64, 128, 256), _JKX20_FIRST),
        "Jiang-Kelly-Xiu 20-day image CNN (64 x 60), as in the paper: 3 blocks (64, 128, 256 "
        "channels), first conv stride (3, 1) dilation (2, 1), dropout 0.5, dense",
    ),
    # For 60-day images (96 x 180): four blocks (64, 128, 256, 512) from the paper. The
    # first conv's stride (3, 1), dilation (3, 1) and (12, 1) zeros (96 rows -> 36) follow a
    # public re-implementation, not a number we checked in the paper's text: verify before
    # quoting. Flatten 512 x 2 x 180, dropout 0.5, dense; 2,952,962 parameters with 2
    # classes (2,584,320 in the conv blocks, 368,642 in the head).
    "jkx60": (
        _jkx(
            (64, 128, 256, 512),
            Conv2d(64, (5, 3), stride=(3, 1), padding=(12, 1), dilation=(3, 1)),
        ),
        "Jiang-Kelly-Xiu 60-day image CNN (96 x 180): 4 blocks (64 ... 512 channels) from "
        "the paper; the first conv's stride (3, 1) / dilation (3, 1) from a re-implementation",
    ),
    # jkx20 scaled for 2 CPU cores: the paper's layout (first conv stride (3, 1), dilation
    # (2, 1); 5x3 convs, batch norm, leaky ReLU, 2x1 pools; dropout 0.5 before the dense
    # head) with 16x fewer channels (4, 8, 16 instead of 64, 128, 256): 8,306 parameters
    # with 2 classes (tested against torch), about 1/240 of jkx20's
    # multiply-adds (1.2 M vs 274 M per image).
    "jkx20_small": (
        _jkx((4, 8, 16), Conv2d(4, (5, 3), stride=(3, 1), padding=(12, 1), dilation=(2, 1))),
        "jkx20 scaled for 2 CPU cores: the paper's layout with 4, 8, 16 channels instead of "
        "64, 128, 256 (1/16), dropout 0.5, dense",
    ),
}


def preset(name: str, head: str = "classification", n_classes: int = 5) -> Architecture:
    """The named architecture with the given head; ``SpecError`` lists the valid names."""
    if name not in PRESETS:
        raise SpecError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    layers, _ = PRESETS[name]
    return Architecture(layers=layers, head=head, n_classes=n_classes, name=name)  # type: ignore[arg-type]


_MODEL_KEYS = ("preset", "layers", "head", "n_classes", "name")


def architecture_from_dict(d: Mapping[str, Any]) -> Architecture:
    """The architecture of an experiment file's ``[model]`` table.

    Either ``preset = "q10"`` or an explicit ``layers = [...]`` list (not both), plus
    optional ``head`` ("classification" or "regression"), ``n_classes`` and ``name``.
    """
    unknown = sorted(set(d) - set(_MODEL_KEYS))
    if unknown:
        raise SpecError(
            f"[model]: unknown key {unknown[0]!r}; valid keys: {', '.join(_MODEL_KEYS)}"
        )
    if (d.get("preset") is None) == (d.get("layers") is None):
        raise SpecError("[model]: give exactly one of 'preset' (a name) or 'layers' (a list)")
    head = d.get("head", "classification")
    if head not in HEADS:
        raise SpecError(f"[model]: head {head!r} is not valid; expected one of {', '.join(HEADS)}")
    n_classes = d.get("n_classes", 5)
    bad_type = isinstance(n_classes, bool) or not isinstance(n_classes, int)
    if bad_type or (head != "regression" and n_classes < 2):
        raise SpecError(f"[model]: n_classes {n_classes!r} is not valid; expected an integer >= 2")
    if d.get("preset") is not None:
        arch = preset(str(d["preset"]), head=head, n_classes=n_classes)
        return Architecture(arch.layers, head, n_classes, str(d.get("name", arch.name)))
    layers: Sequence[Mapping[str, Any]] = d["layers"]
    return Architecture(parse_layers(layers), head, n_classes, str(d.get("name", "custom")))


def architecture_for(model: ModelConfig, n_classes: int) -> Architecture:
    """The network of a validated ``[model]`` table, with the label's class count."""
    table = {k: v for k, v in model.model_dump().items() if v is not None}
    table["n_classes"] = n_classes
    if "layers" in table:
        table["layers"] = list(table["layers"])
    return architecture_from_dict(table)


__all__ = ["IMAGE_INPUTS", "PRESETS", "Q10", "architecture_for", "architecture_from_dict", "preset"]
