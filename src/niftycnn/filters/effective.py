"""Whole-network effective kernels: the linear pattern a trained network responds to.

First-layer filters need not look like momentum even when the network has learned it (a
window-long trend can be read by averaging many local shapes), so the network is also
read as a whole. For a network f and a test window x (C channels x L days, normalised as
for training), take the gradient of f's *predicted expected return* with respect to x:

- classification: sum_k softmax(f(x))_k * m_k, with m_k the fold's mean training return
  of class k (what the walk-forward turns probabilities into, ``r_pred``);
- regression: f(x) times the fold's target standard deviation.

The gradient is computed with captum's ``Saliency`` (signed, ``abs=False``). It is then
chained through the window normalisation (``niftycnn.windows.normalize_windows``) onto
each channel's raw series, so that it compares directly with a kernel applied to log
prices: windows are measured from their last close, so the normalised last close is a
constant 0 and the raw-series kernel differs from the normalised one (its last tap
collects minus the sum of every price channel's gradient). The chain is a central finite
difference through the one normalisation function (no second copy of it), on the
log-domain series: log prices (additive), volume as log volume (multiplicative; a zero,
i.e. missing, volume stays zero), returns and range (additive). Averaged over a fold's
test windows, the result is an L-tap *effective kernel* per channel for each model.

Why not integrated gradients (also in captum): IG attributes the output to the inputs
(gradient x displacement from a baseline window); an attribution is not a kernel that can
be compared with a momentum filter, the local linear response is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from niftycnn.windows.windows import FEATURES, normalize_windows

EPS = 1e-5  # finite-difference step on the log-domain raw series


@dataclass(frozen=True)
class Readout:
    """How one fold turns a network's output into an expected return."""

    head: str  # "classification" or "regression"
    class_means: np.ndarray  # (K,) mean training return per class (classification)
    target_std: float = 1.0  # regression: r = mean + std * output

    def function(self, network: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        """x (N, C, L) -> predicted expected return (N,)."""
        if self.head == "classification":
            means = torch.as_tensor(self.class_means, dtype=torch.float32)
            return lambda x: network(x).softmax(-1) @ means
        return lambda x: network(x)[:, 0] * self.target_std


@contextmanager
def _one_thread() -> Iterator[None]:
    """One intra-op thread while differentiating tiny networks: measured on 2 busy cores,
    a q10 gradient on 63 windows took 128 ms with 2 threads and 4 ms with 1 (thread
    wake-ups dominate such small ops). The previous setting is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def input_gradients(network: nn.Module, readout: Readout, X: np.ndarray) -> np.ndarray:
    """d E[r | x] / dx for every window of X (N, C, L): captum Saliency, signed."""
    from captum.attr import Saliency

    network = network.eval()
    x = torch.as_tensor(X, dtype=torch.float32).clone().requires_grad_(True)
    with _one_thread():
        grad = Saliency(readout.function(network)).attribute(x, abs=False)
    return grad.detach().numpy().astype(np.float64)


def _perturb(
    R: np.ndarray, last_close: np.ndarray, features: Sequence[str], c: int, j: int, h: float
) -> tuple[np.ndarray, np.ndarray]:
    """R with channel c's day j moved by h in its log domain (and the last close with it)."""
    out, lc = R.copy(), last_close
    if FEATURES[features[c]].scaling == "zscore_nonzero":
        out[:, c, j] *= np.exp(h)  # log volume + h; a missing (zero) day stays missing
    else:
        out[:, c, j] += h
    if features[c] == "close" and j == R.shape[-1] - 1:
        lc = last_close + h  # price channels are measured from this close
    return out, lc


def chain_to_raw(
    grads: np.ndarray, R: np.ndarray, last_close: np.ndarray, features: Sequence[str]
) -> np.ndarray:
    """Gradients w.r.t. the normalised windows, (..., N, C, L), as gradients w.r.t. each
    channel's raw log-domain series (same shape), window by window (module docstring)."""
    features = tuple(features)
    c_count, length = R.shape[1:]
    out = np.zeros_like(grads)
    for c in range(c_count):
        for j in range(length):
            r_up, lc_up = _perturb(R, last_close, features, c, j, EPS)
            r_down, lc_down = _perturb(R, last_close, features, c, j, -EPS)
            up = normalize_windows(r_up, lc_up, features)
            down = normalize_windows(r_down, lc_down, features)
            d = (up - down) / (2 * EPS)  # dX / dR[:, c, j], (N, C, L)
            out[..., c, j] = np.einsum("...ncl,ncl->...n", grads, d)
    return out


@dataclass(frozen=True)
class FoldWindows:
    """One fold's test windows: normalised X (float32, as trained), their raw series and
    last log close, and the fold's readout."""

    fold: int
    X: np.ndarray
    R: np.ndarray
    last_close: np.ndarray
    readout: Readout


def fold_kernels(
    networks: Sequence[nn.Module], windows: FoldWindows, features: Sequence[str]
) -> np.ndarray:
    """(len(networks), C, L) effective kernels of one fold's networks on its test windows."""
    return _kernels([networks], [windows], features)[0]


def _kernels(
    networks: Sequence[Sequence[nn.Module]],
    windows: Sequence[FoldWindows],
    features: Sequence[str],
) -> list[np.ndarray]:
    """Each fold's (len(networks), C, L) kernels; folds with as many networks share one
    chain through the normalisation (it is window by window, so the folds' windows are
    stacked: one finite-difference pass instead of one per fold)."""
    grads = [
        np.stack([input_gradients(net, w.readout, w.X) for net in nets])
        for nets, w in zip(networks, windows, strict=True)
    ]
    out: list[np.ndarray] = [np.empty(0)] * len(grads)
    by_size: dict[int, list[int]] = {}
    for i, g in enumerate(grads):
        by_size.setdefault(len(g), []).append(i)
    for members in by_size.values():
        raw = chain_to_raw(
            np.concatenate([grads[i] for i in members], axis=1),
            np.concatenate([windows[i].R for i in members]),
            np.concatenate([windows[i].last_close for i in members]),
            features,
        )
        bounds = np.cumsum([0, *(len(windows[i].X) for i in members)])
        for j, i in enumerate(members):
            out[i] = raw[:, bounds[j] : bounds[j + 1]].mean(axis=1)
    return out


def effective_kernels(
    networks_by_fold: Mapping[int, Sequence[nn.Module]],
    windows: Sequence[FoldWindows],
    features: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Kernels of every (fold, network) pair, (M, C, L), and their (fold, member) index
    (M, 2); folds without windows or networks are skipped."""
    used = [w for w in windows if len(networks_by_fold.get(w.fold, ())) and len(w.X)]
    if not used:
        return np.zeros((0, len(features), 0)), np.zeros((0, 2), dtype=np.int64)
    nets = [networks_by_fold[w.fold] for w in used]
    kernels = _kernels(nets, used, features)
    index = [(w.fold, s) for w, n in zip(used, nets, strict=True) for s in range(len(n))]
    return np.concatenate(kernels), np.asarray(index, dtype=np.int64)
