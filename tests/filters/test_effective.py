"""Effective kernels: the chain through the window normalisation, hand-checked; a network
that *is* the planted rule gets the planted kernel back; the tests are calibrated."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from niftycnn.data import pattern_kernel, synthetic_ohlcv
from niftycnn.filters.effective import FoldWindows, Readout, chain_to_raw, fold_kernels
from niftycnn.filters.kernel_tests import (
    holm,
    kernel_references,
    kernel_summary,
    kernel_verdict,
    replicate_p,
)
from niftycnn.filters.similarity import make_views, view_taps
from niftycnn.windows.windows import normalize_windows, raw_windows

FEATURES = ("open", "high", "low", "close", "volume")


@pytest.fixture(scope="module")
def raw() -> tuple[np.ndarray, np.ndarray]:
    frame = synthetic_ohlcv(200, 3, pattern="none")
    R, last, _ = raw_windows(frame, 20, FEATURES)
    return R[-40:], last[-40:]


def test_chain_through_the_last_close_and_the_volume_zscore_is_exact(raw):
    """A gradient g on the normalised window maps to: price channels 100 g (log changes
    are in percent) except the close's last day, which collects 100 (g_close[L] - every
    price channel's taps summed);
    volume (z-scored log volume, population sd s over the window, z its values):
    (g - mean(g) - z * mean(g z)) / s. Hand-derived, checked to 1e-7."""
    R, last = raw
    rng = np.random.default_rng(0)
    g = rng.normal(size=R.shape)
    out = chain_to_raw(g, R, last, FEATURES)
    expected = g.copy()
    expected[:, :4] *= 100
    expected[:, 3, -1] = 100 * (g[:, 3, -1] - g[:, :4].sum(axis=(1, 2)))
    u = np.log1p(R[:, 4])
    z = (u - u.mean(1, keepdims=True)) / u.std(1, keepdims=True)
    gv = g[:, 4]
    expected[:, 4] = (gv - gv.mean(1, keepdims=True) - z * (gv * z).mean(1, keepdims=True)) / u.std(
        1, keepdims=True
    )
    # d/d log volume = (v / (1 + v)) d/d log1p(v); v ~ 1e8, so equal to ~1e-8
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-5)
    # the price path is shift-invariant: the summed price kernel sums to zero
    price = view_taps(out, make_views(FEATURES))[:, -1]
    np.testing.assert_allclose(price.sum(-1), 0.0, atol=1e-5)


class _Rule(nn.Module):
    """The planted rule as a network: logits (-s, s) with s = w . last k closes."""

    def __init__(self, kernel: np.ndarray, channel: int) -> None:
        super().__init__()
        self.w = torch.as_tensor(kernel, dtype=torch.float32)
        self.channel = channel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = 50.0 * (x[:, self.channel, -len(self.w) :] * self.w).sum(-1)
        return torch.stack([-s, s], dim=-1)


@pytest.mark.parametrize(("pattern", "k"), [("momentum", 5), ("curvature", 5), ("momentum", 20)])
def test_a_network_that_is_the_planted_rule_has_the_planted_kernel(raw, pattern, k):
    R, last = raw
    X = normalize_windows(R, last, FEATURES).astype(np.float32)
    kernel = pattern_kernel(pattern, k)
    windows = FoldWindows(0, X, R, last, Readout("classification", np.array([-0.01, 0.01])))
    learned = fold_kernels([_Rule(kernel, 3)], windows, FEATURES)  # (1, C, L)
    views = make_views(FEATURES)
    price = view_taps(learned, views)[0, -1]
    expected = np.zeros(20)
    expected[-k:] = kernel
    cos = price @ expected / np.linalg.norm(price) / np.linalg.norm(expected)
    assert cos > 0.999
    # and the verdict names it, against untrained-like noise kernels
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(40, 5, 20))
    learned_many = view_taps(
        np.repeat(learned, 12, 0) + 0.2 * noise[:12] * np.abs(learned).max(), views
    )
    refs = kernel_references(20, (3, 5, 20), kernel)
    summary = kernel_summary(
        learned_many, views.names, refs, untrained=view_taps(noise, views), n_resamples=20_000
    )
    found = kernel_verdict(summary, "close", alpha=0.05)
    assert (found["pattern"], found["span"], found["view"]) == (pattern, k, "price")
    assert found["p"] < 0.01 and found["sign"] == 1


def test_replicate_test_is_calibrated_and_has_power():
    """One run against K = 10 null replicates of the same law: p <= 0.05 about 5 % of the
    time; a run 4 sd away is found at p < 0.01."""
    rng = np.random.default_rng(0)
    p = replicate_p(rng.normal(size=(2000,)), rng.normal(size=(10, 2000)))
    assert 0.035 <= np.mean(p <= 0.05) <= 0.065
    assert replicate_p(np.array([4.0]), rng.normal(size=(10, 1)))[0] < 0.01


def test_holm_and_references_by_hand():
    np.testing.assert_allclose(
        holm(np.array([0.01, 0.04, 0.03, np.nan])), [0.03, 0.06, 0.06, np.nan]
    )
    refs = kernel_references(20, (3, 5, 20), pattern_kernel("curvature", 4))
    assert set(refs) == {(n, s) for n in ("level", "momentum", "curvature") for s in (3, 5, 20)} | {
        ("planted", 4)
    }
    for ref in refs.values():
        assert np.linalg.norm(ref) == pytest.approx(1.0)
    assert not refs[("momentum", 5)][:-5].any()
    np.testing.assert_allclose(
        refs[("momentum", 5)][-5:], [-2, -1, 0, 1, 2] / np.sqrt(10), atol=1e-12
    )


def test_a_null_of_one_shape_with_random_sign_and_small_size_is_told_apart():
    """What the offline default showed: networks trained on shuffled labels all reach one
    kernel shape (|cosine| 0.7 with momentum) with a random sign and a twentieth of the
    learned size. The response test tells the learned kernel from them (a cosine test
    gave p = 0.2 there); a channel louder only because the whole network is louder, with
    no shape, is not named (``min_effect``)."""
    rng = np.random.default_rng(3)
    refs = kernel_references(20, (3, 5, 20))
    shape = refs[("momentum", 5)]
    learned = np.stack(
        [
            np.stack([shape + 0.1 * rng.normal(size=20), 0.05 * rng.normal(size=20)])
            for _ in range(8)
        ]
    )  # (M, V = close, volume, L)
    signs = rng.choice([-1.0, 1.0], size=(10, 4, 1))
    shuffled = np.stack(
        [
            signs * 0.05 * (shape + 0.1 * rng.normal(size=(10, 4, 20))),
            0.005 * rng.normal(size=(10, 4, 20)),
        ],
        axis=2,
    )  # (K, F, V, L)
    summary = kernel_summary(
        learned, ("close", "volume"), refs, replicate=learned[:4], shuffled=shuffled
    )
    close = kernel_verdict(summary, "close", alpha=0.05)
    assert (close["pattern"], close["span"], close["null"]) == ("momentum", 5, "shuffled")
    assert close["p"] < 0.01 and close["sign"] == 1
    volume = kernel_verdict(summary, "volume", alpha=0.05)
    assert volume["pattern"] == "neither"
    row = summary[(summary.channel == "close") & (summary.reference == "momentum")]
    assert (row.response_learned > 10 * row.response_shuffled.abs()).all()
