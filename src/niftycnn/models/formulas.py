"""Shape, parameter and receptive-field formulas for conv and pooling layers.

The arithmetic behind the architecture summary, as plain functions a reader can check
by hand (re-exported by ``niftycnn.models.summary``):

- output length: floor((L + 2p - d(k - 1) - 1) / s) + 1 (torch's Conv1d / pooling rule);
- parameters of a conv with C input channels and F filters of length k: F * (k * C + 1);
- receptive field, layer by layer: rf += (k - 1) * d * jump; jump *= s (rf = jump = 1 at
  the input), so L stacked stride-1 convs of size k see L(k - 1) + 1 input steps.

The 2D versions serve the textbook's image examples (32x32x1 -> conv 8@5x5 -> ...).
"""

from __future__ import annotations

from typing import Literal

Pair = int | tuple[int, int]


def conv_output_length(L: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output length of a conv or pool: floor((L + 2p - d(k - 1) - 1) / s) + 1."""
    return (L + 2 * p - d * (k - 1) - 1) // s + 1


def conv_params(C: int, F: int, k: int, bias: bool = True, groups: int = 1) -> int:
    """Parameters of a Conv1d, C -> F channels, kernel k: F * (k * C / groups + 1)."""
    return F * (k * (C // groups) + int(bias))


def receptive_field_step(rf: int, jump: int, k: int, s: int = 1, d: int = 1) -> tuple[int, int]:
    """(rf, jump) after one conv/pool layer: rf + (k - 1) * d * jump, jump * s."""
    return rf + (k - 1) * d * jump, jump * s


def _pair(x: Pair) -> tuple[int, int]:
    return (x, x) if isinstance(x, int) else (int(x[0]), int(x[1]))


def conv2d_output_shape(
    h: int,
    w: int,
    kernel: Pair,
    stride: Pair = 1,
    padding: Pair | Literal["same", "valid"] = 0,
    dilation: Pair = 1,
) -> tuple[int, int]:
    """(height, width) after a Conv2d; ``padding="same"`` keeps ceil(size / stride)."""
    (kh, kw), (sh, sw), (dh, dw) = _pair(kernel), _pair(stride), _pair(dilation)
    if padding == "same":
        return -(-h // sh), -(-w // sw)
    ph, pw = (0, 0) if padding == "valid" else _pair(padding)
    return conv_output_length(h, kh, sh, ph, dh), conv_output_length(w, kw, sw, pw, dw)


def conv2d_params(C: int, F: int, kernel: Pair, bias: bool = True) -> int:
    """Parameters of a Conv2d, C -> F channels: F * (kh * kw * C + 1)."""
    kh, kw = _pair(kernel)
    return F * (kh * kw * C + int(bias))


def pool2d_output_shape(h: int, w: int, size: Pair, stride: Pair | None = None) -> tuple[int, int]:
    """(height, width) after a 2D max/avg pool; ``stride`` defaults to ``size``."""
    (kh, kw) = _pair(size)
    (sh, sw) = _pair(stride) if stride is not None else (kh, kw)
    return conv_output_length(h, kh, sh), conv_output_length(w, kw, sw)


def dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Parameters of a fully connected layer: n_out * (n_in + 1)."""
    return n_out * (n_in + int(bias))
